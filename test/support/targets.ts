/**
 * Target schemas in the dumpers' file formats (../shared/heat-schema/README.md, copied to
 * test/fixtures/) read as Catalogs (docs/CATALOG.md), so that a live database (migrate/catalog/
 * introspect.ts) or a repository catalog can be compared with real Heat's dumps fact by fact:
 *
 *   targetCatalog('mysql', FIXTURES, 'mysql-71')   // mysql-71-{columns,indexes-ext,fks}.tsv + mysql-71.sql (table options)
 *   targetCatalog('postgresql', FIXTURES, 'postgresql-71')   // postgresql-71-catalog.tsv
 *   targetCatalog('sqlite', FIXTURES, 'sqlite-71')           // sqlite-71-catalog.tsv + sqlite-71.sql (constraint names)
 *   asQueryable(db)                                // a TestDatabase as the Queryable introspect() takes
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Catalog, isSchemaFact, unescapeCell, type Fact } from '../../migrate/catalog/catalog.js';
import type { Queryable } from '../../migrate/dialect/contract.js';
import { namedConstraints } from '../../migrate/dialect/sqlite-catalog.js';
import type { Row } from '../../migrate/script/contract.js';
import type { TestDatabase, TestDialect } from './db.js';

function rows(text: string): (string | null)[][] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t').map(unescapeCell));
}

/** `CREATE TABLE name (...) ENGINE=X ... COLLATE=Y` / `DEFAULT CHARSET=Z` of a SHOW CREATE TABLE dump. */
function mysqlTableOptions(sql: string): Fact[] {
  const out: Fact[] = [];
  const re = /CREATE TABLE `([^`]+)` \([\s\S]*?\n\) ENGINE=(\w+)([^;]*);/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const collate = /COLLATE=(\w+)/.exec(m[3]!)?.[1];
    const charset = /CHARSET=(\w+)/.exec(m[3]!)?.[1];
    // SHOW CREATE TABLE leaves out a charset's default collation.
    const collation = collate ?? (charset ? `${charset}_general_ci` : null);
    out.push(['table', m[1]!, m[2]!, collation]);
  }
  return out;
}

/** The target as the facts a schema comparison uses (catalog.ts isSchemaFact). */
export function targetCatalog(dialect: TestDialect, dir: string, prefix: string): Catalog {
  return allTargetFacts(dialect, dir, prefix).filter((f) => isSchemaFact(dialect, f));
}

function allTargetFacts(dialect: TestDialect, dir: string, prefix: string): Catalog {
  const read = (suffix: string) => readFileSync(join(dir, `${prefix}${suffix}`), 'utf8');
  if (dialect === 'mysql') {
    return new Catalog('mysql', [
      ...mysqlTableOptions(read('.sql')),
      ...rows(read('-columns.tsv')).map((r): Fact => ['column', ...r]),
      ...rows(read('-indexes-ext.tsv')).map((r): Fact => ['index', ...r]),
      ...rows(read('-fks.tsv')).map((r): Fact => ['fk', ...r]),
    ]);
  }
  const facts: Fact[] = rows(read('-catalog.tsv')).map(([k, ...r]) => [k!, ...r]);
  if (dialect === 'sqlite') {
    const sql = read('.sql');
    for (const m of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?("?)(\w+)\1 \(([\s\S]*?)\n\);/g)) {
      for (const c of namedConstraints(m[0])) facts.push(['named', m[2]!, c.name, '', c.type, c.columns, '']);
    }
  }
  return new Catalog(dialect, facts);
}

export function asQueryable(db: TestDatabase): Queryable {
  return {
    dialect: db.dialect,
    query: (sql, params) => db.query(sql, params ? [...params] : []) as Promise<Row[]>,
    execute: async () => {
      throw new Error('read-only');
    },
  };
}
