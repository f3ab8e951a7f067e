/**
 * `purge_deleted`: deletes the stacks soft-deleted before a time line, everything that belongs to
 * them, the templates and credentials nothing else uses any more, and the expired services.
 *
 *   const r = await purgeDeleted(db, { timeLine, batchSize: 20, logger });  // rows deleted per table
 *   const n = await purgeDryRun(db, { timeLine });                          // what it would delete
 *
 * How (SPEC §2.3-2.6):
 * - S = every stack with `deleted_at < timeLine` (and `tenant = projectId`), ownership ignored.
 * - S is cut into batches of about `batchSize` stacks, one transaction each. Stacks that share a
 *   template or credentials, or whose resources point (current_template_id) at another's template,
 *   go into the same batch (connected components), so that after each committed batch every
 *   remaining reference to a kept candidate comes from a stack or resource outside S: the end
 *   state is the same for any batch size, and after a kill -9 (committed batches done, the rest
 *   untouched) a re-run computes the same batches for what is left.
 * - The keep rules are inside the DELETE (`NOT EXISTS`), so a reference that a running engine
 *   commits meanwhile is honoured.
 * - Deadlocks and lock-wait timeouts roll the batch back and retry it (0.5 s, 1 s, 2 s).
 */
import type { EntityManager, QueryRunner } from 'typeorm';
import type { Logger } from '../../migrate/script/contract.js';
import { sqlText, type Micros } from '../common/timeutils.js';
import type { HeatDb } from './datasource.js';

/** The tables purge_deleted deletes from, in the order `--dry-run` prints them. */
export const PURGE_TABLES = [
  'stack',
  'stack_lock',
  'stack_tag',
  'resource',
  'resource_data',
  'event',
  'sync_point',
  'snapshot',
  'watch_rule',
  'watch_data',
  'raw_template',
  'user_creds',
  'service',
] as const;
export type PurgeTable = (typeof PURGE_TABLES)[number];
export type PurgeCounts = Record<PurgeTable, number>;

export interface PurgeOptions {
  readonly timeLine: Micros;
  readonly projectId?: string;
  /** Stacks per transaction (a batch may be larger to keep a component together). */
  readonly batchSize?: number;
  readonly logger?: Logger;
  /** Between retries of a batch (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 200;
const RETRY_DELAYS_MS = [500, 1000, 2000];

const zero = (): PurgeCounts => Object.fromEntries(PURGE_TABLES.map((t) => [t, 0])) as PurgeCounts;

interface ExpiredStack {
  readonly id: string;
  readonly templates: number[];
  readonly creds: number | null;
}

/** The expired stacks' filter, as a WHERE clause on alias `s`. */
function expiredWhere(o: PurgeOptions): [string, Record<string, unknown>] {
  const params: Record<string, unknown> = { timeLine: sqlText(o.timeLine) };
  let where = 's.deleted_at < :timeLine';
  if (o.projectId !== undefined) {
    where += ' AND s.tenant = :projectId';
    params.projectId = o.projectId;
  }
  return [where, params];
}

async function expiredStacks(m: EntityManager, o: PurgeOptions): Promise<{ stacks: ExpiredStack[]; links: [string, number][] }> {
  const [where, params] = expiredWhere(o);
  const rows = await m
    .createQueryBuilder()
    .select(['s.id AS id', 's.raw_template_id AS raw', 's.prev_raw_template_id AS prev', 's.user_creds_id AS creds'])
    .from('Stack', 's')
    .where(where, params)
    .orderBy('s.id')
    .getRawMany<{ id: string; raw: number | string | null; prev: number | string | null; creds: number | string | null }>();
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  const stacks = rows.map((r) => ({
    id: String(r.id),
    templates: [num(r.raw), num(r.prev)].filter((t): t is number => t !== null),
    creds: num(r.creds),
  }));
  // Resources of expired stacks that point at a template: they tie their stack to that template.
  const links = await m
    .createQueryBuilder()
    .select(['DISTINCT r.stack_id AS stack_id', 'r.current_template_id AS tid'])
    .from('Resource', 'r')
    .innerJoin('Stack', 's', 's.id = r.stack_id')
    .where(where, params)
    .andWhere('r.current_template_id IS NOT NULL')
    .getRawMany<{ stack_id: string; tid: number | string }>();
  return { stacks, links: links.map((l) => [String(l.stack_id), Number(l.tid)]) };
}

/** Batches of whole components of stacks that share a template or credentials (see module doc). */
export function planBatches(stacks: readonly ExpiredStack[], links: readonly [string, number][], batchSize: number): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    for (let y = x; parent.get(y) !== r; ) {
      const n = parent.get(y)!;
      parent.set(y, r);
      y = n;
    }
    return r;
  };
  const node = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
    return x;
  };
  const union = (a: string, b: string) => {
    const ra = find(node(a));
    const rb = find(node(b));
    if (ra !== rb) parent.set(rb, ra);
  };
  const candidates = new Set<number>();
  for (const s of stacks) {
    node(`s:${s.id}`);
    for (const t of s.templates) {
      candidates.add(t);
      union(`s:${s.id}`, `t:${t}`);
    }
    if (s.creds !== null) union(`s:${s.id}`, `c:${s.creds}`);
  }
  for (const [sid, t] of links) if (candidates.has(t) && parent.has(`s:${sid}`)) union(`s:${sid}`, `t:${t}`);
  const components = new Map<string, string[]>();
  for (const s of stacks) {
    const r = find(`s:${s.id}`);
    const c = components.get(r);
    if (c) c.push(s.id);
    else components.set(r, [s.id]);
  }
  const batches: string[][] = [];
  let cur: string[] = [];
  for (const c of components.values()) {
    cur.push(...c);
    if (cur.length >= batchSize) {
      batches.push(cur);
      cur = [];
    }
  }
  if (cur.length) batches.push(cur);
  return batches;
}

