/**
 * Reads a live database's schema as a {@link SchemaModel}, from the catalog itself —
 * information_schema on MySQL/MariaDB, pg_catalog on PostgreSQL (current schema), PRAGMAs and
 * sqlite_master on SQLite — never through TypeORM's schema introspection (which loses FK-backing
 * indexes and display widths).
 *
 *   await readCatalog('postgresql', dataSource)   // anything with query(sql) -> rows
 *
 * Left out: the engine's bookkeeping tables `migrate_*` other than `migrate_version`, and SQLite's
 * internal `sqlite_*` tables. Not represented: MySQL index prefix lengths (`tenant(255)`),
 * PostgreSQL sequence names, SQLite's AUTOINCREMENT keyword.
 */
import type { HeatDialect } from './kit.js';
import { canonicalRule, canonicalType, type ColumnModel, type ForeignKeyModel, type IndexModel, type SchemaModel, type TableModel } from './schema-diff.js';

/** Runs one statement without parameters; returns rows (a TypeORM DataSource or QueryRunner fits). */
export interface Queryable {
  query(sql: string): Promise<unknown>;
}

type Row = Record<string, unknown>;

/** Tables a schema comparison ignores: the engine's bookkeeping and SQLite's internals. */
export function isIgnoredTable(name: string): boolean {
  return (name.startsWith('migrate_') && name !== 'migrate_version') || name.startsWith('sqlite_');
}

