/**
 * Schema dumps in the exact TSV format of ../shared/heat-schema/dumpers/ (dump_mysql.py,
 * dump_pg.sh, dump_sqlite.py), so a migrated database can be compared with the target files
 * byte for byte:
 *
 *   const d = await dumpMysql('t_123_abcd');  // {columns, indexes, indexesExt, fks}: TSV texts
 *   const c = await dumpPg('t_123_abcd');     // catalog TSV text
 *   const s = dumpSqlite('/tmp/x.sqlite');    // catalog TSV text
 *
 * Same queries, same sort (code-point order of the same keys), same cell escaping (`\N` for NULL;
 * backslash, tab, newline escaped), same `#` header line. The engine's own bookkeeping tables
 * (`migrate_*` other than `migrate_version`) are left out. `mysqlTableOptions` reports each table's
 * engine and collation (the TSVs do not carry them).
 */
import { MYSQL_SERVER, PG_SERVER, serverQuery } from './db.js';

type Cell = unknown;

/** dump_mysql.py / dump_sqlite.py `cell()`. */
export function cell(v: Cell): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

/** Python's sort of tuples of str/int: element by element, strings by code point. */
export function compareKeys(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return codePointCompare(String(x), String(y));
  }
  return a.length - b.length;
}

export function codePointCompare(a: string, b: string): number {
  const xa = Array.from(a);
  const xb = Array.from(b);
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const ca = xa[i]!.codePointAt(0)!;
    const cb = xb[i]!.codePointAt(0)!;
    if (ca !== cb) return ca - cb;
  }
  return xa.length - xb.length;
}

function tsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  let out = `#${header.join('\t')}\n`;
  for (const r of rows) out += `${r.map(cell).join('\t')}\n`;
  return out;
}

/** Tables of the engine's bookkeeping that schema comparisons ignore. */
export function isEngineTable(name: string): boolean {
  return name.startsWith('migrate_') && name !== 'migrate_version';
}

export interface MysqlDump {
  columns: string;
  indexes: string;
  indexesExt: string;
  fks: string;
}

/** Number-like cells as Python's pymysql returns them (ints), everything else as text. */
function num(v: Cell): number {
  return Number(v);
}

export async function dumpMysql(db: string): Promise<MysqlDump> {
  const q = async (sql: string) =>
    (await serverQuery('mysql', sql, [db], db)).filter((r) => !isEngineTable(String(r.TABLE_NAME)));
  const columns = await q(
    'SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, COLUMN_DEFAULT, EXTRA ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? ORDER BY TABLE_NAME, ORDINAL_POSITION',
  );
  const stats = await q(
    'SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, NULLABLE, INDEX_TYPE ' +
      'FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
  );
  const fks = await q(
    'SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION, k.REFERENCED_TABLE_NAME, ' +
      'k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE ' +
      'FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ' +
      'ON r.CONSTRAINT_SCHEMA=k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME=k.CONSTRAINT_NAME AND r.TABLE_NAME=k.TABLE_NAME ' +
      'WHERE k.TABLE_SCHEMA=? AND k.REFERENCED_TABLE_NAME IS NOT NULL ' +
      'ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION',
  );
  const sortBy = <T>(rows: T[], key: (r: T) => (string | number)[]) => rows.sort((a, b) => compareKeys(key(a), key(b)));
  const colRows = sortBy(
    columns.map((r) => [r.TABLE_NAME, r.COLUMN_NAME, num(r.ORDINAL_POSITION), r.COLUMN_TYPE, r.IS_NULLABLE, r.COLUMN_KEY, r.COLUMN_DEFAULT, r.EXTRA]),
    (r) => [String(r[0]), r[2] as number],
  );
  const ext = sortBy(
    stats.map((r) => [
      r.TABLE_NAME, r.INDEX_NAME, num(r.NON_UNIQUE), num(r.SEQ_IN_INDEX), r.COLUMN_NAME,
      r.SUB_PART === null ? null : num(r.SUB_PART), r.NULLABLE, r.INDEX_TYPE,
    ]),
    (r) => [String(r[0]), String(r[1]), r[3] as number],
  );
  const fkRows = sortBy(
    fks.map((r) => [
      r.CONSTRAINT_NAME, r.TABLE_NAME, r.COLUMN_NAME, num(r.ORDINAL_POSITION), r.REFERENCED_TABLE_NAME,
      r.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE,
    ]),
    (r) => [String(r[1]), String(r[0]), r[3] as number],
  );
  return {
    columns: tsv(['table', 'column', 'ordinal', 'column_type', 'is_nullable', 'column_key', 'column_default', 'extra'], colRows),
    indexes: tsv(['table', 'index_name', 'non_unique', 'seq_in_index', 'column_name'], ext.map((r) => r.slice(0, 5))),
    indexesExt: tsv(
      ['table', 'index_name', 'non_unique', 'seq_in_index', 'column_name', 'sub_part', 'nullable', 'index_type'],
      ext,
    ),
    fks: tsv(
      ['constraint_name', 'table', 'column', 'ordinal', 'referenced_table', 'referenced_column', 'update_rule', 'delete_rule'],
      fkRows,
    ),
  };
}

