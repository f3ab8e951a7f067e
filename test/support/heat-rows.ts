/**
 * Canonical rows: every row of every table of a database as text, the same text
 * scripts/heat-harness/state.py `rows()` writes for the same database (the suite checks that:
 * test/integration/heat-takeover-format.test.ts). Format v1:
 *
 *   #rows<TAB>v1<TAB><dialect>
 *   columns<TAB><table><TAB><column>...         the table's columns in ordinal order
 *   row<TAB><table><TAB><cell>...               one line per row, cells in that order
 *   autoincrement<TAB><table><TAB><n>           MySQL: information_schema.TABLES.AUTO_INCREMENT (not NULL)
 *   sequence<TAB><name><TAB><last_value><TAB><true|false>   PostgreSQL: every sequence, last_value and is_called
 *
 * Every line after the header sorted by code point. A cell is `\N` for NULL; a binary value (MySQL
 * *blob/*binary, PostgreSQL bytea, SQLite blob) is `\x` + lower-case hex; any other value is the text
 * the database gives for it (MySQL CAST(c AS CHAR), PostgreSQL c::text, SQLite CAST(c AS TEXT)) with
 * backslash, tab, newline and carriage return escaped (`\\`, `\t`, `\n`, `\r`), and the address in
 * `<function uuid4 at 0x...>` (the value 035/057 back-fill and then overwrite) written as ADDRESS. The engine's own
 * tables (`migrate_*` but `migrate_version`) and `migrate_version.repository_path` are left out.
 *
 *   const text = await canonicalRows(db)      // db: {dialect, name, file?} (test/support/db.ts)
 */
import { codePointCompare, isEngineTable, MYSQL_SERVER, PG_SERVER } from './dump.js';

type Q = (sql: string) => Promise<unknown[][]>;
type Dialect = 'mysql' | 'postgresql' | 'sqlite';

const MYSQL_BINARY = new Set(['blob', 'tinyblob', 'mediumblob', 'longblob', 'binary', 'varbinary']);

/** 035/057 back-fill the repr of Python's uuid4 function, whose address changes from run to run. */
const UUID4_REPR = /<function uuid4 at 0x[0-9a-f]+>/g;

function rowCell(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(UUID4_REPR, '<function uuid4 at ADDRESS>').replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Runs `fn` with one connection to the database: a query function returning rows as arrays. */
export async function withQuery<T>(db: { dialect: Dialect; name: string; file?: string }, fn: (q: Q) => Promise<T>): Promise<T> {
  if (db.dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const u = new URL(MYSQL_SERVER.replace(/^(mysql|mariadb)(\+\w+)?:/, 'http:'));
    const conn = await mysql.createConnection({
      host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password), database: db.name, rowsAsArray: true, supportBigNumbers: true, bigNumberStrings: true,
    });
    try {
      return await fn(async (sql) => (await conn.query(sql))[0] as unknown[][]);
    } finally {
      await conn.end();
    }
  }
  if (db.dialect === 'postgresql') {
    const pg = (await import('pg')).default;
    const u = new URL(PG_SERVER.replace(/^postgres(ql)?(\+\w+)?:/, 'http:'));
    const client = new pg.Client({
      host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'),
      password: decodeURIComponent(u.password), database: db.name,
    });
    await client.connect();
    try {
      return await fn(async (sql) => (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][]);
    } finally {
      await client.end();
    }
  }
  const Database = (await import('better-sqlite3')).default;
  const c = new Database(db.file!, { readonly: true, fileMustExist: true });
  try {
    return await fn(async (sql) => c.prepare(sql).raw(true).all() as unknown[][]);
  } finally {
    c.close();
  }
}

interface Column {
  readonly name: string;
  readonly binary: boolean;
}

