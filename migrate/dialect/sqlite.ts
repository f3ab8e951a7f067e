/**
 * SQLite. DDL is transactional. There is no session lock: each step runs in `BEGIN IMMEDIATE`,
 * which takes the database's write lock (waiting up to the busy timeout), and the core re-reads the
 * version inside that transaction, so two processes can never apply the same step.
 *
 * Foreign keys are turned OFF on the migration connection (as Heat's oslo.db never turns them on):
 * rebuilding a parent table with DROP TABLE would otherwise cascade into its children. Integrity is
 * checked with `PRAGMA foreign_key_check` before each step commits.
 */
import { MigrateError } from '../errors.js';
import type { Queryable } from '../session.js';
import type { DialectAdapter } from './adapter.js';

/** Foreign-key violations per table. */
async function violations(q: Queryable): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const r of await q.query('PRAGMA foreign_key_check')) m.set(String(r.table), (m.get(String(r.table)) ?? 0) + 1);
  return m;
}
const baselines = new WeakMap<Queryable, Map<string, number>>();

export const sqliteAdapter: DialectAdapter = {
  name: 'sqlite',
  transactionalDdl: true,
  sessionLock: false,
  beginSql: 'BEGIN IMMEDIATE',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  async listTables(q) {
    const rows = await q.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    return rows.map((r) => String(r.name));
  },
  async tableExists(q, table) {
    return (await q.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])).length > 0;
  },
  isMissingTable: (e) => /no such table/i.test(String((e as Error)?.message)),
  async lock() {},
  async unlock() {},
  assertLocked() {},
  maxVersion: Number.MAX_SAFE_INTEGER,
  async prepare(q) {
    await q.query('PRAGMA foreign_keys = OFF');
    // Refuse a database that cannot be written before the first step (a read-only file or
    // directory: SQLite says so only at the first write, deep inside a step): a write rolled back.
    await q.query('BEGIN IMMEDIATE');
    try {
      await q.query('CREATE TABLE migrate_write_check (x INTEGER)');
    } catch (e) {
      const file = (q as { url?: { database?: string } }).url?.database ?? 'the database file';
      if (/readonly|read-only|unable to open|cannot open|disk I\/O/i.test(String((e as Error).message))) {
        throw new MigrateError(
          `SQLite database ${file} cannot be written (${String((e as Error).message).replace(/^SQLite database [^:]*: /, '').replace(/ \[SQL:.*$/, '')}): ` +
            'run as a user that may write the file and its directory (SQLite writes a journal next to it), or fix their permissions; nothing was applied',
        );
      }
      throw e;
    } finally {
      await q.query('ROLLBACK');
    }
  },
  async beforeStep(q) {
    if (!baselines.has(q)) baselines.set(q, await violations(q));
  },
  async beforeCommit(q) {
    // Only violations a step introduces fail it: rows that were orphans before the run (common,
    // since oslo.db never turns foreign keys on) must not make every step roll back.
    const before = baselines.get(q) ?? new Map<string, number>();
    const now = await violations(q);
    for (const [table, n] of now) {
      if (n > (before.get(table) ?? 0)) {
        throw new MigrateError(
          `foreign key check failed: the step left ${n - (before.get(table) ?? 0)} row(s) of ${table} pointing at missing parents; the step was rolled back`,
        );
      }
    }
    baselines.set(q, now);
  },
  // The write lock is the migration lock here (busy timeout = the migration lock timeout), and a
  // statement cannot be cancelled from outside: the core checks for a stop between statements.
  async sessionId() {
    return undefined;
  },
  async setLockWaitTimeout() {},
  isLockWaitTimeout: () => false,
};