export async function readCatalog(dialect: HeatDialect, db: Queryable): Promise<SchemaModel> {
  const q = async (sql: string) => (await db.query(sql)) as Row[];
  const tables = dialect === 'mysql' ? await readMysql(q) : dialect === 'postgresql' ? await readPg(q) : await readSqlite(q);
  return tables.filter((t) => !isIgnoredTable(t.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

type Q = (sql: string) => Promise<Row[]>;

interface Draft {
  name: string;
  columns: ColumnModel[];
  primaryKey: { name: string | null; columns: string[] };
  indexes: IndexModel[];
  foreignKeys: ForeignKeyModel[];
}

function drafts(names: Iterable<string>): Map<string, Draft> {
  const m = new Map<string, Draft>();
  for (const name of names) m.set(name, { name, columns: [], primaryKey: { name: null, columns: [] }, indexes: [], foreignKeys: [] });
  return m;
}

/** Rows grouped by a key, in row order. */
function groupBy(rows: Row[], key: (r: Row) => string): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return m;
}

const str = (v: unknown) => String(v);

async function readMysql(q: Q): Promise<TableModel[]> {
  const t = drafts(
    (await q("SELECT TABLE_NAME AS tbl FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")).map(
      (r) => str(r.tbl),
    ),
  );
  const cols = await q(
    'SELECT TABLE_NAME AS tbl, COLUMN_NAME AS col, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
  );
  for (const r of cols) {
    const dflt = r.dflt === null || r.dflt === undefined || r.dflt === 'NULL' ? null : str(r.dflt);
    t.get(str(r.tbl))?.columns.push({
      name: str(r.col),
      type: canonicalType('mysql', str(r.type)),
      nullable: r.nullable === 'YES',
      generated: /auto_increment/i.test(str(r.extra ?? '')),
      default: dflt,
    });
  }
  const stats = await q(
    'SELECT TABLE_NAME AS tbl, INDEX_NAME AS idx, NON_UNIQUE AS non_unique, COLUMN_NAME AS col FROM information_schema.STATISTICS ' +
      'WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
  );
  for (const [key, rows] of groupBy(stats, (r) => `${str(r.tbl)}\u0000${str(r.idx)}`)) {
    const [tbl, idx] = key.split('\u0000') as [string, string];
    const d = t.get(tbl);
    if (!d) continue;
    const columns = rows.map((r) => str(r.col));
    if (idx === 'PRIMARY') d.primaryKey = { name: null, columns };
    else d.indexes.push({ name: idx, columns, unique: Number(rows[0]!.non_unique) === 0 });
  }
  const fks = await q(
    'SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref_tbl, ' +
      'k.REFERENCED_COLUMN_NAME AS ref_col, r.UPDATE_RULE AS upd, r.DELETE_RULE AS del ' +
      'FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ' +
      'ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME ' +
      'WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION',
  );
  for (const rows of groupBy(fks, (r) => `${str(r.tbl)}\u0000${str(r.name)}`).values()) {
    const r0 = rows[0]!;
    t.get(str(r0.tbl))?.foreignKeys.push({
      name: str(r0.name),
      columns: rows.map((r) => str(r.col)),
      refTable: str(r0.ref_tbl),
      refColumns: rows.map((r) => str(r.ref_col)),
      onDelete: canonicalRule('mysql', str(r0.del)),
      onUpdate: canonicalRule('mysql', str(r0.upd)),
    });
  }
  return [...t.values()];
}

const PG_RULES: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** Attribute names of `rel` for the attnums in `arr`, in array order, comma-separated. */
const pgAttNames = (arr: string, rel: string) =>
  `array_to_string(ARRAY(SELECT a.attname FROM unnest(${arr}) WITH ORDINALITY AS k(num, ord) ` +
  `JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.num ORDER BY k.ord), ',')`;

async function readPg(q: Q): Promise<TableModel[]> {
  const inSchema = 'n.nspname = current_schema()';
  const t = drafts(
    (
      await q(`SELECT c.relname AS tbl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${inSchema} AND c.relkind IN ('r', 'p')`)
    ).map((r) => str(r.tbl)),
  );
  const cols = await q(
    'SELECT c.relname AS tbl, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, ' +
      'pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity AS ident ' +
      'FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace ' +
      'LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum ' +
      `WHERE ${inSchema} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum`,
  );
  for (const r of cols) {
    const dflt = r.dflt === null || r.dflt === undefined ? null : str(r.dflt);
    const generated = (dflt !== null && /^nextval\(/.test(dflt)) || r.ident === 'a' || r.ident === 'd';
    t.get(str(r.tbl))?.columns.push({
      name: str(r.col),
      type: canonicalType('postgresql', str(r.type)),
      nullable: r.notnull !== true,
      generated,
      default: generated ? null : dflt,
    });
  }
  const pks = await q(
    `SELECT t.relname AS tbl, con.conname AS name, ${pgAttNames('con.conkey', 'con.conrelid')} AS cols ` +
      `FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE ${inSchema} AND con.contype = 'p'`,
  );
  for (const r of pks) {
    const d = t.get(str(r.tbl));
    if (d) d.primaryKey = { name: str(r.name), columns: str(r.cols).split(',') };
  }
  const idx = await q(
    `SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS uniq, ${pgAttNames('x.indkey::int2[]', 't.oid')} AS cols ` +
      'FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid ' +
      `JOIN pg_namespace n ON n.oid = t.relnamespace WHERE ${inSchema} AND NOT x.indisprimary ORDER BY t.relname, i.relname`,
  );
  for (const r of idx) {
    t.get(str(r.tbl))?.indexes.push({ name: str(r.name), columns: str(r.cols).split(','), unique: r.uniq === true });
  }
  const fks = await q(
    `SELECT t.relname AS tbl, con.conname AS name, rt.relname AS ref_tbl, ${pgAttNames('con.conkey', 'con.conrelid')} AS cols, ` +
      `${pgAttNames('con.confkey', 'con.confrelid')} AS ref_cols, con.confdeltype AS del, con.confupdtype AS upd ` +
      'FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid JOIN pg_class rt ON rt.oid = con.confrelid ' +
      `JOIN pg_namespace n ON n.oid = t.relnamespace WHERE ${inSchema} AND con.contype = 'f' ORDER BY t.relname, con.conname`,
  );
  for (const r of fks) {
    t.get(str(r.tbl))?.foreignKeys.push({
      name: str(r.name),
      columns: str(r.cols).split(','),
      refTable: str(r.ref_tbl),
      refColumns: str(r.ref_cols).split(','),
      onDelete: PG_RULES[str(r.del)] ?? str(r.del),
      onUpdate: PG_RULES[str(r.upd)] ?? str(r.upd),
    });
  }
  return [...t.values()];
}

const sqlIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `CONSTRAINT name FOREIGN KEY (a, b)` clauses of a CREATE TABLE statement: columns -> name. */
export function sqliteFkNames(createSql: string): Map<string, string> {
  const names = new Map<string, string>();
  const re = /CONSTRAINT\s+("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\w+)\s+FOREIGN\s+KEY\s*\(([^)]*)\)/gi;
  for (const m of createSql.matchAll(re)) {
    const unquote = (s: string) => s.trim().replace(/^["`[](.*)["`\]]$/s, '$1').replace(/""/g, '"');
    names.set(m[2]!.split(',').map(unquote).join(','), unquote(m[1]!));
  }
  return names;
}

async function readSqlite(q: Q): Promise<TableModel[]> {
  const master = await q("SELECT name, sql FROM sqlite_master WHERE type = 'table'");
  const out: TableModel[] = [];
  for (const m of master) {
    const name = str(m.name);
    if (isIgnoredTable(name)) continue;
    const info = await q(`PRAGMA table_info(${sqlIdent(name)})`);
    const pk = info.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk));
    // A single-column INTEGER PRIMARY KEY is the rowid: SQLite generates its values.
    const rowid = pk.length === 1 && str(pk[0]!.type).toUpperCase() === 'INTEGER' ? str(pk[0]!.name) : null;
    const columns: ColumnModel[] = info.map((c) => ({
      name: str(c.name),
      type: canonicalType('sqlite', str(c.type)),
      nullable: Number(c.notnull) === 0 && str(c.name) !== rowid,
      generated: str(c.name) === rowid,
      default: c.dflt_value === null || c.dflt_value === undefined ? null : str(c.dflt_value),
    }));
    const indexes: IndexModel[] = [];
    for (const il of await q(`PRAGMA index_list(${sqlIdent(name)})`)) {
      if (il.origin === 'pk') continue;
      const cols = (await q(`PRAGMA index_info(${sqlIdent(str(il.name))})`)).sort((a, b) => Number(a.seqno) - Number(b.seqno));
      const idxName = str(il.name);
      indexes.push({
        name: idxName.startsWith('sqlite_autoindex_') ? null : idxName,
        columns: cols.map((c) => str(c.name)),
        unique: Number(il.unique) === 1,
      });
    }
    const fkNames = sqliteFkNames(str(m.sql ?? ''));
    const foreignKeys: ForeignKeyModel[] = [];
    for (const rows of groupBy(await q(`PRAGMA foreign_key_list(${sqlIdent(name)})`), (r) => str(r.id)).values()) {
      rows.sort((a, b) => Number(a.seq) - Number(b.seq));
      const columns = rows.map((r) => str(r.from));
      const r0 = rows[0]!;
      foreignKeys.push({
        name: fkNames.get(columns.join(',')) ?? null,
        columns,
        refTable: str(r0.table),
        refColumns: rows.map((r) => str(r.to)),
        onDelete: str(r0.on_delete).toUpperCase(),
        onUpdate: str(r0.on_update).toUpperCase(),
      });
    }
    out.push({ name, columns, primaryKey: { name: null, columns: pk.map((c) => str(c.name)) }, indexes, foreignKeys });
  }
  return out;
}