function isRetryable(e: unknown): boolean {
  const err = e as { errno?: number; code?: string; driverError?: { errno?: number; code?: string } };
  const errno = err.errno ?? err.driverError?.errno;
  const code = err.code ?? err.driverError?.code;
  return errno === 1213 || errno === 1205 || code === '40P01' || code === '55P03' || code === '40001' || code === 'SQLITE_BUSY';
}

const CHUNK = 2000;

interface Found {
  t: string;
  id: string;
  a: number | null;
  b: number | null;
  c: number | null;
}

/**
 * Everything a batch deletes, found in one round trip: the stacks (with their template and
 * credential ids) and the keys of their child rows. Plain reads: no row locks.
 * Raw SQL because TypeORM's QueryBuilder has no UNION; the driver's own placeholders are made by
 * TypeORM (escapeQueryWithParameters).
 */
async function batchRows(m: EntityManager, stackIds: string[]): Promise<Found[]> {
  const text = m.connection.driver.options.type === 'mysql' ? 'CHAR' : 'TEXT';
  const k = (col: string) => `CAST(${col} AS ${text})`;
  const child = (t: string, key: string, from: string, where: string) => `SELECT '${t}' AS t, ${k(key)} AS id, NULL AS a, NULL AS b, NULL AS c FROM ${from} WHERE ${where} IN (:...ids)`;
  const sql = [
    'SELECT \'stack\' AS t, s.id AS id, s.raw_template_id AS a, s.prev_raw_template_id AS b, s.user_creds_id AS c FROM stack s WHERE s.id IN (:...ids)',
    child('resource', 'x.id', 'resource x', 'x.stack_id'),
    child('resource_data', 'd.id', 'resource_data d INNER JOIN resource x ON x.id = d.resource_id', 'x.stack_id'),
    child('event', 'x.id', 'event x', 'x.stack_id'),
    child('snapshot', 'x.id', 'snapshot x', 'x.stack_id'),
    child('stack_tag', 'x.id', 'stack_tag x', 'x.stack_id'),
    child('stack_lock', 'x.stack_id', 'stack_lock x', 'x.stack_id'),
    child('sync_point', 'x.stack_id', 'sync_point x', 'x.stack_id'),
    child('watch_rule', 'x.id', 'watch_rule x', 'x.stack_id'),
    child('watch_data', 'd.id', 'watch_data d INNER JOIN watch_rule x ON x.id = d.watch_rule_id', 'x.stack_id'),
  ].join(' UNION ALL ');
  const out: Found[] = [];
  for (let i = 0; i < stackIds.length; i += CHUNK) {
    const [q, params] = m.connection.driver.escapeQueryWithParameters(sql, { ids: stackIds.slice(i, i + CHUNK) });
    const rows = (await m.query(q, params)) as { t: string; id: unknown; a: unknown; b: unknown; c: unknown }[];
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    for (const r of rows) out.push({ t: String(r.t), id: String(r.id), a: num(r.a), b: num(r.b), c: num(r.c) });
  }
  return out;
}

