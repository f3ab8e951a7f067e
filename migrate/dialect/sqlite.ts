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
import type { DialectAdapter } from './adapter.js';

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
  },
  async beforeCommit(q) {
    const bad = await q.query('PRAGMA foreign_key_check');
    if (bad.length) {
      const r = bad[0]!;
      throw new MigrateError(
        `foreign key check failed: ${bad.length} row(s), e.g. ${String(r.table)} rowid ${String(r.rowid)} -> ${String(r.parent)}; the step was rolled back`,
      );
    }
  },
};
