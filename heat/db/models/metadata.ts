/**
 * The schema that a DataSource's entity metadata describes, as a {@link SchemaModel}:
 *
 *   schemaFromMetadata('mysql', dataSource)   // dataSource initialised with heatEntitiesFor('mysql')
 *
 * Types go through the driver's `normalizeType` (so `Date`, `Number`... resolve per driver) and then
 * {@link canonicalType}. Uniques and indices both become indexes (TypeORM itself keeps uniques as
 * indices on MySQL). Names TypeORM generated (no `name` given) are null.
 */
import type { DataSource, EntityMetadata } from 'typeorm';
import type { HeatDialect } from './kit.js';
import { canonicalRule, canonicalType, type ColumnModel, type IndexModel, type SchemaModel, type TableModel } from './schema-diff.js';

type ColumnMetadata = EntityMetadata['columns'][number];

export function schemaFromMetadata(dialect: HeatDialect, dataSource: DataSource): SchemaModel {
  return dataSource.entityMetadatas
    .filter((e) => e.tableType === 'regular')
    .map((e) => tableFromEntity(dialect, dataSource, e))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function columnType(dialect: HeatDialect, ds: DataSource, c: ColumnMetadata): string {
  const raw = typeof c.type === 'string' ? c.type : ds.driver.normalizeType(c);
  return canonicalType(dialect, raw, c.length);
}

function defaultOf(c: ColumnMetadata): string | null {
  if (c.default === undefined || c.default === null) return null;
  return typeof c.default === 'function' ? String(c.default()) : String(c.default);
}

function tableFromEntity(dialect: HeatDialect, ds: DataSource, e: EntityMetadata): TableModel {
  const columns: ColumnModel[] = e.columns.map((c) => ({
    name: c.databaseName,
    type: columnType(dialect, ds, c),
    nullable: c.isNullable,
    generated: c.isGenerated && c.generationStrategy === 'increment',
    default: defaultOf(c),
  }));
  // A column shared by a plain property and a relation's join column appears once in the table.
  const seen = new Set<string>();
  const unique = columns.filter((c) => !seen.has(c.name) && (seen.add(c.name), true));
  const indexes: IndexModel[] = [
    ...e.indices.map((i) => ({ name: i.givenName ?? null, columns: i.columns.map((c) => c.databaseName), unique: i.isUnique })),
    ...e.uniques.map((u) => ({ name: u.givenName ?? null, columns: u.columns.map((c) => c.databaseName), unique: true })),
  ];
  return {
    name: e.tableName,
    columns: unique,
    primaryKey: {
      name: e.primaryColumns[0]?.primaryKeyConstraintName ?? null,
      columns: e.primaryColumns.map((c) => c.databaseName),
    },
    indexes,
    foreignKeys: e.foreignKeys.map((f) => ({
      name: f.givenName ?? null,
      columns: f.columnNames,
      refTable: f.referencedEntityMetadata.tableName,
      refColumns: f.referencedColumnNames,
      onDelete: canonicalRule(dialect, f.onDelete),
      onUpdate: canonicalRule(dialect, f.onUpdate),
    })),
  };
}