/**
 * Deletes one batch of stacks and what becomes unreferenced; returns the rows deleted per table.
 * The child rows are found with plain (non-locking) reads and deleted by primary key: a DELETE by
 * `stack_id` may scan the table and wait on the rows a running engine holds (on MariaDB that made
 * the engine's transaction a deadlock victim, which no retry on our side can prevent).
 */
async function deleteBatch(m: EntityManager, stackIds: string[], timeLine: string): Promise<PurgeCounts> {
  const n = zero();
  const del = async (table: PurgeTable, entity: string, col: string, values: readonly unknown[], extra = '', params: Record<string, unknown> = {}) => {
    for (let i = 0; i < values.length; i += CHUNK) {
      const r = await m
        .createQueryBuilder()
        .delete()
        .from(entity)
        .where(`${col} IN (:...values)${extra}`, { values: values.slice(i, i + CHUNK), ...params })
        .execute();
      n[table] += r.affected ?? 0;
    }
  };
  const found = await batchRows(m, stackIds);
  const ids = (t: string) => found.filter((r) => r.t === t).map((r) => r.id);
  const stacks = found.filter((r) => r.t === 'stack');
  const templates = [...new Set(stacks.flatMap((r) => [r.a, r.b]).filter((x) => x !== null).map(Number))];
  const creds = [...new Set(stacks.map((r) => r.c).filter((x) => x !== null).map(Number))];

  await del('resource_data', 'ResourceData', 'id', ids('resource_data'));
  await del('watch_data', 'WatchData', 'id', ids('watch_data'));
  await del('watch_rule', 'WatchRule', 'id', ids('watch_rule'));
  await del('snapshot', 'Snapshot', 'id', ids('snapshot'));
  await del('stack_lock', 'StackLock', 'stack_id', ids('stack_lock'));
  await del('stack_tag', 'StackTag', 'id', ids('stack_tag'));
  await del('event', 'Event', 'id', ids('event'));
  // sync_point has a composite key; it is small and short-lived, so by stack_id.
  await del('sync_point', 'SyncPoint', 'stack_id', [...new Set(ids('sync_point'))]);
  await del('resource', 'Resource', 'id', ids('resource'));
  // Re-checked: a stack restored meanwhile is not deleted (its children are, in this transaction,
  // so the foreign keys roll the batch back instead: nothing is lost).
  await del('stack', 'Stack', 'id', stackIds, ' AND deleted_at < :timeLine', { timeLine });
  // The keep rules inside the DELETE: a reference committed meanwhile by an engine is honoured.
  await del(
    'raw_template',
    'RawTemplate',
    'id',
    templates,
    ' AND NOT EXISTS (SELECT 1 FROM stack s1 WHERE s1.raw_template_id = raw_template.id)' +
      ' AND NOT EXISTS (SELECT 1 FROM stack s2 WHERE s2.prev_raw_template_id = raw_template.id)' +
      ' AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.current_template_id = raw_template.id)',
  );
  await del('user_creds', 'UserCreds', 'id', creds, ' AND NOT EXISTS (SELECT 1 FROM stack s WHERE s.user_creds_id = user_creds.id)');
  return n;
}

async function inTransaction<T>(db: HeatDb, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  const qr: QueryRunner = db.ds.createQueryRunner();
  try {
    await qr.connect();
    // READ COMMITTED on MySQL: no gap locks on the indexes we scan, so a running engine inserting
    // events or resources next to the purged ids is not blocked (nor made a deadlock victim).
    await qr.startTransaction(db.dialect === 'mysql' ? 'READ COMMITTED' : undefined);
    try {
      const r = await fn(qr.manager);
      await qr.commitTransaction();
      return r;
    } catch (e) {
      await qr.rollbackTransaction().catch(() => undefined);
      throw e;
    }
  } finally {
    await qr.release();
  }
}

