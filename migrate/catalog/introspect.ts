/**
 * The live schema of the connected database as a Catalog (docs/CATALOG.md), read from the
 * backend's own catalog (information_schema, pg_catalog, PRAGMAs): nothing is written, no privilege
 * beyond reading the catalog is needed. The tool's own objects (`migrate_*` but the version table)
 * and the version tables' MySQL table options are left out (catalog.ts isSchemaFact).
 */
import type { Queryable } from '../dialect/contract.js';
import { Catalog, isSchemaFact, type Fact } from './catalog.js';

/** `tables`: only these tables (PostgreSQL: '' stands for the sequences no column owns). */
export async function introspect(q: Pick<Queryable, 'dialect' | 'query'>, tables?: readonly string[]): Promise<Catalog> {
  let facts: Fact[];
  switch (q.dialect) {
    case 'mysql':
      facts = await (await import('../dialect/mysql-catalog.js')).mysqlCatalogFacts(q, tables);
      break;
    case 'postgresql':
      facts = await (await import('../dialect/postgres-catalog.js')).postgresCatalogFacts(q, tables);
      break;
    case 'sqlite':
      facts = await (await import('../dialect/sqlite-catalog.js')).sqliteCatalogFacts(q, tables);
      break;
  }
  return new Catalog(
    q.dialect,
    facts.filter((f) => isSchemaFact(q.dialect, f)),
  );
}