export interface MysqlTableOptions {
  table: string;
  engine: string;
  collation: string;
}

/** ENGINE and TABLE_COLLATION of every table (engine tables left out), by name. */
export async function mysqlTableOptions(db: string): Promise<MysqlTableOptions[]> {
  const rows = await serverQuery(
    'mysql',
    'SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA=? ORDER BY TABLE_NAME',
    [db],
    db,
  );
  return rows
    .filter((r) => !isEngineTable(String(r.TABLE_NAME)))
    .map((r) => ({ table: String(r.TABLE_NAME), engine: String(r.ENGINE), collation: String(r.TABLE_COLLATION) }));
}

/** The database's default collation (what migrate_version gets). */
export async function mysqlDefaultCollation(db: string): Promise<string> {
  const rows = await serverQuery('mysql', 'SELECT @@collation_database AS c', [], db);
  return String(rows[0]!.c);
}

const EXCLUDE_PG = (alias: string) => `(${alias}.relname NOT LIKE 'migrate\\_%' OR ${alias}.relname = 'migrate_version')`;

/** dump_pg.sh's catalog query (psql -A -t: NULL prints as an empty string). */
export async function dumpPg(db: string): Promise<string> {
  const sql = `
(select 'column' as kind, c.relname as t, a.attname as n, (row_number() over (partition by c.relname order by a.attnum))::text as o, format_type(a.atttypid, a.atttypmod) as d1,
        case when a.attnotnull then 'NOT NULL' else 'NULL' end as d2,
        coalesce(pg_get_expr(d.adbin, d.adrelid), '\\N') as d3
   from pg_attribute a join pg_class c on c.oid=a.attrelid join pg_namespace n on n.oid=c.relnamespace
   left join pg_attrdef d on d.adrelid=a.attrelid and d.adnum=a.attnum
  where n.nspname='public' and c.relkind='r' and a.attnum>0 and not a.attisdropped and ${EXCLUDE_PG('c')}
  order by c.relname collate "C", a.attnum)
union all
(select 'constraint', c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
        case con.confdeltype when 'a' then 'ON DELETE NO ACTION' when 'r' then 'ON DELETE RESTRICT' when 'c' then 'ON DELETE CASCADE' when 'n' then 'ON DELETE SET NULL' when 'd' then 'ON DELETE SET DEFAULT' else '' end, ''
   from pg_constraint con join pg_class c on c.oid=con.conrelid join pg_namespace n on n.oid=c.relnamespace
  where n.nspname='public' and ${EXCLUDE_PG('c')} order by c.relname collate "C", con.conname collate "C")
union all
(select 'index', c.relname, i.relname, case when x.indisunique then 'unique' else 'non_unique' end, pg_get_indexdef(i.oid),
        case when x.indisprimary then 'primary' else '' end, ''
   from pg_index x join pg_class i on i.oid=x.indexrelid join pg_class c on c.oid=x.indrelid join pg_namespace n on n.oid=c.relnamespace
  where n.nspname='public' and ${EXCLUDE_PG('c')} order by c.relname collate "C", i.relname collate "C")
union all
(select 'sequence', coalesce(tc.relname,''), s.relname, '', coalesce('owned by '||tc.relname||'.'||ta.attname,'not owned'), '', ''
   from pg_class s join pg_namespace n on n.oid=s.relnamespace
   left join pg_depend dep on dep.objid=s.oid and dep.classid='pg_class'::regclass and dep.deptype='a'
   left join pg_class tc on tc.oid=dep.refobjid left join pg_attribute ta on ta.attrelid=dep.refobjid and ta.attnum=dep.refobjsubid
  where n.nspname='public' and s.relkind='S' and (tc.relname is null or ${EXCLUDE_PG('tc')}) order by s.relname collate "C")`;
  const rows = await serverQuery('postgresql', sql, [], db);
  let out = '#kind\ttable\tname\tordinal\tdetail1\tdetail2\tdetail3\n';
  for (const r of rows) {
    out += [r.kind, r.t, r.n, r.o, r.d1, r.d2, r.d3].map((v) => (v === null ? '' : String(v))).join('\t') + '\n';
  }
  return out;
}

