/**
 * A backend-neutral description of a schema (tables, columns, primary keys, indexes, foreign keys)
 * and the comparison of two of them — the core of the ModelsMigrationsSync check (oslo.db's
 * test_migrations.ModelsMigrationsSync, which compares SQLAlchemy models with a migrated database).
 *
 *   diffSchemas(fromModels, fromDatabase)  -> Difference[]   (empty: in sync)
 *
 * Both sides are built by other modules: ./metadata.ts (TypeORM entity metadata) and ./catalog.ts
 * (the live database catalog). Types are compared in a canonical vocabulary ({@link canonicalType}):
 * `varchar(n)`, `integer`, `text`, `longtext`, `boolean`, `datetime`, `blob`; anything else keeps
 * its lower-cased name. A name that is not set — SQLite's unnamed FKs and `sqlite_autoindex_*`
 * uniques, a model that leaves TypeORM to generate `FK_…`/`UQ_…` — is `null`, and null must meet
 * null: objects pair up by content, then their names must agree.
 */
import type { HeatDialect } from './kit.js';

export interface ColumnModel {
  readonly name: string;
  /** Canonical type, see {@link canonicalType}. */
  readonly type: string;
  readonly nullable: boolean;
  /** An integer id the database generates (AUTO_INCREMENT, a nextval() default, a rowid alias). */
  readonly generated: boolean;
  /** Server default as text; null when none (a generated id's nextval() is not a default here). */
  readonly default: string | null;
}

export interface IndexModel {
  /** null: unnamed (matched on columns and uniqueness). */
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export interface ForeignKeyModel {
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly refTable: string;
  readonly refColumns: readonly string[];
  /** Canonical rule: NO ACTION, CASCADE, SET NULL, SET DEFAULT, RESTRICT. */
  readonly onDelete: string;
  readonly onUpdate: string;
}

export interface TableModel {
  readonly name: string;
  readonly columns: readonly ColumnModel[];
  /** Primary key columns in key order; name null where the backend does not name it. */
  readonly primaryKey: { readonly name: string | null; readonly columns: readonly string[] };
  /** Every index except the primary key's, unique constraints included. */
  readonly indexes: readonly IndexModel[];
  readonly foreignKeys: readonly ForeignKeyModel[];
}

export type SchemaModel = readonly TableModel[];

export type DifferenceKind =
  | 'table'
  | 'column'
  | 'type'
  | 'nullable'
  | 'generated'
  | 'default'
  | 'primary_key'
  | 'index'
  | 'foreign_key';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly table: string;
  /** Column, index or constraint the difference is about (absent for a whole table). */
  readonly object?: string;
  /** What the models say / what the database has; `(none)` when one side lacks the object. */
  readonly models: string;
  readonly database: string;
}

export const NONE = '(none)';
const UNNAMED = '(unnamed)';

/** One line per difference: `stack.name nullable: models=false database=true`. */
export function formatDifference(d: Difference): string {
  const where = d.object === undefined ? d.table : `${d.table}.${d.object}`;
  return `${where} ${d.kind}: models=${d.models} database=${d.database}`;
}

/**
 * A type name of any backend (`int(11)`, `character varying(255)`, `VARCHAR(255)`, `tinyint(1)`,
 * `timestamp without time zone`, `bytea`...) in the canonical vocabulary. `length` is used when the
 * name carries none (TypeORM keeps it apart). PostgreSQL's `timestamp` is `datetime`; MySQL's
 * TIMESTAMP is another type and stays `timestamp`.
 */
export function canonicalType(dialect: HeatDialect, name: string, length?: string | number): string {
  const m = /^\s*([a-z][a-z0-9 ]*?)\s*(?:\(\s*([^)]*?)\s*\))?\s*(unsigned)?\s*$/.exec(name.toLowerCase());
  if (!m) return name.toLowerCase();
  const base = m[1]!;
  const arg = m[2] ?? (length === undefined || length === '' ? undefined : String(length));
  switch (base) {
    case 'int':
    case 'integer':
    case 'int4':
      return m[3] ? 'integer unsigned' : 'integer';
    case 'varchar':
    case 'character varying':
      return arg === undefined ? 'varchar' : `varchar(${arg})`;
    case 'text':
    case 'longtext':
    case 'blob':
      return base;
    case 'bytea':
      return 'blob';
    case 'bool':
    case 'boolean':
      return 'boolean';
    case 'tinyint':
      return arg === '1' ? 'boolean' : 'tinyint';
    case 'datetime':
    case 'timestamp without time zone':
      return 'datetime';
    case 'timestamp':
      return dialect === 'postgresql' ? 'datetime' : 'timestamp';
    default:
      return arg === undefined ? base : `${base}(${arg})`;
  }
}

/**
 * ON DELETE / ON UPDATE in canonical form. On MySQL/MariaDB, RESTRICT is what an FK without a rule
 * reports and behaves as NO ACTION (InnoDB checks immediately either way).
 */
export function canonicalRule(dialect: HeatDialect, rule: string | undefined | null): string {
  const r = (rule ?? 'NO ACTION').toUpperCase();
  return dialect === 'mysql' && r === 'RESTRICT' ? 'NO ACTION' : r;
}

const list = (xs: readonly string[]) => `(${xs.join(', ')})`;
const describeIndex = (i: IndexModel) => `${i.unique ? 'UNIQUE ' : ''}${list(i.columns)}`;
const describeFk = (f: ForeignKeyModel) =>
  `${list(f.columns)} -> ${f.refTable}${list(f.refColumns)} ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate}`;
