/**
 * Small DDL helpers shared by Heat's scripts.
 *
 * `addColumns` appends columns to a table in the given order, as Heat's successive
 * `Column.create(table)` calls do, with as few statements as each dialect allows (one ALTER on
 * MySQL and PostgreSQL; SQLite takes one column per ALTER). On a resumed MySQL step, columns that
 * are already there are left out.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasColumn, type MysqlState } from './mysql-state.js';

/** [name (quoted if it is a keyword), SQL type and constraints]. */
export type ColumnDef = readonly [name: string, definition: string];

export async function addColumns(
  e: MigrateEngine,
  table: string,
  columns: readonly ColumnDef[],
  state: MysqlState | null = null,
): Promise<void> {
  const todo = columns.filter(([name]) => !hasColumn(state, table, name.replace(/[`"]/g, '')));
  if (todo.length === 0) return;
  if (e.dialect === 'sqlite') {
    for (const [name, def] of todo) await e.query(`ALTER TABLE ${table} ADD COLUMN ${name} ${def}`);
    return;
  }
  await e.query(`ALTER TABLE ${table} ${todo.map(([name, def]) => `ADD COLUMN ${name} ${def}`).join(', ')}`);
}

/**
 * sqlalchemy-migrate's `populate_default`: after adding a column with a Python default, every
 * existing row gets that value in one UPDATE (MIGRATIONS.md §2.3).
 */
export async function backfill(e: MigrateEngine, table: string, column: string, valueSql: string): Promise<void> {
  await e.execute(`UPDATE ${table} SET ${column} = ${valueSql}`);
}
