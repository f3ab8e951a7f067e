/**
 * Heat's per-version schema catalogs (docs/CATALOG.md; migrate_repo/schema/<dialect>/NNN.tsv, made
 * by real Heat 6.0.0: scripts/heat-harness/) as the tests read them:
 *
 *   readCatalog('mysql', 71)             // the file's text
 *   catalogFacts(text)                   // its fact lines (header left out)
 *   projectCatalog('mysql', text)        // {'columns': ..., 'indexes-ext': ..., ...}: the shared dumpers' TSVs
 *   await liveCatalog(db)                // the fact lines of a live database, in the same form
 *   catalogDifferences(want, got)        // [] when equal, else the first missing / unexpected lines
 *
 * A catalog line is `<kind>\t<the cells of a dumper row>`; projection strips the kind, puts back the
 * dumper's header and the dumper's own row order (ORDER BY ... / Python's sort of tuples).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codePointCompare, compareKeys, dumpMysql, dumpPg, dumpSqlite, isEngineTable, mysqlTableOptions, cell } from './dump.js';

export type CatalogDialect = 'mysql' | 'postgresql' | 'sqlite';

/** This file compiles to dist/test/support/: the checkout is three levels up. */
export const CATALOG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrate_repo/schema');
export const CATALOG_VERSIONS: readonly number[] = Array.from({ length: 45 }, (_, i) => 27 + i);

export function catalogPath(dialect: CatalogDialect, version: number): string {
  return join(CATALOG_DIR, dialect, `${String(version).padStart(3, '0')}.tsv`);
}

export function readCatalog(dialect: CatalogDialect, version: number): string {
  return readFileSync(catalogPath(dialect, version), 'utf8');
}

/** The fact lines of a catalog text (the `#` header left out). */
export function catalogFacts(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const MYSQL_HEADERS: Record<string, string> = {
  columns: '#table\tcolumn\tordinal\tcolumn_type\tis_nullable\tcolumn_key\tcolumn_default\textra',
  indexes: '#table\tindex_name\tnon_unique\tseq_in_index\tcolumn_name',
  'indexes-ext': '#table\tindex_name\tnon_unique\tseq_in_index\tcolumn_name\tsub_part\tnullable\tindex_type',
  fks: '#constraint_name\ttable\tcolumn\tordinal\treferenced_table\treferenced_column\tupdate_rule\tdelete_rule',
};
const CATALOG_HEADER = '#kind\ttable\tname\tordinal\tdetail1\tdetail2\tdetail3';

type Key = (string | number)[];

function cellsOf(facts: readonly string[], kind: string): string[][] {
  return facts.filter((l) => l.startsWith(`${kind}\t`)).map((l) => l.split('\t').slice(1));
}

function tsvOf(header: string, rows: string[][], key: (r: string[]) => Key): string {
  const sorted = [...rows].sort((a, b) => compareKeys(key(a), key(b)));
  return `${header}\n${sorted.map((r) => `${r.join('\t')}\n`).join('')}`;
}

/** The shared dumpers' TSV texts a catalog holds (mysql: columns, indexes, indexes-ext, fks; else catalog). */
export function projectCatalog(dialect: CatalogDialect, text: string): Record<string, string> {
  const facts = catalogFacts(text);
  if (dialect === 'mysql') {
    const ext = cellsOf(facts, 'index');
    const extKey = (r: string[]): Key => [r[0]!, r[1]!, Number(r[3])];
    return {
      columns: tsvOf(MYSQL_HEADERS.columns!, cellsOf(facts, 'column'), (r) => [r[0]!, Number(r[2])]),
      indexes: tsvOf(MYSQL_HEADERS.indexes!, ext.map((r) => r.slice(0, 5)), extKey),
      'indexes-ext': tsvOf(MYSQL_HEADERS['indexes-ext']!, ext, extKey),
      fks: tsvOf(MYSQL_HEADERS.fks!, cellsOf(facts, 'fk'), (r) => [r[1]!, r[0]!, Number(r[3])]),
    };
  }
  const rows = (kind: string) => cellsOf(facts, kind).map((r) => [kind, ...r]);
  const parts: Array<[string, (r: string[]) => Key]> =
    dialect === 'postgresql'
      ? [
          ['column', (r) => [r[1]!, Number(r[3])]],
          ['constraint', (r) => [r[1]!, r[2]!]],
          ['index', (r) => [r[1]!, r[2]!]],
          ['sequence', (r) => [r[2]!]],
        ]
      : [
          ['column', (r) => [r[1]!, Number(r[3])]],
          ['index', (r) => [r[1]!, r[2]!]],
          // dump_sqlite.py sorts (from, referenced table, to, on delete) within a table
          ['fk', (r) => [r[1]!, r[2]!, ...splitRef(r[4]!), r[5]!]],
        ];
  let out = `${CATALOG_HEADER}\n`;
  for (const [kind, key] of parts) out += tsvOf('', rows(kind), key).slice(1);
  return { catalog: out };
}

function splitRef(ref: string): [string, string] {
  const i = ref.indexOf('(');
  return [ref.slice(0, i), ref.slice(i + 1, -1)];
}

/** The comma-separated items between the outer parentheses of a CREATE TABLE text. */
function definitions(sql: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sql.slice(sql.indexOf('(') + 1, sql.lastIndexOf(')'))) {
    if (ch === ',' && depth === 0) {
      items.push(cur.trim());
      cur = '';
      continue;
    }
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    cur += ch;
  }
  return [...items, cur.trim()];
}