const fkSignature = (f: ForeignKeyModel) => `${list(f.columns)}->${f.refTable}${list(f.refColumns)}`;

/** Compares the models' schema with the database's; the result is sorted by table, kind, object. */
export function diffSchemas(models: SchemaModel, database: SchemaModel): Difference[] {
  const out: Difference[] = [];
  const dbTables = new Map(database.map((t) => [t.name, t]));
  const modelTables = new Map(models.map((t) => [t.name, t]));
  for (const m of models) {
    const d = dbTables.get(m.name);
    if (!d) out.push({ kind: 'table', table: m.name, models: 'present', database: NONE });
    else diffTable(m, d, out);
  }
  for (const d of database) {
    if (!modelTables.has(d.name)) out.push({ kind: 'table', table: d.name, models: NONE, database: 'present' });
  }
  return out.sort(
    (a, b) => cmp(a.table, b.table) || cmp(a.kind, b.kind) || cmp(a.object ?? '', b.object ?? '') || cmp(a.models, b.models),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function diffTable(m: TableModel, d: TableModel, out: Difference[]): void {
  const table = m.name;
  const dbCols = new Map(d.columns.map((c) => [c.name, c]));
  for (const mc of m.columns) {
    const dc = dbCols.get(mc.name);
    if (!dc) {
      out.push({ kind: 'column', table, object: mc.name, models: mc.type, database: NONE });
      continue;
    }
    dbCols.delete(mc.name);
    const push = (kind: DifferenceKind, a: unknown, b: unknown) =>
      out.push({ kind, table, object: mc.name, models: String(a), database: String(b) });
    if (mc.type !== dc.type) push('type', mc.type, dc.type);
    if (mc.nullable !== dc.nullable) push('nullable', mc.nullable, dc.nullable);
    if (mc.generated !== dc.generated) push('generated', mc.generated, dc.generated);
    if (mc.default !== dc.default) push('default', mc.default ?? NONE, dc.default ?? NONE);
  }
  for (const dc of dbCols.values()) out.push({ kind: 'column', table, object: dc.name, models: NONE, database: dc.type });

  const mpk = m.primaryKey;
  const dpk = d.primaryKey;
  if (list(mpk.columns) !== list(dpk.columns)) {
    out.push({ kind: 'primary_key', table, models: list(mpk.columns), database: list(dpk.columns) });
  } else if (mpk.name !== null && dpk.name !== null && mpk.name !== dpk.name) {
    out.push({ kind: 'primary_key', table, models: mpk.name, database: dpk.name });
  }

  diffIndexes(table, m.indexes, d.indexes, out);
  diffForeignKeys(table, m.foreignKeys, d.foreignKeys, out);
}

/**
 * Indexes pair up by name, then the rest by columns and uniqueness; a pair found by content whose
 * names differ (one of them possibly unnamed) is a name difference.
 */
function diffIndexes(table: string, mi: readonly IndexModel[], di: readonly IndexModel[], out: Difference[]): void {
  const rest = [...di];
  const unmatched: IndexModel[] = [];
  for (const i of mi) {
    const k = i.name === null ? -1 : rest.findIndex((x) => x.name === i.name);
    if (k < 0) {
      unmatched.push(i);
      continue;
    }
    const x = rest.splice(k, 1)[0]!;
    if (describeIndex(i) !== describeIndex(x)) {
      out.push({ kind: 'index', table, object: i.name!, models: describeIndex(i), database: describeIndex(x) });
    }
  }
  for (const i of unmatched) {
    const object = i.name ?? UNNAMED;
    const k = rest.findIndex((x) => describeIndex(x) === describeIndex(i));
    if (k < 0) {
      out.push({ kind: 'index', table, object, models: describeIndex(i), database: NONE });
      continue;
    }
    const x = rest.splice(k, 1)[0]!;
    if (i.name !== x.name) out.push({ kind: 'index', table, object, models: `name ${object}`, database: `name ${x.name ?? UNNAMED}` });
  }
  for (const x of rest) out.push({ kind: 'index', table, object: x.name ?? UNNAMED, models: NONE, database: describeIndex(x) });
}

/** FKs pair up by columns and referenced table/columns; then names (null = unnamed) and rules must agree. */
function diffForeignKeys(table: string, mf: readonly ForeignKeyModel[], df: readonly ForeignKeyModel[], out: Difference[]): void {
  const rest = [...df];
  for (const f of mf) {
    const k = rest.findIndex((x) => fkSignature(x) === fkSignature(f));
    const object = f.name ?? fkSignature(f);
    if (k < 0) {
      out.push({ kind: 'foreign_key', table, object, models: describeFk(f), database: NONE });
      continue;
    }
    const x = rest.splice(k, 1)[0]!;
    if (f.name !== x.name) {
      out.push({ kind: 'foreign_key', table, object, models: `name ${f.name ?? UNNAMED}`, database: `name ${x.name ?? UNNAMED}` });
    }
    if (f.onDelete !== x.onDelete || f.onUpdate !== x.onUpdate) {
      out.push({ kind: 'foreign_key', table, object, models: describeFk(f), database: describeFk(x) });
    }
  }
  for (const x of rest) {
    out.push({ kind: 'foreign_key', table, object: x.name ?? fkSignature(x), models: NONE, database: describeFk(x) });
  }
}
