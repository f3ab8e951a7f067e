/**
 * SQLite. DDL is transactional. There is no session lock: each step runs in `BEGIN IMMEDIATE`,
 * which takes the database's write lock (waiting up to the busy timeout), and the core re-reads the
 * version inside that transaction, so two processes can never apply the same step.
 *
 * Foreign keys are turned OFF on the migration connection (as Heat's oslo.db never turns them on):
 * rebuilding a parent table with DROP TABLE would otherwise cascade into its children. Integrity is
 * checked with `PRAGMA foreign_key_check` before each step commits.
 */
import type { Database } from 'better-sqlite3';
import { MigrateError } from '../errors.js';
import type { Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import { driverError, type ConnectOptions, type DialectAdapter, type ErrorKind, type Queryable, type RawQuery } from './adapter.js';

/** Foreign-key violations per table. */
async function violations(q: Queryable): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const r of await q.query('PRAGMA foreign_key_check')) m.set(String(r.table), (m.get(String(r.table)) ?? 0) + 1);
  return m;
}

/** The busy timeout: the URL's `timeout` (seconds, as pysqlite's) wins over the lock timeout. */
function busyTimeoutMs(u: ParsedUrl, o: ConnectOptions): number {
  const s = Number(u.query.timeout);
  return u.query.timeout !== undefined && Number.isFinite(s) && s >= 0 ? s * 1000 : (o.busyTimeoutMs ?? 120000);
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

  async connect(u: ParsedUrl, o: ConnectOptions) {
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(u.database ?? ':memory:', { timeout: busyTimeoutMs(u, o) });
    return { raw: this.wrap(db), close: async () => void db.close() };
  }

  typeormOptions(u: ParsedUrl, o: ConnectOptions) {
    return { type: 'better-sqlite3' as const, database: u.database ?? ':memory:', timeout: busyTimeoutMs(u, o) };
  }

  wrap(db: unknown): RawQuery {
    return async (sql, params) => {
      const stmt = (db as Database).prepare(sql);
      const args = (params as unknown[]).map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      if (stmt.reader) return { rows: stmt.all(...args) as Row[], affected: 0 };
      return { rows: [], affected: stmt.run(...args).changes };
    };
  }

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