/**
 * `named` facts of a SQLite CREATE TABLE text (PRAGMAs do not report constraint names): table-level
 * `CONSTRAINT n FOREIGN KEY(c) ...` and column-level `c INTEGER CONSTRAINT n REFERENCES ...` alike.
 * scripts/heat-harness/state.py `named_constraints` is the same rule.
 */
export function sqliteNamedFacts(table: string, sql: string): string[] {
  if (!sql.includes('(')) return [];
  const out: string[] = [];
  const fact = (name: string, type: string, cols: string) => out.push(['named', table, name, '', type, cols, ''].map((c) => cell(c)).join('\t'));
  for (const item of definitions(sql)) {
    const t = /^CONSTRAINT\s+("?)(\w+)\1\s+(FOREIGN KEY|UNIQUE|PRIMARY KEY|CHECK)\s*\(([^)]*)\)/i.exec(item);
    if (t) {
      fact(t[2]!, t[3]!.toUpperCase(), t[4]!.split(',').map((c) => c.trim().replace(/^"|"$/g, '')).join(','));
      continue;
    }
    const c = /CONSTRAINT\s+("?)(\w+)\1\s+(REFERENCES|UNIQUE|PRIMARY KEY|CHECK)\b/i.exec(item);
    if (c && !/^CONSTRAINT\b/i.test(item)) {
      const kind = c[3]!.toUpperCase();
      fact(c[2]!, kind === 'REFERENCES' ? 'FOREIGN KEY' : kind, item.split(/\s+/)[0]!.replace(/^"|"$/g, ''));
    }
  }
  return out;
}

function facts(kind: string, tsv: string): string[] {
  return tsv.split('\n').slice(1).filter((l) => l !== '').map((l) => (kind ? `${kind}\t${l}` : l));
}

/** The catalog facts of a live database (engine tables left out), sorted by code point. */
export async function liveCatalog(db: { dialect: CatalogDialect; name: string; file?: string }): Promise<string[]> {
  let out: string[];
  if (db.dialect === 'mysql') {
    const d = await dumpMysql(db.name);
    const tables = (await mysqlTableOptions(db.name)).map((t) => ['table', t.table, t.engine, t.collation].map((c) => cell(c)).join('\t'));
    out = [...tables, ...facts('column', d.columns), ...facts('index', d.indexesExt), ...facts('fk', d.fks)];
  } else if (db.dialect === 'postgresql') {
    out = facts('', await dumpPg(db.name));
  } else {
    const file = db.file!;
    out = facts('', await dumpSqlite(file));
    const Database = (await import('better-sqlite3')).default;
    const c = new Database(file, { readonly: true, fileMustExist: true });
    try {
      for (const r of c.prepare("select name, sql from sqlite_master where type='table'").all() as { name: string; sql: string | null }[]) {
        if (!isEngineTable(r.name)) out.push(...sqliteNamedFacts(r.name, r.sql ?? ''));
      }
    } finally {
      c.close();
    }
  }
  return out.sort(codePointCompare);
}

/** [] when the two fact lists are the same set; else what is missing from / unexpected in `got`. */
export function catalogDifferences(want: readonly string[], got: readonly string[], max = 5): string[] {
  const g = new Set(got);
  const w = new Set(want);
  const missing = want.filter((l) => !g.has(l));
  const extra = got.filter((l) => !w.has(l));
  const out: string[] = [];
  if (missing.length) out.push(`missing ${missing.length}: ${JSON.stringify(missing.slice(0, max))}`);
  if (extra.length) out.push(`unexpected ${extra.length}: ${JSON.stringify(extra.slice(0, max))}`);
  return out;
}
