/**
 * What differs between backends, kept short: table listing, the version table's DDL, the lock, and
 * how a step transaction starts. All logic (what to lock, when, what to run) lives in the core.
 */
import type { DialectName, Logger } from '../script/contract.js';
import type { Queryable } from '../session.js';
import type { GuardProbe } from '../guard.js';

export interface LockRequest {
  /** Human-readable key: `<version_table>:<repository_id>` (the adapter derives its own id). */
  readonly key: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Opens a second connection to the same database (for a lease heartbeat). */
  readonly openAux: () => Promise<Queryable & { close(): Promise<void> }>;
  /** Environment (MIGRATE_MYSQL_LOCK=row forces the row lock, MIGRATE_LOCK_LEASE seconds). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface DialectAdapter {
  readonly name: DialectName;
  /** DDL is transactional: a step (script + version bump) can run in one transaction. */
  readonly transactionalDdl: boolean;
  /** A run-level session lock exists (MySQL GET_LOCK, PostgreSQL advisory lock). SQLite serialises
   * each step with BEGIN IMMEDIATE instead, re-reading the version inside the transaction. */
  readonly sessionLock: boolean;
  quote(identifier: string): string;
  /** Base tables of the current database/schema. */
  listTables(q: Queryable): Promise<string[]>;
  /** True when the table exists (never fails: usable inside a PostgreSQL transaction). */
  tableExists(q: Queryable, table: string): Promise<boolean>;
  /** True when `err` says the table does not exist. */
  isMissingTable(err: unknown): boolean;
  /** Takes the run lock on this connection; throws LockTimeoutError after `timeoutMs`. */
  lock(q: Queryable, req: LockRequest): Promise<void>;
  unlock(q: Queryable, req: LockRequest): Promise<void>;
  /** The largest version migrate_version.version (INTEGER) can hold on this backend. */
  readonly maxVersion: number;
  /** Throws when the lock is known to be lost (a row lock whose lease was taken over). */
  assertLocked(q: Queryable): void;
  /** Statement that starts a write transaction (SQLite: BEGIN IMMEDIATE, which waits for writers). */
  readonly beginSql: string;
  /** Runs before the steps on the migration connection (e.g. SQLite: foreign_keys OFF). */
  prepare(q: Queryable): Promise<void>;
  /** Runs inside a step's transaction before the script (SQLite: the foreign-key baseline). */
  beforeStep(q: Queryable): Promise<void>;
  /** Runs inside a step's transaction before commit (SQLite: foreign_key_check). */
  beforeCommit(q: Queryable): Promise<void>;
  /** This connection's id as other sessions see it (MySQL CONNECTION_ID(), PostgreSQL backend pid); undefined: none. */
  sessionId(q: Queryable): Promise<number | undefined>;
  /** Bounds every lock wait of this connection's statements (MySQL lock_wait_timeout + innodb_lock_wait_timeout, PostgreSQL lock_timeout). */
  setLockWaitTimeout(q: Queryable, ms: number): Promise<void>;
  /** True when `err` is a statement that gave up waiting for another session's lock. */
  isLockWaitTimeout(err: unknown): boolean;
  /** Looks at and cancels this connection's statements from a second connection (none on SQLite). */
  readonly guard?: GuardProbe;
}

/** The driver's error code / errno behind a wrapped error. */
export function errorCode(e: unknown): { code?: string; errno?: number } {
  const x = e as { code?: string; errno?: number; cause?: { code?: string; errno?: number } };
  return { code: x?.cause?.code ?? x?.code, errno: x?.cause?.errno ?? x?.errno };
}

/** The version table, as sqlalchemy-migrate creates it (SPEC §8.1), identical on every backend. */
export function versionTableDdl(table: string, quote: (id: string) => string): string {
  // Unquoted like SQLAlchemy for plain lower-case names (SQLite keeps the text verbatim); quoted
  // otherwise, so that every later (quoted) statement finds it.
  const name = /^[a-z_][a-z0-9_]*$/.test(table) ? table : quote(table);
  return `CREATE TABLE ${name} (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)`;
}

export async function adapterFor(dialect: DialectName): Promise<DialectAdapter> {
  switch (dialect) {
    case 'mysql':
      return (await import('./mysql.js')).mysqlAdapter;
    case 'postgresql':
      return (await import('./postgres.js')).postgresAdapter;
    case 'sqlite':
      return (await import('./sqlite.js')).sqliteAdapter;
  }
}

/** The table a statement works on, for messages: `ALTER TABLE stack ...` -> `stack`. */
export function tableOf(sql: string): string | undefined {
  return /\b(?:ALTER\s+TABLE|UPDATE|INSERT\s+INTO|DELETE\s+FROM|INDEX\s+[`"\w$]+\s+ON|DROP\s+TABLE)\s+[`"]?([\w$]+)/i.exec(sql)?.[1];
}
