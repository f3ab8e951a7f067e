/**
 * SQLite. DDL is transactional. There is no session lock: each step runs in `BEGIN IMMEDIATE`,
 * which takes the database's write lock (waiting up to the busy timeout), and the core re-reads the
 * version inside that transaction, so two processes can never apply the same step.
 *
 * Foreign keys are turned OFF on the migration connection (as Heat's oslo.db never turns them on):
 * rebuilding a parent table with DROP TABLE would otherwise cascade into its children. Integrity is
 * checked with `PRAGMA foreign_key_check` before each step commits.
 *
 * Opening the file and waiting for another writer (logged, bounded): sqlite-driver.ts.
 */
import { DEFAULT_LOCK_TIMEOUT_S } from '../defaults.js';
import { MigrateError } from '../errors.js';
import { sqlLiteral } from '../sql.js';
import type { ParsedUrl } from '../url.js';
import { driverError } from './helpers.js';
import type { ConnectOptions, DialectAdapter, ErrorKind, Queryable, RawQuery } from './contract.js';
import { BUSY_SLICE_MS, busyWait, openSqlite, wrapSqlite, type BusyWait } from './sqlite-driver.js';

/** Foreign-key violations per table. */
async function violations(q: Queryable): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const r of await q.query('PRAGMA foreign_key_check')) m.set(String(r.table), (m.get(String(r.table)) ?? 0) + 1);
  return m;
}

export class SqliteAdapter implements DialectAdapter {
  readonly name = 'sqlite' as const;
  readonly transactionalDdl = true;
  readonly sessionLock = false;
  readonly maxVersion = Number.MAX_SAFE_INTEGER;
  readonly connectHint = 'check the path, and that its directory exists and is writable';
  readonly beginSql = 'BEGIN IMMEDIATE';
  /** Foreign-key violations that were there before this run's steps (not the steps' fault). */
  private baseline?: Map<string, number>;
  quote = (id: string) => `"${id.replace(/"/g, '""')}"`;
  literal = (v: unknown) => sqlLiteral(v, {});

  /** How this connection waits for another writer (set by connect/typeormOptions). */
  private wait: BusyWait = { timeoutMs: DEFAULT_LOCK_TIMEOUT_S * 1000, file: ':memory:' };

  async connect(u: ParsedUrl, o: ConnectOptions) {
    this.wait = busyWait(u, o);
    const db = await openSqlite(this.wait.file, o.readOnly);
    return { raw: this.wrap(db), close: async () => void db.close() };
  }

  typeormOptions(u: ParsedUrl, o: ConnectOptions) {
    this.wait = busyWait(u, o);
    return { type: 'better-sqlite3' as const, database: this.wait.file, timeout: BUSY_SLICE_MS };
  }

  /** Retries while another process writes, up to the busy timeout (sqlite-driver.ts). */
  wrap(db: unknown): RawQuery {
    return wrapSqlite(db, () => this.wait, (e) => this.classify(e) === 'busy');
  }

  /** Errors name the file; a file that is not SQLite says what to check. */
  explain(e: unknown, u: ParsedUrl): string | undefined {
    const { code, message } = driverError(e);
    if (code === 'SQLITE_NOTADB') {
      return `SQLite database ${u.database}: file is not a database: the file exists but is not SQLite (or is encrypted or damaged); check that [database] connection names the right file`;
    }
    return `SQLite database ${u.database}: ${message.split('\n')[0]}`;
  }

  /** No other session can see or cancel a statement: the core checks for a stop between statements. */
  async sessionId() {
    return undefined;
  }
  /** The write lock is the migration lock here (its busy timeout is the migration lock timeout). */
  async setLockWaitTimeout() {}

  classify(e: unknown): ErrorKind | undefined {
    const { code, message } = driverError(e);
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'busy';
    if (/no such table/i.test(message)) return 'missing-table';
    return undefined;
  }

  async listTables(q: Queryable) {
    const rows = await q.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    return rows.map((r) => String(r.name));
  }

  async tableExists(q: Queryable, table: string) {
    return (await q.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])).length > 0;
  }

  /** A plain INTEGER PRIMARY KEY (no AUTOINCREMENT: that would add sqlite_sequence to the app's database). */
  logTableDdl(table: string, columns: string) {
    return `CREATE TABLE IF NOT EXISTS ${table} (\n  id INTEGER PRIMARY KEY,\n${columns}\n)`;
  }

  async prepare(q: Queryable) {
    await q.query('PRAGMA foreign_keys = OFF');
    // Refuse a database that cannot be written before the first step (a read-only file or
    // directory: SQLite says so only at the first write, deep inside a step): a write, rolled back.
    await q.query('BEGIN IMMEDIATE');
    try {
      await q.query('CREATE TABLE migrate_write_check (x INTEGER)');
    } catch (e) {
      const { code, message } = driverError(e);
      if (/^SQLITE_(READONLY|CANTOPEN|IOERR|PERM)/.test(code ?? '')) {
        throw new MigrateError(
          `SQLite database ${this.wait.file} cannot be written (${message.replace(/^SQLite database [^:]*: /, '').replace(/ \[SQL:.*$/, '')}): ` +
            'run as a user that may write the file and its directory (SQLite writes a journal next to it), or fix their permissions; nothing was applied',
        );
      }
      throw e;
    } finally {
      await q.query('ROLLBACK');
    }
  }
  /** No run lock: BEGIN IMMEDIATE serialises each step. */
  async tryLock() {
    return true;
  }
  async unlock() {
    return true;
  }
  async lockHolder() {
    return undefined;
  }
  assertLocked() {}

  async beforeStep(q: Queryable) {
    this.baseline ??= await violations(q);
  }

  async beforeCommit(q: Queryable) {
    // Only violations a step introduces fail it: rows that were orphans before the run (common,
    // since oslo.db never turns foreign keys on) must not make every step roll back.
    const before = this.baseline ?? new Map<string, number>();
    const now = await violations(q);
    for (const [table, n] of now) {
      if (n > (before.get(table) ?? 0)) {
        throw new MigrateError(
          `foreign key check failed: the step left ${n - (before.get(table) ?? 0)} row(s) of ${table} pointing at missing parents; the step was rolled back`,
        );
      }
    }
    this.baseline = now;
  }
}
