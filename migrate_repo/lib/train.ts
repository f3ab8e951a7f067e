/**
 * Helpers of Train's steps 072..086 (Heat 13.0.0's scripts; ../shared/heat-lineage/SPEC.md A2/A3).
 * Every helper looks at the live schema first and does only what is missing, so a step resumes any
 * state a run of it stopped in (ours on MariaDB, where DDL commits by itself, or real Heat's, which
 * runs these steps without a transaction on every backend).
 *
 *   await addColumnWithFk(e, { table: 'raw_template', column: 'files_id', fk: 'raw_tmpl_files_fkey_ref', references: 'raw_template_files' });
 *
 * SQLite cannot add a foreign key to a table: the table is rebuilt from its own CREATE TABLE text
 * (so every existing column keeps its exact declaration and position), with the new column appended
 * after the last column and the constraint after the last clause, its indexes made again and every
 * row copied with its id (SPEC A2 rule 7; the engine runs the step in one transaction with foreign
 * keys off, see sqlite-rebuild.ts).
 */
import type { Catalog, MigrateEngine } from '../../migrate/script/contract.js';
import { elements } from '../../migrate/dialect/sqlite-catalog.js';
import { rebuildTable } from './sqlite-rebuild.js';

export interface ForeignKeyInfo {
  readonly name: string;
  /** `CASCADE`, `RESTRICT`, `NO ACTION`... as the backend reports it (MySQL: DELETE_RULE; PostgreSQL: parsed from the definition). */
  readonly onDelete: string;
}

/** The named foreign keys on `table(column)` (MySQL and PostgreSQL; SQLite reports no names). */
export function foreignKeysOn(c: Catalog, table: string, column: string): ForeignKeyInfo[] {
  return c.all('foreign key', table).flatMap((o): ForeignKeyInfo[] => {
    if (c.dialect === 'mysql') return o.attrs.columns === column ? [{ name: o.name, onDelete: String(o.attrs['on delete']) }] : [];
    const def = String(o.attrs.definition ?? '');
    if (!def.startsWith(`FOREIGN KEY (${column})`)) return [];
    const m = /ON DELETE (CASCADE|SET NULL|SET DEFAULT|RESTRICT)/.exec(def);
    return [{ name: o.name, onDelete: m ? m[1]! : 'NO ACTION' }];
  });
}

const CLAUSE = /^(PRIMARY\s+KEY|CONSTRAINT|FOREIGN\s+KEY|UNIQUE|CHECK)\b/i;

export interface SqliteChange {
  /** A column to append after the table's last column: its declaration (`files_id INTEGER`). */
  readonly addColumn?: string;
  /** Drop every table-level FOREIGN KEY clause on this column. */
  readonly dropFkOn?: string;
  /** A table constraint to append (`CONSTRAINT n FOREIGN KEY(c) REFERENCES t (id)`). */
  readonly addClause?: string;
}

/** Rebuilds a SQLite table from its own CREATE TABLE text with `change` applied (see the module comment). */
export async function sqliteRebuild(e: MigrateEngine, table: string, change: SqliteChange): Promise<void> {
  const [row] = await e.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
  if (!row) throw new Error(`table ${table} does not exist`);
  const items = elements(String(row.sql));
  const columns = (await e.query(`PRAGMA table_info(${table})`)).map((r) => String(r.name));
  let cols = items.filter((i) => !CLAUSE.test(i));
  let clauses = items.filter((i) => CLAUSE.test(i));
  if (change.dropFkOn) {
    const on = new RegExp(`FOREIGN\\s+KEY\\s*\\(\\s*"?${change.dropFkOn}"?\\s*\\)`, 'i');
    clauses = clauses.filter((i) => !on.test(i));
  }
  if (change.addColumn) cols = [...cols, change.addColumn];
  if (change.addClause) clauses = [...clauses, change.addClause];
  const indexes = (await e.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", [table])).map((r) => String(r.sql));
  await rebuildTable(e, { table, body: [...cols, ...clauses].join(', '), columns, indexes });
}

/**
 * `table.column INTEGER` appended, with the named FK `fk` to `references(id)` (Train's 072, 079,
 * 080). MariaDB gives the FK its implicit index named after the constraint (SPEC A2 rule 5).
 */
export async function addColumnWithFk(
  e: MigrateEngine,
  o: { readonly table: string; readonly column: string; readonly fk: string; readonly references: string },
): Promise<void> {
  const c = await e.schema([o.table]);
  const hasColumn = c.hasColumn(o.table, o.column);
  const clause = `CONSTRAINT ${o.fk} FOREIGN KEY(${o.column}) REFERENCES ${o.references} (id)`;
  if (e.dialect === 'sqlite') {
    const named = c.all('named constraint', o.table).some((n) => n.name === o.fk);
    if (hasColumn && named) return;
    await sqliteRebuild(e, o.table, { addColumn: hasColumn ? undefined : `${o.column} INTEGER`, addClause: named ? undefined : clause });
    return;
  }
  if (!hasColumn) await e.query(`ALTER TABLE ${o.table} ADD ${o.column} INTEGER`);
  if (!foreignKeysOn(c, o.table, o.column).some((f) => f.name === o.fk)) await e.query(`ALTER TABLE ${o.table} ADD ${clause}`);
}

/** `CREATE TABLE` of a table Train adds (072, 079), unless it is there: MariaDB `ENGINE=InnoDB CHARSET=utf8` as every Mitaka table. */
export async function createTable(e: MigrateEngine, table: string, body: string): Promise<void> {
  const c = await e.schema([table]);
  if (c.hasTable(table)) return;
  await e.query(`CREATE TABLE ${table} (${body})${e.dialect === 'mysql' ? ' ENGINE=InnoDB CHARSET=utf8' : ''}`);
}
