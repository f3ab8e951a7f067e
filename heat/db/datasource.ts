/**
 * The management commands' data layer: a TypeORM DataSource over Heat's tables, opened from the
 * same `[database] connection` URL as db_sync (migrate/url.ts parses and masks it), with the
 * `heatEntitiesFor(dialect)` entities and oslo.db's connect retries (max_retries/retry_interval).
 *
 *   const db = await openHeatDb({ url, logger, maxRetries: 10, retryIntervalS: 10 });
 *   try { await checkSchemaVersion(db); ... db.ds.getRepository<Service>('Service') ... }
 *   finally { await db.close(); }
 *
 * Timestamps are read as text (mysql2 `dateStrings`, a pg parser for `timestamp`), so that no
 * driver converts them through a local-time JS Date and microseconds survive: see
 * heat/common/timeutils.ts. db_sync and db_version do not use this module (bare drivers, faster).
 */
import type { DataSource, Logger as OrmLogger } from 'typeorm';
import type { DialectAdapter } from '../../migrate/dialect/contract.js';
import { createAdapter } from '../../migrate/dialect/factory.js';
import { InvalidUrlError } from '../../migrate/errors.js';
import type { Logger } from '../../migrate/script/contract.js';
import { connectionError, errorKind, openSession, type ConnectHints, type Session } from '../../migrate/session.js';
import { maskPassword, parseUrl, type ParsedUrl } from '../../migrate/url.js';
import { HeatError, withRetries } from './migration.js';
import type { HeatDialect } from './models.js';
import { HEAT_LINEAGE } from '../../migrate_repo/heat/lineage.js';

/** The schema version this heat-manage knows (Heat 6.0.0 "Mitaka"). */
export const SCHEMA_VERSION = HEAT_LINEAGE.mitaka;

export interface HeatDb {
  readonly ds: DataSource;
  readonly dialect: HeatDialect;
  /** The URL with its password masked. */
  readonly safeUrl: string;
  /** The URL's dialect adapter: what a driver error means (`errorKind`), the connection settings. */
  readonly adapter: DialectAdapter;
  close(): Promise<void>;
}

export interface HeatDbOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly maxRetries: number;
  readonly retryIntervalS: number;
  /** Log every statement (not its parameters) at debug level. */
  readonly logSql?: boolean;
  /** Connections in the pool (default 2). */
  readonly poolSize?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** PostgreSQL user when the URL has none (as db_sync: EngineHooks.user). */
  readonly defaultUser?: string;
}

/** What to do when the management commands cannot connect (the engine's classification, Heat's advice). */
const HINTS: ConnectHints = {
  'no-database': 'create the database and run heat-manage db_sync first',
  other: 'check the URL and that the server is running',
};
const SQLITE_HINTS: ConnectHints = { other: 'check the path, and run heat-manage db_sync first' };

function ormLogger(logger: Logger): OrmLogger {
  const none = () => undefined;
  return {
    // The statement only: parameters may hold secrets (encrypted values, credentials).
    logQuery: (sql: string) => logger.debug({ sql }, 'SQL'),
    logQueryError: none,
    logQuerySlow: none,
    logSchemaBuild: none,
    logMigration: none,
    log: none,
  };
}

/**
 * The DataSource options: the connection settings are the adapter's (migrate/dialect/*.ts: host,
 * TLS files, timeouts, exact number and date handling), the same as db_sync's; this adds only what
 * the management commands need on top (entities, charset, time zone, pool, type parsers).
 */
async function options(adapter: DialectAdapter, url: ParsedUrl, o: HeatDbOptions) {
  // Lazily: the models import TypeORM, which the light path (openHeatSession) never loads.
  const { heatEntitiesFor } = await import('./models.js');
  const entities = heatEntitiesFor(url.dialect);
  const common = { entities, logging: o.logSql ? (['query'] as const) : false, logger: ormLogger(o.logger) } as const;
  const base = adapter.typeormOptions(url, { applicationName: 'heat-manage', defaultUser: o.defaultUser });
  if (base.type === 'mysql') {
    // The adapter's charset: the URL's, or its option file's default-character-set; utf8 = UTF8_GENERAL_CI.
    const charset = base.charset;
    return {
      ...base,
      ...common,
      // Heat's columns are utf8mb3; the connection speaks utf8mb4 so nothing is replaced by '?'
      // on the way (we write non-BMP characters as JSON escapes, see update_params).
      charset: charset && charset !== 'UTF8_GENERAL_CI' ? charset : 'UTF8MB4_GENERAL_CI',
      timezone: 'Z',
      poolSize: o.poolSize ?? 2,
    };
  }
  if (base.type === 'postgres') {
    const pg = (await import('pg')).default;
    // `timestamp without time zone` as its text: no Date, no local time, no lost microseconds.
    const getTypeParser = (oid: number, format?: string) =>
      oid === pg.types.builtins.TIMESTAMP ? (s: string) => s : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
    return { ...base, ...common, extra: { ...base.extra, types: { getTypeParser } }, poolSize: o.poolSize ?? 2 };
  }
  // SQLite: the driver itself waits for the write lock (no retry loop around TypeORM's driver).
  return { ...base, ...common, timeout: 60000 };
}

