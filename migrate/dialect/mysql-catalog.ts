/**
 * The live schema of a MySQL/MariaDB database as catalog facts (docs/CATALOG.md): the queries of
 * ../shared/heat-schema/dumpers/dump_mysql.py on information_schema, plus each table's ENGINE and
 * TABLE_COLLATION; foreign keys from SHOW CREATE TABLE. Reading it needs no privilege beyond SELECT.
 */
import { isToolObject, type Cell, type Fact } from '../catalog/catalog.js';
import type { Queryable } from './contract.js';

const ident = String.raw`\`((?:[^\`]|\`\`)+)\``;
const unq = (s: string) => s.replace(/``/g, '`');
const list = (s: string) => [...s.matchAll(new RegExp(ident, 'g'))].map((m) => unq(m[1]!));
const FK = new RegExp(
  String.raw`CONSTRAINT ${ident} FOREIGN KEY \(([^)]*)\) REFERENCES (?:${ident}\.)?${ident} \(([^)]*)\)((?: ON (?:DELETE|UPDATE) (?:RESTRICT|CASCADE|SET NULL|NO ACTION|SET DEFAULT))*)`,
  'g',
);

/** The rows information_schema gives for the foreign keys of `table` (dump_mysql.py's fks), from its SHOW CREATE TABLE text. */
export function foreignKeyFacts(table: string, createTable: string): Fact[] {
  const facts: Fact[] = [];
  for (const m of createTable.matchAll(FK)) {
    const [, name, cols, , refTable, refCols, rules] = m;
    const rule = (what: string) => new RegExp(`ON ${what} (RESTRICT|CASCADE|SET NULL|NO ACTION|SET DEFAULT)`).exec(rules ?? '')?.[1] ?? 'RESTRICT';
    const from = list(cols!);
    const to = list(refCols!);
    from.forEach((c, i) => facts.push(['fk', unq(name!), table, c, String(i + 1), unq(refTable!), to[i] ?? null, rule('UPDATE'), rule('DELETE')]));
  }
  return facts;
}

const text = (v: unknown): Cell => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** `tables`: only these (a step's own tables); default: every table of the current database. */
export async function mysqlCatalogFacts(q: Pick<Queryable, 'query'>, tables?: readonly string[]): Promise<Fact[]> {
  if (tables && tables.length === 0) return [];
  const only = tables ? ` AND TABLE_NAME IN (${tables.map(() => '?').join(', ')})` : '';
  const p = tables ?? [];
  const [tbl, cols, stats] = [
    await q.query(`SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'${only}`, p),
    await q.query(
      'SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, COLUMN_DEFAULT, EXTRA ' +
        `FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()${only}`,
      p,
    ),
    await q.query(
      'SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, NULLABLE, INDEX_TYPE ' +
        `FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()${only}`,
      p,
    ),
  ];
  const facts: Fact[] = [];
  for (const r of tbl) facts.push(['table', text(r.TABLE_NAME), text(r.ENGINE), text(r.TABLE_COLLATION)]);
  for (const r of cols) {
    facts.push(['column', ...[r.TABLE_NAME, r.COLUMN_NAME, r.ORDINAL_POSITION, r.COLUMN_TYPE, r.IS_NULLABLE, r.COLUMN_KEY, r.COLUMN_DEFAULT, r.EXTRA].map(text)]);
  }
  for (const r of stats) {
    facts.push(['index', ...[r.TABLE_NAME, r.INDEX_NAME, r.NON_UNIQUE, r.SEQ_IN_INDEX, r.COLUMN_NAME, r.SUB_PART, r.NULLABLE, r.INDEX_TYPE].map(text)]);
  }
  // Foreign keys from SHOW CREATE TABLE: MariaDB's information_schema hides them (KEY_COLUMN_USAGE's
  // references, REFERENTIAL_CONSTRAINTS) from a user with SELECT only; SHOW CREATE TABLE needs no more.
  for (const r of tbl) {
    const table = String(text(r.TABLE_NAME));
    if (isToolObject(table)) continue;
    const [row] = await q.query(`SHOW CREATE TABLE \`${table.replace(/`/g, '``')}\``);
    facts.push(...foreignKeyFacts(table, String(text(row?.['Create Table'] ?? Object.values(row ?? {})[1]))));
  }
  return facts;
}
