/**
 * The ModelsMigrationsSync check: do the entities a DataSource was opened with describe the
 * database it is connected to? (oslo.db's test_migrations.ModelsMigrationsSync, for TypeORM.)
 *
 *   const ds = await new DataSource({ type: 'postgres', ..., entities: heatEntitiesFor('postgresql') }).initialize();
 *   const diffs = await modelsMigrationsDiff(ds);   // [] when in sync
 *   diffs.map(formatDifference)                     // "stack.name nullable: models=false database=true"
 *
 * Compared: tables; columns (canonical type incl. length, nullability, generated id, server
 * default); primary key columns (and name where the backend names it); indexes and unique
 * constraints (name, columns in order, uniqueness); foreign keys (columns, referenced table and
 * columns, name, ON DELETE/UPDATE). Ignored: `migrate_*` bookkeeping tables other than
 * `migrate_version`, column order, and what TypeORM cannot express (see ./catalog.ts).
 */
import type { DataSource } from 'typeorm';
import { readCatalog } from './catalog.js';
import type { HeatDialect } from './kit.js';
import { schemaFromMetadata } from './metadata.js';
import { diffSchemas, type Difference } from './schema-diff.js';

export { formatDifference, type Difference } from './schema-diff.js';

export function dialectOf(ds: DataSource): HeatDialect {
  const type = ds.options.type;
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  if (type === 'postgres') return 'postgresql';
  if (type === 'better-sqlite3') return 'sqlite';
  throw new Error(`no schema comparison for TypeORM driver '${type}'`);
}

export async function modelsMigrationsDiff(ds: DataSource): Promise<Difference[]> {
  const dialect = dialectOf(ds);
  return diffSchemas(schemaFromMetadata(dialect, ds), await readCatalog(dialect, ds));
}