export async function purgeDeleted(db: HeatDb, o: PurgeOptions): Promise<PurgeCounts> {
  const total = zero();
  const timeLine = sqlText(o.timeLine);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // Services first, in their own statement (as Heat 8+): always, also under -p.
  const sr = await db.ds.createQueryBuilder().delete().from('Service').where('deleted_at < :timeLine', { timeLine }).execute();
  total.service = sr.affected ?? 0;

  const { stacks, links } = await expiredStacks(db.ds.manager, o);
  const batches = planBatches(stacks, links, o.batchSize ?? DEFAULT_BATCH_SIZE);
  o.logger?.info({ stacks: stacks.length, batches: batches.length, timeLine }, `purging ${stacks.length} stacks deleted before ${timeLine} in ${batches.length} batches`);
  let lastLog = performance.now();
  for (let b = 0; b < batches.length; b++) {
    for (let attempt = 0; ; attempt++) {
      try {
        const n = await inTransaction(db, (m) => deleteBatch(m, batches[b]!, timeLine));
        for (const t of PURGE_TABLES) total[t] += n[t];
        break;
      } catch (e) {
        if (!isRetryable(e) || attempt >= RETRY_DELAYS_MS.length) throw e;
        const ms = RETRY_DELAYS_MS[attempt]!;
        o.logger?.warn({ batch: b + 1, attempt: attempt + 1 }, `batch ${b + 1} of ${batches.length} hit a deadlock or lock wait (${(e as Error).message.split('\n')[0]}); retrying in ${ms} ms`);
        await sleep(ms);
      }
    }
    if (b === 0 || b === batches.length - 1 || performance.now() - lastLog >= 1000) {
      lastLog = performance.now();
      o.logger?.info({ batch: b + 1, batches: batches.length }, `purge_deleted: batch ${b + 1} of ${batches.length} committed`);
    }
  }
  return total;
}

/** What {@link purgeDeleted} would delete now, per table; changes nothing. */
export async function purgeDryRun(db: HeatDb, o: PurgeOptions): Promise<PurgeCounts> {
  const [where, params] = expiredWhere(o);
  const m = db.ds.manager;
  const expired = () => m.createQueryBuilder().subQuery().select('s.id').from('Stack', 's').where(where).getQuery();
  const count = async (entity: string, alias: string, cond: string): Promise<number> => {
    const r = await m.createQueryBuilder().select('COUNT(*)', 'n').from(entity, alias).where(cond, params).getRawOne<{ n: number | string }>();
    return Number(r?.n ?? 0);
  };
  const n = zero();
  n.stack = await count('Stack', 's', where);
  for (const [t, e] of [['stack_lock', 'StackLock'], ['stack_tag', 'StackTag'], ['resource', 'Resource'], ['event', 'Event'], ['sync_point', 'SyncPoint'], ['snapshot', 'Snapshot'], ['watch_rule', 'WatchRule']] as const) {
    n[t] = await count(e, 'x', `x.stack_id IN ${expired()}`);
  }
  n.resource_data = await count('ResourceData', 'd', `d.resource_id IN (SELECT r.id FROM resource r WHERE r.stack_id IN ${expired()})`);
  n.watch_data = await count('WatchData', 'd', `d.watch_rule_id IN (SELECT w.id FROM watch_rule w WHERE w.stack_id IN ${expired()})`);
  // A candidate goes unless a stack outside S, or a resource of such a stack, references it.
  const outside = `NOT IN ${expired()}`;
  n.raw_template = await count(
    'RawTemplate',
    't',
    `(t.id IN (SELECT s.raw_template_id FROM stack s WHERE ${where}) OR t.id IN (SELECT s.prev_raw_template_id FROM stack s WHERE ${where} AND s.prev_raw_template_id IS NOT NULL))` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k1 WHERE k1.raw_template_id = t.id AND k1.id ${outside})` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k2 WHERE k2.prev_raw_template_id = t.id AND k2.id ${outside})` +
      ` AND NOT EXISTS (SELECT 1 FROM resource k3 WHERE k3.current_template_id = t.id AND k3.stack_id ${outside})`,
  );
  n.user_creds = await count(
    'UserCreds',
    'c',
    `c.id IN (SELECT s.user_creds_id FROM stack s WHERE ${where} AND s.user_creds_id IS NOT NULL)` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k WHERE k.user_creds_id = c.id AND k.id ${outside})`,
  );
  n.service = await count('Service', 'v', 'v.deleted_at < :timeLine');
  return n;
}
