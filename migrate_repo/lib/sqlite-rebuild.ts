/**
 * SQLite table rebuild: SQLite cannot change a column's type or nullability, drop a column that a
 * constraint uses, or reorder columns, so such steps build the new table beside the old one:
 *
 *   CREATE TABLE new_<t> (...);  INSERT INTO new_<t> (cols) SELECT exprs FROM <source>;
 *   DROP TABLE <t>;  ALTER TABLE new_<t> RENAME TO <t>;  CREATE INDEX ... (the table's indexes)
 *
 * The engine runs the step in one transaction with `PRAGMA foreign_keys=OFF`, so dropping a parent
 * table neither fails nor cascades, and the children's `REFERENCES <t>` clauses simply point at the
 * new table once it has the old name. The rename is of the *new* table, so nothing refers to its
 * temporary name and `legacy_alter_table` does not matter (with the modern behaviour SQLite would
 * otherwise rewrite other tables' references to a renamed table).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export interface Rebuild {
  table: string;
  /** Everything between the parentheses of the new CREATE TABLE. */
  body: string;
  /** Target column names, in insert order. */
  columns: readonly string[];
  /** SELECT list matching `columns` (default: the same names). */
  select?: readonly string[];
  /** FROM clause, tail included (default: the table itself). */
  from?: string;
  /** CREATE INDEX statements to run after the rename. */
  indexes?: readonly string[];
}

export async function rebuildTable(e: MigrateEngine, r: Rebuild): Promise<void> {
  const tmp = `new_${r.table}`;
  await e.query(`CREATE TABLE ${tmp} (${r.body})`);
  await e.query(
    `INSERT INTO ${tmp} (${r.columns.join(', ')}) SELECT ${(r.select ?? r.columns).join(', ')} FROM ${r.from ?? r.table}`,
  );
  await e.query(`DROP TABLE ${r.table}`);
  await e.query(`ALTER TABLE ${tmp} RENAME TO ${r.table}`);
  for (const ix of r.indexes ?? []) await e.query(ix);
}
