/**
 * The management commands (purge_deleted, update_params, resource_data_list, service) at the CLI
 * edge: check their arguments, open the TypeORM data layer, check the schema version, run, print.
 * Loaded only when one of them runs (TypeORM costs start-up time that db_sync does not pay).
 */
import { UsageError } from '../../migrate/errors.js';
import type { Logger } from '../../migrate/script/contract.js';
import type { HeatConfig } from '../config/index.js';
import { MIN_MICROS, pyText, resolveNow, sqlText, US_PER_S, type Micros } from '../common/timeutils.js';
import type { Session } from '../../migrate/session.js';
import { checkSchemaVersion, openHeatDb, openHeatSession, type HeatDb } from '../db/datasource.js';
import { HeatError } from '../db/migration.js';
import { DEFAULT_BATCH_SIZE, PURGE_TABLES, purgeDeleted, purgeDryRun } from '../db/purge.js';
import { resourceDataList } from '../db/resource-data.js';
import { cleanServices, listServices } from '../db/service.js';
import { updateParams } from '../db/params.js';
import type { ManagementCommand, Parsed } from './grammar.js';

export interface CommandContext {
  readonly cfg: HeatConfig;
  readonly logger: Logger;
  readonly io: { readonly out: (s: string) => void };
}

/** Python's `"%-Ns" % s`: pads to N code points, never truncates; NULL prints as None. */
export function pad(v: string | null | undefined, n: number): string {
  const s = v === null || v === undefined ? 'None' : v;
  return s + ' '.repeat(Math.max(0, n - [...s].length));
}

/** Python's `int(text)` for plain decimal text (BigInt: no precision loss). */
function pyInt(text: string): bigint | undefined {
  return /^\s*[+-]?\d+\s*$/.test(text) ? BigInt(text.trim()) : undefined;
}

const UNIT_S = { days: 86400n, hours: 3600n, minutes: 60n, seconds: 1n } as const;

/** purge_deleted's time line, with Heat's checks and texts (SPEC §2.1). */
export function purgeTimeLine(now: Micros, age: string, granularity: keyof typeof UNIT_S): Micros {
  const n = pyInt(age);
  if (n === undefined) throw new HeatError('age should be an integer');
  if (n < 0n) throw new HeatError('age should be a positive integer');
  const t = now - n * UNIT_S[granularity] * US_PER_S;
  if (t < MIN_MICROS) throw new HeatError('date value out of range');
  return t;
}

function batchSize(text: string | undefined): number {
  if (text === undefined) return DEFAULT_BATCH_SIZE;
  const n = pyInt(text);
  if (n === undefined) throw new HeatError('batch_size should be an integer');
  if (n < 1n) throw new HeatError('batch_size should be a positive integer');
  return n > 1_000_000n ? 1_000_000 : Number(n);
}

function resourceId(text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`resource_id must be an integer, got '${text}'`);
  const n = BigInt(text.trim());
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

function now(ctx: CommandContext): Micros {
  const override = ctx.cfg.fixedNow;
  try {
    const t = resolveNow(override);
    if (override !== undefined) ctx.logger.warn(`HEAT_MANAGE_NOW is set: "now" is ${pyText(t)} (UTC), not the clock`);
    return t;
  } catch (e) {
    throw new HeatError((e as Error).message);
  }
}

/**
 * What a management command does with the database, prepared from its checked arguments: through
 * the TypeORM data layer, or (`light`) on one bare-driver connection (no TypeORM to load).
 */
type Work = ((db: HeatDb) => Promise<void>) | { readonly light: (s: Session) => Promise<void> };
type Prepare = (p: Parsed, ctx: CommandContext, now: Micros) => Work;