/** better-sqlite3 would create a missing file: a management command never creates a database. */
async function refuseMissingSqlite(url: ParsedUrl, safeUrl: string): Promise<void> {
  if (url.dialect !== 'sqlite' || url.database === ':memory:') return;
  const { existsSync } = await import('node:fs');
  if (!existsSync(url.database!)) throw new HeatError(`the database ${safeUrl} does not exist: run heat-manage db_sync first`);
}

/** Opens the DataSource, retrying while the server refuses connections. */
export async function openHeatDb(o: HeatDbOptions): Promise<HeatDb> {
  const url = parseUrl(o.url);
  const safeUrl = maskPassword(o.url);
  await refuseMissingSqlite(url, safeUrl);
  const { DataSource } = await import('typeorm');
  const adapter = await createAdapter(url.dialect);
  const hints = url.dialect === 'sqlite' ? SQLITE_HINTS : HINTS;
  const ds = await withRetries({ ...o, lockTimeoutMs: 0 }, async () => {
    try {
      // Inside the try: reading a URL's TLS file fails like connecting does (db_sync's message).
      const d = new DataSource((await options(adapter, url, o)) as ConstructorParameters<typeof DataSource>[0]);
      return await d.initialize();
    } catch (e) {
      if (e instanceof InvalidUrlError) throw e;
      throw connectionError(e, adapter, url, hints);
    }
  });
  return { ds, dialect: url.dialect, safeUrl, adapter, close: () => ds.destroy().catch(() => undefined) };
}

/**
 * The light path (bare driver, no TypeORM: ~0.2 s less start-up) for a command that issues its own
 * SQL (purge_deleted): one connection, the same URL rules, retries, hints and "never create a
 * SQLite file" rule as {@link openHeatDb}; then the schema-version check.
 */
export async function openHeatSession(o: HeatDbOptions): Promise<Session> {
  const url = parseUrl(o.url);
  await refuseMissingSqlite(url, maskPassword(o.url));
  const hints = url.dialect === 'sqlite' ? SQLITE_HINTS : HINTS;
  const s = await withRetries({ ...o, lockTimeoutMs: 0 }, async () => {
    try {
      return await openSession(url, { logger: o.logger, logSql: o.logSql, applicationName: 'heat-manage', hooks: { user: o.defaultUser } });
    } catch (e) {
      if (e instanceof InvalidUrlError) throw e;
      const cause = (e as { cause?: unknown }).cause ?? e;
      throw connectionError(cause, await createAdapter(url.dialect), url, hints);
    }
  });
  try {
    await checkVersionRow(s.adapter, s.safeUrl, async () => (await s.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'"))[0] as VersionRow | undefined);
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}

type VersionRow = { version: number | string | null };

/**
 * Every management command starts here: the database must be at {@link SCHEMA_VERSION}.
 * Reads `migrate_version` only; changes nothing.
 */
export async function checkSchemaVersion(db: HeatDb): Promise<void> {
  await checkVersionRow(db.adapter, db.safeUrl, async () =>
    (await db.ds.getRepository<{ repository_id: string; version: number | null }>('MigrateVersion').findOneBy({ repository_id: 'heat' })) ?? undefined,
  );
}

async function checkVersionRow(adapter: DialectAdapter, safeUrl: string, read: () => Promise<VersionRow | undefined>): Promise<void> {
  let row: VersionRow | undefined;
  try {
    row = await read();
  } catch (e) {
    if (errorKind(adapter, (e as { cause?: unknown }).cause ?? e) === 'missing-table' || errorKind(adapter, e) === 'missing-table') {
      throw new HeatError(`the database ${safeUrl} is not under version control (no migrate_version table): run heat-manage db_sync first`);
    }
    throw e;
  }
  if (!row || row.version === null) {
    throw new HeatError(`the database ${safeUrl} has no Heat schema version (no 'heat' row in migrate_version): run heat-manage db_sync first`);
  }
  const v = Number(row.version);
  if (v < SCHEMA_VERSION) {
    throw new HeatError(`the database is at schema version ${v}, this heat-manage needs ${SCHEMA_VERSION}: run heat-manage db_sync first`);
  }
  if (v > SCHEMA_VERSION) {
    throw new HeatError(
      v <= HEAT_LINEAGE.train
        ? `the database is at schema version ${v}, these commands need ${SCHEMA_VERSION} or Alembic head: run heat-manage db_sync head`
        : `the database is at schema version ${v}, which is newer than this heat-manage (${SCHEMA_VERSION}): use a newer heat-manage`,
    );
  }
}
