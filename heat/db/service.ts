/**
 * `service list` / `service clean` (heat/common/service_utils.py, Heat 6.0.0):
 * the rows of `service` not soft-deleted, ordered by id, each `up` when
 * `now - (updated_at ?? created_at) <= report_interval` seconds (the row's own column), else `down`.
 */
import type { Logger } from '../../migrate/script/contract.js';
import { fromDb, sqlText, US_PER_S, type Micros } from '../common/timeutils.js';
import type { HeatDb } from './datasource.js';

export interface ServiceStatus {
  readonly id: string;
  readonly hostname: string;
  readonly binary: string;
  readonly engine_id: string;
  readonly host: string;
  readonly topic: string;
  readonly status: 'up' | 'down';
  /** The stored `updated_at` (null when NULL), parsed. */
  readonly updatedAt: Micros | null;
  /** `updated_at` exactly as the database returned it (for the guarded clean). */
  readonly updatedAtRaw: string | null;
}

/** Heat's rule; both timestamps NULL is `down` (Heat crashes there). */
export function serviceStatus(now: Micros, reportIntervalS: number, updatedAt: Micros | null, createdAt: Micros | null): 'up' | 'down' {
  const seen = updatedAt ?? createdAt;
  if (seen === null) return 'down';
  return now - seen <= BigInt(reportIntervalS) * US_PER_S ? 'up' : 'down';
}

export async function listServices(db: HeatDb, now: Micros): Promise<ServiceStatus[]> {
  const rows = await db.ds
    .getRepository('Service')
    .createQueryBuilder('s')
    .select(['s.id AS id', 's.hostname AS hostname', 's.binary AS "binary"', 's.engine_id AS engine_id', 's.host AS host', 's.topic AS topic'])
    .addSelect(['s.report_interval AS report_interval', 's.created_at AS created_at', 's.updated_at AS updated_at'])
    .where('s.deleted_at IS NULL')
    .orderBy('s.id')
    .getRawMany<Record<string, unknown>>();
  return rows.map((r) => {
    const updatedAt = fromDb(r.updated_at);
    return {
      id: String(r.id),
      hostname: String(r.hostname),
      binary: String(r.binary),
      engine_id: String(r.engine_id),
      host: String(r.host),
      topic: String(r.topic),
      status: serviceStatus(now, Number(r.report_interval), updatedAt, fromDb(r.created_at)),
      updatedAt,
      updatedAtRaw: r.updated_at === null || r.updated_at === undefined ? null : String(r.updated_at),
    };
  });
}

/**
 * Soft-deletes the services that are down (`deleted_at = updated_at = now`), each guarded so that
 * an engine that reported since we read it is left alone. Returns the services cleaned.
 */
export async function cleanServices(db: HeatDb, now: Micros, logger: Logger): Promise<ServiceStatus[]> {
  const cleaned: ServiceStatus[] = [];
  for (const s of await listServices(db, now)) {
    if (s.status !== 'down') continue;
    const q = db.ds
      .createQueryBuilder()
      .update('Service')
      // Timestamps as bound text (a function value skips TypeORM's conversion through a local Date).
      .set({ deleted_at: () => ':now', updated_at: () => ':now' })
      .where('id = :id', { id: s.id })
      .andWhere('deleted_at IS NULL')
      .andWhere(s.updatedAtRaw === null ? 'updated_at IS NULL' : 'updated_at = :old', { old: s.updatedAtRaw })
      .setParameter('now', sqlText(now));
    const r = await q.execute();
    if ((r.affected ?? 0) > 0) {
      cleaned.push(s);
      logger.info({ service: s.id, engine: s.engine_id, host: s.hostname }, `removed dead engine ${s.engine_id} on ${s.hostname} (service ${s.id})`);
    } else {
      logger.info({ service: s.id }, `service ${s.id} changed since it was read (it reported again): left alone`);
    }
  }
  return cleaned;
}
