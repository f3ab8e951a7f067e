/**
 * The adapter contract: everything that differs between backends, and nothing else. An adapter is
 * created per connection (factory.ts `createAdapter`), so per-connection state (the lock it holds,
 * Galera, SQLite's foreign-key baseline) lives on the instance, not in module-level maps.
 *
 * Adapters are dumb (golang-migrate's rule): they say *whether* something happened (`tryLock` →
 * taken or not, `classify` → what kind of error) and the core decides what to do — how long to
 * wait, what to log, which error to throw. Every adapter passes test/conformance/adapters.test.ts.
 *
 * Types only: the factory (factory.ts), the helpers adapters share (helpers.ts) and the run guard's
 * probe contract (probe.ts) are apart, so that nothing here imports the engine's modules.
 */
import type { Readable } from 'node:stream';
import type { DataSourceOptions } from 'typeorm';
import type { DialectName, LargeTextRow, Logger, Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import type { GuardProbe } from './probe.js';

/** Anything that runs SQL with `?` placeholders (a session, a transaction, a second connection). */
export interface Queryable {
  readonly dialect: DialectName;
  /** `?` placeholders on every dialect. Returns rows (empty for statements without rows). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Returns the number of affected rows. `o`: what only some drivers take (a session passes it on). */
  execute(sql: string, params?: readonly unknown[], o?: StatementOptions): Promise<number>;
}

/** Per-statement options that only some drivers take. */
export interface StatementOptions {
  /** MySQL `LOAD DATA LOCAL INFILE`: the "file" the server asks for (any name in the statement). */
  readonly infile?: () => Readable;
}

export interface RawResult {
  rows: Row[];
  affected: number;
}
/** A driver connection reduced to one call: `?` placeholders in, rows and affected count out. */
export type RawQuery = (sql: string, params: readonly unknown[], o?: StatementOptions) => Promise<RawResult>;

export interface ConnectOptions {
  /** How long a statement may wait for the database's write lock (SQLite busy timeout), ms. */
  readonly busyTimeoutMs?: number;
  /** Name shown to other sessions (PostgreSQL application_name). */
  readonly applicationName?: string;
  /** User name when the URL has none (PostgreSQL, like libpq: the OS user). */
  readonly defaultUser?: string;
  /** Logs waits the driver does itself (SQLite's write lock). */
  readonly logger?: Logger;
  /** Ends waits the driver does itself (SQLite's write lock) when aborted. */
  readonly signal?: AbortSignal;
  /** Only reads will follow: SQLite opens the file read-only and never creates it (a missing file is an error). */
  readonly readOnly?: boolean;
}

/**
 * What an error means, as far as the core cares: `busy` (SQLite write lock), `not-ready` (a
 * Galera node not serving), `lost` (the connection died under a statement), `unreachable`
 * (connecting failed; retry later), `auth`, `no-database`, `missing-table`, `lock-wait-timeout`
 * (a statement gave up waiting for another session's table or row lock), `cancelled` (the
 * statement was cancelled from another session: the guard's cancel); undefined: anything else.
 */
export type ErrorKind = 'busy' | 'not-ready' | 'lost' | 'unreachable' | 'auth' | 'no-database' | 'missing-table' | 'lock-wait-timeout' | 'cancelled';

/** How the run lock is taken (MySQL/MariaDB only; the others have one kind of lock). */
export interface LockOptions {
  /** 'row': the leased row lock of row-lock.ts everywhere; 'auto': only on Galera. */
  readonly mode: 'auto' | 'row';
  /** Row lock lease in seconds (renewed every lease/4 while held). */
  readonly leaseS: number;
  /** Opens a second connection to the same database (the lease heartbeat). */
  readonly openAux: () => Promise<Queryable & { close(): Promise<void> }>;
  readonly logger: Logger;
}

/** Who holds the lock, for the core's waiting line (`held by <text>`). */
export interface LockHolder {
  readonly text: string;
  readonly fields: Record<string, unknown>;
}

export interface DialectAdapter {
  readonly name: DialectName;
  /** DDL is transactional: a step (script + version bump) can run in one transaction. */
  readonly transactionalDdl: boolean;
  /** A run-level session lock exists (MySQL GET_LOCK, PostgreSQL advisory lock). SQLite serialises
   * each step with BEGIN IMMEDIATE instead, re-reading the version inside the transaction. */
  readonly sessionLock: boolean;
  /** The largest version migrate_version.version (INTEGER) can hold on this backend. */
  readonly maxVersion: number;
  /** Statement that starts a write transaction (SQLite: BEGIN IMMEDIATE, which waits for writers). */
  readonly beginSql: string;
  quote(identifier: string): string;
  /** A value as an SQL literal of this backend (captured SQL text only; never executed). */
  literal(value: unknown): string;

  /** Opens a driver connection (driver options from the URL, results wrapped to RawResult). */
  connect(url: ParsedUrl, o: ConnectOptions): Promise<{ raw: RawQuery; close(): Promise<void> }>;
  /** The same connection settings for TypeORM (module scripts get its QueryRunner). */
  typeormOptions(url: ParsedUrl, o: ConnectOptions): DataSourceOptions;
  /** Wraps the driver connection of a TypeORM QueryRunner. */
  wrap(driverConnection: unknown): RawQuery;
  classify(err: unknown): ErrorKind | undefined;
  /** What to check when connecting fails for another reason than auth or a missing database. */
  readonly connectHint: string;

  /** Base tables of the current database/schema. */
  listTables(q: Queryable): Promise<string[]>;
  /** True when the table exists (never fails: usable inside a PostgreSQL transaction). */
  tableExists(q: Queryable, table: string): Promise<boolean>;
  /** CREATE TABLE IF NOT EXISTS for the step log (columns in step-log.ts; the id is per backend). */
  logTableDdl(table: string, columns: string): string;
  /**
   * Non-transactional backends only: the compare-and-set version bump and marking this run's
   * `running` log row `done`, atomically in one statement. Returns the rows matched (2 = both).
   */
  bumpMarkingDone?(q: Queryable, a: BumpArgs): Promise<number>;
  /** Tables whose collation is not utf8 (oslo.db's MySQL sanity check); absent where not applicable. */
  nonUtf8Tables?(q: Queryable, exclude: readonly string[]): Promise<string[]>;

  /** Session set-up before anything else on the migration connection (Galera: causal reads). */
  prepare(q: Queryable): Promise<void>;
  /** Takes the run lock if free, waiting up to `waitMs`; true when taken. Never logs, never throws on a timeout. */
  tryLock(q: Queryable, key: string, waitMs: number, o: LockOptions): Promise<boolean>;
  /** Releases the lock; true when it was held. */
  unlock(q: Queryable, key: string): Promise<boolean>;
  /** Who holds the lock now, if the backend can tell. */
  lockHolder(q: Queryable, key: string): Promise<LockHolder | undefined>;
  /** Throws when the lock is known to be lost (a row lock whose lease was taken over). */
  assertLocked(): void;
  /** Inside a step's transaction before the script (SQLite: the foreign-key baseline); absent: nothing to do. */
  beforeStep?(q: Queryable): Promise<void>;
  /** Inside a step's transaction after the script, before the step commits (SQLite: foreign_key_check); absent: nothing to do. */
  beforeCommit?(q: Queryable): Promise<void>;

  /** This connection's id as other sessions see it (MySQL CONNECTION_ID(), PostgreSQL backend pid); undefined: none. */
  sessionId(q: Queryable): Promise<number | undefined>;
  /** Bounds every lock wait of this connection's statements (MySQL lock_wait_timeout + innodb_lock_wait_timeout, PostgreSQL lock_timeout). */
  setLockWaitTimeout(q: Queryable, ms: number): Promise<void>;
  /** Looks at and cancels this connection's statements from a second connection (absent on SQLite). */
  readonly guard?: GuardProbe;
  /**
   * A better message than the driver's for a failed statement, when the adapter has one (MySQL: a
   * statement larger than max_allowed_packet, which the client may see as a lost connection;
   * SQLite: which file). `bytes`: the statement's size with its parameters.
   */
  explain?(err: unknown, url: ParsedUrl, bytes: number): string | undefined;
  /**
   * MigrateEngine.writeLargeText where one parameterised UPDATE is not enough (MySQL: a value past
   * max_allowed_packet); absent: the engine runs `UPDATE t SET c = ? WHERE k = ?`. Returns rows matched.
   */
  writeLargeText?(q: Queryable, row: LargeTextRow, value: string | Buffer): Promise<number>;
}

export interface BumpArgs {
  readonly versionTable: string;
  readonly repositoryId: string;
  readonly from: number;
  readonly to: number;
  readonly logTable: string;
  readonly runId: string;
  readonly finishedAt: string;
}
