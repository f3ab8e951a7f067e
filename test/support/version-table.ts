/**
 * sqlalchemy-migrate's version table as each backend shows it (SPEC §8.1), for the tests that
 * compare ours with it (test/conformance: the DDL; test/integration/migrate-version-table: interop).
 */
import type { TestDatabase, TestDialect } from './db.js';
import { columnsOf } from './cli.js';

/** The Python tool's CREATE TABLE, as each backend reports/stores it (SPEC §8.1). */
export const PYTHON_DDL: Record<TestDialect, (table: string) => string> = {
  // MariaDB's SHOW CREATE TABLE of the Python tool's table (engine/charset: server defaults).
  mysql: (t) =>
    `CREATE TABLE \`${t}\` (\n  \`repository_id\` varchar(250) NOT NULL,\n  \`repository_path\` text DEFAULT NULL,\n` +
    `  \`version\` int(11) DEFAULT NULL,\n  PRIMARY KEY (\`repository_id\`)\n)`,
  postgresql: (t) =>
    `CREATE TABLE ${t} (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tCONSTRAINT ${t}_pkey PRIMARY KEY (repository_id)\n)`,
  // SQLite stores the statement verbatim, trailing spaces after the commas included.
  sqlite: (t) => `CREATE TABLE ${t} (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)`,
};

/** How the backend describes the table: must be identical for the Python tool's table and ours. */
export async function describeTable(db: TestDatabase, table: string): Promise<unknown> {
  if (db.dialect === 'mysql') {
    const [row] = await db.query(`SHOW CREATE TABLE \`${table}\``);
    return String(row!['Create Table']);
  }
  if (db.dialect === 'postgresql') {
    const cons = await db.query(
      `SELECT con.conname, pg_get_constraintdef(con.oid) AS def FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE c.relname = ? ORDER BY con.conname`,
      [table],
    );
    const idx = await db.query('SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ? ORDER BY indexname', [table]);
    return { columns: await columnsOf(db, table), constraints: cons, indexes: idx };
  }
  const [row] = await db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
  return String(row!.sql);
}