/** dump_sqlite.py's catalog. */
export async function dumpSqlite(file: string): Promise<string> {
  const Database = (await import('better-sqlite3')).default;
  const c = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows: Cell[][] = [];
    const master = c.prepare("select name, sql from sqlite_master where type='table'").all() as { name: string; sql: string | null }[];
    // sqlite_sequence exists once any table used AUTOINCREMENT: when only engine tables did, it is
    // the engine's too.
    const engineSequence = !master.some((r) => !isEngineTable(r.name) && r.name !== 'sqlite_sequence' && /autoincrement/i.test(r.sql ?? ''));
    const tables = master
      .map((r) => r.name)
      .filter((n) => !isEngineTable(n) && !(engineSequence && n === 'sqlite_sequence'))
      .sort(codePointCompare);
    const qi = (s: string) => s.replace(/"/g, '""');
    for (const t of tables) {
      for (const r of c.prepare(`pragma table_info("${qi(t)}")`).all() as {
        cid: number; name: string; type: string; notnull: number; dflt_value: unknown; pk: number;
      }[]) {
        rows.push(['column', t, r.name, r.cid + 1, r.type, r.notnull ? 'NOT NULL' : 'NULL', `pk=${r.pk} default=${cell(r.dflt_value)}`]);
      }
    }
    for (const t of tables) {
      const list = (c.prepare(`pragma index_list("${qi(t)}")`).all() as { name: string; unique: number; origin: string }[]).sort(
        (a, b) => codePointCompare(a.name, b.name),
      );
      for (const ix of list) {
        const cols = (c.prepare(`pragma index_info("${qi(ix.name)}")`).all() as { name: string | null }[]).map((r) => String(r.name)).join(',');
        rows.push(['index', t, ix.name, ix.unique ? 'unique' : 'non_unique', cols, `origin=${ix.origin}`, '']);
      }
    }
    for (const t of tables) {
      const byId = new Map<number, { seq: number; table: string; from: string; to: string | null; on_delete: string }[]>();
      for (const r of c.prepare(`pragma foreign_key_list("${qi(t)}")`).all() as {
        id: number; seq: number; table: string; from: string; to: string | null; on_delete: string;
      }[]) {
        if (!byId.has(r.id)) byId.set(r.id, []);
        byId.get(r.id)!.push(r);
      }
      const lst = [...byId.values()].map((v) => {
        const s = [...v].sort((a, b) => a.seq - b.seq);
        return [s.map((x) => x.from).join(','), v[0]!.table, s.map((x) => (x.to === null ? 'None' : x.to)).join(','), v[0]!.on_delete];
      });
      lst.sort((a, b) => compareKeys(a, b));
      for (const [frm, rt, to, ondel] of lst) rows.push(['fk', t, frm, '', `${rt}(${to})`, `ON DELETE ${ondel}`, '']);
    }
    let out = '#kind\ttable\tname\tordinal\tdetail1\tdetail2\tdetail3\n';
    for (const r of rows) out += r.map(cell).join('\t') + '\n';
    return out;
  } finally {
    c.close();
  }
}

export { MYSQL_SERVER, PG_SERVER };
