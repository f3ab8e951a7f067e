/**
 * From a catalog (docs/CATALOG.md), the statements that create exactly that schema in an empty
 * database: what a fresh install runs instead of replaying every step (fresh.ts).
 *
 *   const m = materialize(expected, { skip: (t) => t === 'migrate_version' });
 *   m.statements   // prelude (PostgreSQL sequences), then per table its CREATE TABLE and indexes, then deferred FKs
 *
 * The dialect's writer (dialect/<d>-ddl.ts) turns one table's facts into statements; here the
 * tables are put in an order where every table comes after the tables its foreign keys reference
 * (a foreign key that closes a cycle is added after all tables), so that each table is one
 * CREATE TABLE with its keys inline where the dialect allows it. A fact a writer cannot express
 * throws CannotMaterializeError before anything runs: the caller replays the steps instead.
 */
import type { DialectName } from '../script/contract.js';
import { mysqlDdl } from '../dialect/mysql-ddl.js';
import { postgresDdl } from '../dialect/postgres-ddl.js';
import { sqliteDdl } from '../dialect/sqlite-ddl.js';
import { codePointCompare, tableOfFact, type Catalog, type Fact } from './catalog.js';

/** A fact of the catalog that the dialect's writer cannot turn into DDL. */
export class CannotMaterializeError extends Error {}

/** A foreign key of a table, as the writer names it (its key is what `addReferences` takes back). */
export interface Reference {
  readonly key: string;
  readonly table: string;
}

/** One dialect's DDL: the writer of dialect/<d>-ddl.ts. */
export interface DdlWriter {
  /** Foreign keys must reference existing tables when created (false: SQLite resolves them at use). */
  readonly orderedByReferences: boolean;
  /** Statements before any table (PostgreSQL: sequences no SERIAL column creates). */
  prelude(c: Catalog, tables: ReadonlySet<string>): string[];
  /** The foreign keys of `table`. */
  references(c: Catalog, table: string): Reference[];
  /** Statements that create `table` (its columns, keys, indexes), leaving out the foreign keys in `deferred`. */
  createTable(c: Catalog, table: string, deferred: ReadonlySet<string>): string[];
  /** Statements that add the foreign keys `keys` of an existing `table`. */
  addReferences(c: Catalog, table: string, keys: readonly string[]): string[];
}

export interface Materialized {
  /** The tables in creation order. */
  readonly tables: readonly { readonly table: string; readonly statements: readonly string[] }[];
  /** Every statement, in order: prelude, tables, deferred foreign keys. */
  readonly statements: readonly string[];
}

export function ddlWriter(dialect: DialectName): DdlWriter {
  return dialect === 'mysql' ? mysqlDdl : dialect === 'postgresql' ? postgresDdl : sqliteDdl;
}

/** The facts of one table (PostgreSQL: '' for sequences no column owns). */
export function factsOf(c: Catalog, table: string): Fact[] {
  return c.facts.filter((f) => tableOfFact(c.dialect, f) === table);
}

/**
 * The statements that create `c` in a database that has none of its tables. `skip`: tables left
 * out (the version table, which the version control already made; tables that already exist).
 */
export function materialize(c: Catalog, o: { skip?: (table: string) => boolean; writer?: DdlWriter } = {}): Materialized {
  const w = o.writer ?? ddlWriter(c.dialect);
  const tables = c.tables().filter((t) => !o.skip?.(t));
  const wanted = new Set(tables);
  const order: string[] = [];
  const deferred = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string) => {
    state.set(t, 'visiting');
    for (const r of w.orderedByReferences ? w.references(c, t) : []) {
      if (r.table === t || !wanted.has(r.table) || state.get(r.table) === 'done') continue;
      if (state.get(r.table) === 'visiting') deferred.set(t, [...(deferred.get(t) ?? []), r.key]);
      else visit(r.table);
    }
    state.set(t, 'done');
    order.push(t);
  };
  for (const t of [...tables].sort(codePointCompare)) if (!state.has(t)) visit(t);
  const out = order.map((table) => ({ table, statements: w.createTable(c, table, new Set(deferred.get(table) ?? [])) }));
  const late = [...deferred].flatMap(([t, keys]) => w.addReferences(c, t, keys));
  return { tables: out, statements: [...w.prelude(c, wanted), ...out.flatMap((t) => t.statements), ...late] };
}