async function columnsOf(dialect: Dialect, q: Q): Promise<Map<string, Column[]>> {
  const out = new Map<string, Column[]>();
  const add = (t: string, c: Column) => {
    if (isEngineTable(t)) return;
    if (!out.has(t)) out.set(t, []);
    out.get(t)!.push(c);
  };
  if (dialect === 'sqlite') {
    const tables = (await q("select name from sqlite_master where type='table'")).map((r) => String(r[0])).sort(codePointCompare);
    for (const t of tables) for (const r of await q(`pragma table_info("${t}")`)) add(t, { name: String(r[1]), binary: false });
    return out;
  }
  const rows =
    dialect === 'mysql'
      ? await q(
          'SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ' +
            'ON t.TABLE_SCHEMA=c.TABLE_SCHEMA AND t.TABLE_NAME=c.TABLE_NAME ' +
            "WHERE c.TABLE_SCHEMA=DATABASE() AND t.TABLE_TYPE='BASE TABLE' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        )
      : await q(
          'SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c JOIN information_schema.tables t ' +
            'ON t.table_schema=c.table_schema AND t.table_name=c.table_name ' +
            "WHERE c.table_schema='public' AND t.table_type='BASE TABLE' ORDER BY c.table_name, c.ordinal_position",
        );
  for (const [t, c, ty] of rows) {
    add(String(t), { name: String(c), binary: dialect === 'mysql' ? MYSQL_BINARY.has(String(ty)) : ty === 'bytea' });
  }
  return out;
}

function selectList(dialect: Dialect, cols: readonly Column[]): string {
  return cols
    .map(({ name: c, binary }) => {
      if (dialect === 'mysql') return binary ? `LOWER(HEX(\`${c}\`))` : `CAST(\`${c}\` AS CHAR)`;
      if (dialect === 'postgresql') return binary ? `encode("${c}", 'hex')` : `"${c}"::text`;
      return `CASE WHEN typeof("${c}")='blob' THEN 'x' || lower(hex("${c}")) ELSE 't' || CAST("${c}" AS TEXT) END`;
    })
    .join(', ');
}

function render(dialect: Dialect, cols: readonly Column[], values: readonly unknown[]): string[] {
  return cols.map((c, i) => {
    const v = values[i];
    if (v === null || v === undefined) return '\\N';
    const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    if (dialect === 'sqlite') return s[0] === 'x' ? `\\x${s.slice(1)}` : rowCell(s.slice(1));
    return c.binary ? `\\x${s}` : rowCell(s);
  });
}

/** The canonical rows of a database (format above). */
export async function canonicalRows(db: { dialect: Dialect; name: string; file?: string }): Promise<string> {
  const { dialect } = db;
  const lines = await withQuery(db, async (q) => {
    const out: string[] = [];
    const quote = dialect === 'mysql' ? '`' : '"';
    for (const [t, all] of await columnsOf(dialect, q)) {
      const cols = t === 'migrate_version' ? all.filter((c) => c.name !== 'repository_path') : all;
      out.push(['columns', t, ...cols.map((c) => c.name)].join('\t'));
      for (const values of await q(`SELECT ${selectList(dialect, cols)} FROM ${quote}${t}${quote}`)) {
        out.push(['row', t, ...render(dialect, cols, values)].join('\t'));
      }
    }
    if (dialect === 'mysql') {
      const rows = await q(
        'SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA=DATABASE() AND AUTO_INCREMENT IS NOT NULL',
      );
      for (const [t, n] of rows) if (!isEngineTable(String(t))) out.push(`autoincrement\t${t}\t${n}`);
    } else if (dialect === 'postgresql') {
      const seqs = await q("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' AND c.relkind='S'");
      for (const [s] of seqs) {
        if (isEngineTable(String(s))) continue;
        const [[last, called]] = (await q(`SELECT last_value, is_called FROM "${s}"`)) as [[unknown, unknown]];
        out.push(`sequence\t${s}\t${last}\t${called ? 'true' : 'false'}`);
      }
    }
    return out;
  });
  return `#rows\tv1\t${dialect}\n${lines.sort(codePointCompare).map((l) => `${l}\n`).join('')}`;
}