function purge(p: Parsed, { cfg, logger, io }: CommandContext, t: Micros): Work {
  const opt = p.options;
  const granularity = (opt.granularity as keyof typeof UNIT_S | undefined) ?? 'days';
  const timeLine = purgeTimeLine(t, p.positionals.age ?? '90', granularity);
  const size = batchSize(opt.batchSize as string | undefined);
  const o = { timeLine, projectId: opt.projectId as string | undefined, batchSize: size, logger, lockWaitS: cfg.database.lockWaitTimeout };
  const light = async (db: Session) => {
    logger.info({ timeLine: sqlText(timeLine) }, `purge_deleted: deleting what was deleted before ${pyText(timeLine)}${o.projectId !== undefined ? ` in project ${o.projectId}` : ''}`);
    if (opt.dryRun) {
      const n = await purgeDryRun(db, o);
      io.out(PURGE_TABLES.map((tb) => `${tb} ${n[tb]}\n`).join(''));
      return;
    }
    const n = await purgeDeleted(db, o);
    for (const tb of PURGE_TABLES) logger.info({ table: tb, rows: n[tb] }, `purge_deleted: deleted ${n[tb]} rows from ${tb}`);
  };
  return { light };
}

function resourceData(p: Parsed, { cfg, io }: CommandContext): Work {
  const id = resourceId(p.positionals.resource_id!);
  return async (db) => {
    const data = await resourceDataList(db, id, cfg.authEncryptionKey);
    io.out([...data].map(([k, v]) => `${pad(k, 16)} ${pad(v, 64)}\n`).join(''));
  };
}

function service(p: Parsed, { logger, io }: CommandContext, t: Micros): Work {
  const header = `${pad('Hostname', 16)} ${pad('Binary', 16)} ${pad('Engine_Id', 36)} ${pad('Host', 10)} ${pad('Topic', 10)} ${pad('Status', 10)} ${pad('Updated At', 10)}\n`;
  return async (db) => {
    if (p.positionals.action === 'clean') {
      await cleanServices(db, t, logger);
      io.out('Dead engines are removed.\n');
      return;
    }
    const rows = await listServices(db, t);
    const line = (s: (typeof rows)[number]) =>
      `${pad(s.hostname, 16)} ${pad(s.binary, 16)} ${pad(s.engine_id, 36)} ${pad(s.host, 10)} ${pad(s.topic, 10)} ${pad(s.status, 10)} ${pad(s.updatedAt === null ? null : pyText(s.updatedAt), 10)}\n`;
    io.out(header + rows.map(line).join(''));
  };
}

function params(p: Parsed, { cfg, logger }: CommandContext, t: Micros): Work {
  const direction = p.positionals.command as 'encrypt' | 'decrypt';
  return async (db) => {
    const up = (await listServices(db, t)).filter((s) => s.status === 'up');
    if (up.length) {
      logger.warn(`update_params: ${up.length} heat-engine service(s) look up (${up.map((s) => s.hostname).join(', ')}); stop heat-engine before running update_params`);
    }
    await updateParams(db, { direction, key: cfg.authEncryptionKey, previousKey: p.positionals.previous_encryption_key, now: t, logger });
  };
}

/** The management commands by name (the grammar's names: a command without an entry does not compile). */
const MANAGEMENT: Record<ManagementCommand, Prepare> = {
  purge_deleted: purge,
  resource_data_list: resourceData,
  service,
  update_params: params,
};

/** Runs management command `name`: arguments first (a bad one changes nothing and needs no database), then the schema check, then the work. */
export async function runManagement(name: ManagementCommand, p: Parsed, ctx: CommandContext): Promise<number> {
  const { cfg, logger } = ctx;
  const work = MANAGEMENT[name](p, ctx, now(ctx));
  const o = {
    url: cfg.database.connection,
    logger,
    maxRetries: cfg.database.maxRetries,
    retryIntervalS: cfg.database.retryInterval,
    logSql: cfg.debug,
    defaultUser: cfg.engineHooks.user,
  };
  if (typeof work !== 'function') {
    const s = await openHeatSession(o);
    try {
      await work.light(s);
      return 0;
    } finally {
      await s.close();
    }
  }
  const db = await openHeatDb(o);
  try {
    await checkSchemaVersion(db);
    await work(db);
    return 0;
  } finally {
    await db.close();
  }
}
