/**
 * The live schema of a MySQL/MariaDB database as catalog facts (docs/CATALOG.md): the queries of
 * ../shared/heat-schema/dumpers/dump_mysql.py on information_schema, plus each table's ENGINE and
 * TABLE_COLLATION. Reading the catalog needs no privilege beyond seeing the tables.
 */
import type { Cell, Fact } from '../catalog/catalog.js';
import type { Queryable } from './contract.js';

const text = (v: unknown): Cell => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** `tables`: only these (a step's own tables); default: every table of the current database. */
export async function mysqlCatalogFacts(q: Pick<Queryable, 'query'>, tables?: readonly string[]): Promise<Fact[]> {
  if (tables && tables.length === 0) return [];
  const only = tables ? ` AND TABLE_NAME IN (${tables.map(() => '?').join(', ')})` : '';
  const onlyK = tables ? ` AND k.TABLE_NAME IN (${tables.map(() => '?').join(', ')})` : '';
  const p = tables ?? [];
  const [tbl, cols, stats, fks] = [
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
    await q.query(
      'SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION, k.REFERENCED_TABLE_NAME, ' +
        'k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE ' +
        'FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ' +
        'ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME ' +
        `WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL${onlyK}`,
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
  for (const r of fks) {
    facts.push(['fk', ...[r.CONSTRAINT_NAME, r.TABLE_NAME, r.COLUMN_NAME, r.ORDINAL_POSITION, r.REFERENCED_TABLE_NAME, r.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE].map(text)]);
  }
  return facts;
}
