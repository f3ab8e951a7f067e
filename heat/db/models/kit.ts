/**
 * Column and constraint helpers for Heat's TypeORM entity schemas: one place that says how each of
 * Heat's SQLAlchemy types (heat/db/sqlalchemy/types.py) is declared on each backend.
 *
 *   const k = kit('mysql');
 *   k.intPk(), k.int(), k.str(36, { nullable: false }), k.text(), k.longText(), k.json(),
 *   k.bool(), k.datetime(), k.blob()
 *   k.pick({ mysql: 'event_ibfk_1', postgresql: 'event_stack_id_fkey' })  // a per-backend name
 *
 * Why per backend: TypeORM has no per-driver type variants (SQLAlchemy's `with_variant`), and it
 * rejects a type its driver does not know (`longtext` or `blob` on PostgreSQL, `bytea` on MySQL).
 * Heat's `LongText`/`Json` are LONGTEXT on MySQL and TEXT elsewhere; `PickleType` is BLOB/BYTEA.
 * The `portable` flavour declares types every driver accepts (TEXT for LongText, and TEXT for the
 * one PickleType column): fine for reading and writing rows, not exact DDL types.
 */
import { EntitySchema } from 'typeorm';
import type {
  EntitySchemaColumnOptions,
  EntitySchemaIndexOptions,
  EntitySchemaOptions,
  EntitySchemaRelationOptions,
  ValueTransformer,
} from 'typeorm';

type EntitySchemaUniqueOptions = NonNullable<EntitySchemaOptions<unknown>['uniques']>[number];

/** A backend whose Heat schema at version 71 the models reproduce exactly. */
export type HeatDialect = 'mysql' | 'postgresql' | 'sqlite';
/** The backends plus `portable` (one entity set accepted by every driver; see the module doc). */
export type ModelFlavour = HeatDialect | 'portable';

export const HEAT_DIALECTS: readonly HeatDialect[] = ['mysql', 'postgresql', 'sqlite'];

/** Heat's `Json` type: JSON-encodes bound values, decodes results (SQL NULL stays null). */
export const jsonTransformer: ValueTransformer = {
  to: (v: unknown) => (v === undefined ? undefined : v === null ? null : JSON.stringify(v)),
  from: (v: unknown) => (v === null || v === undefined ? v : JSON.parse(String(v))),
};

interface Opts {
  /** Default true, like SQLAlchemy's Column. */
  nullable?: boolean;
  primary?: boolean;
}

export interface Kit {
  readonly flavour: ModelFlavour;
  /** Integer primary key with a generated id (AUTO_INCREMENT / serial / rowid alias). */
  intPk(): EntitySchemaColumnOptions;
  int(o?: Opts): EntitySchemaColumnOptions;
  /** sqlalchemy.String(n) */
  str(length: number, o?: Opts): EntitySchemaColumnOptions;
  /** sqlalchemy.Text */
  text(o?: Opts): EntitySchemaColumnOptions;
  /** heat LongText: LONGTEXT on MySQL */
  longText(o?: Opts): EntitySchemaColumnOptions;
  /** heat Json (also heat List): a LongText holding JSON */
  json(o?: Opts): EntitySchemaColumnOptions;
  bool(o?: Opts): EntitySchemaColumnOptions;
  datetime(o?: Opts): EntitySchemaColumnOptions;
  /** sqlalchemy.PickleType */
  blob(o?: Opts): EntitySchemaColumnOptions;
  /** The name for this flavour (`portable` takes the PostgreSQL name); undefined = unnamed. */
  pick(names: Partial<Record<HeatDialect, string>>): string | undefined;
}

type Types = Record<'int' | 'varchar' | 'text' | 'longtext' | 'bool' | 'datetime' | 'blob', EntitySchemaColumnOptions['type']>;

const TYPES: Record<ModelFlavour, Types> = {
  mysql: { int: 'int', varchar: 'varchar', text: 'text', longtext: 'longtext', bool: 'boolean', datetime: 'datetime', blob: 'blob' },
  postgresql: { int: 'integer', varchar: 'varchar', text: 'text', longtext: 'text', bool: 'boolean', datetime: 'timestamp', blob: 'bytea' },
  sqlite: { int: 'integer', varchar: 'varchar', text: 'text', longtext: 'text', bool: 'boolean', datetime: 'datetime', blob: 'blob' },
  portable: { int: 'integer', varchar: 'varchar', text: 'text', longtext: 'text', bool: 'boolean', datetime: Date, blob: 'text' },
};

export function kit(flavour: ModelFlavour): Kit {
  const t = TYPES[flavour];
  const col = (type: EntitySchemaColumnOptions['type'], o: Opts = {}, extra: Partial<EntitySchemaColumnOptions> = {}) => {
    const c: EntitySchemaColumnOptions = { type, nullable: o.primary ? false : (o.nullable ?? true), ...extra };
    if (o.primary) c.primary = true;
    return c;
  };
  return {
    flavour,
    intPk: () => ({ type: t.int, primary: true, generated: 'increment', nullable: false }),
    int: (o) => col(t.int, o),
    str: (length, o) => col(t.varchar, o, { length }),
    text: (o) => col(t.text, o),
    longText: (o) => col(t.longtext, o),
    json: (o) => col(t.longtext, o, { transformer: jsonTransformer }),
    bool: (o) => col(t.bool, o),
    datetime: (o) => col(t.datetime, o),
    blob: (o) => col(t.blob, o),
    pick: (names) => names[flavour === 'portable' ? 'postgresql' : flavour],
  };
}

/** HeatBase's `created_at` / `updated_at` (set by the application, no server default). */
export function timestamps(k: Kit): { created_at: EntitySchemaColumnOptions; updated_at: EntitySchemaColumnOptions } {
  return { created_at: k.datetime(), updated_at: k.datetime() };
}

/** `<table>_pkey`: PostgreSQL's name of every Heat primary key (MySQL always says PRIMARY). */
export function pkName(table: string): string {
  return `${table}_pkey`;
}

/** Names of one constraint per backend; a backend left out keeps it unnamed (SQLite). */
export type PerDialect = Partial<Record<HeatDialect, string>>;

/**
 * A many-to-one relation over an FK column that the entity also declares as a plain column
 * (Heat's `Column(..., ForeignKey('t.id'))` + `relationship(...)`), with the FK's name per backend.
 */
export function manyToOne(k: Kit, target: string, column: string, fkName: PerDialect, inverseSide?: string): EntitySchemaRelationOptions {
  const name = k.pick(fkName);
  return {
    type: 'many-to-one',
    target,
    inverseSide,
    joinColumn: name === undefined ? { name: column } : { name: column, foreignKeyConstraintName: name },
  };
}

/** The one-to-many side of a {@link manyToOne} (a SQLAlchemy backref). */
export function oneToMany(target: string, inverseSide: string): EntitySchemaRelationOptions {
  return { type: 'one-to-many', target, inverseSide };
}

export interface TableSpec<T> {
  /** Entity name (Heat's model class name): `dataSource.getRepository('Stack')`. */
  readonly name: string;
  readonly table: string;
  readonly columns: EntitySchemaOptions<T>['columns'];
  readonly relations?: EntitySchemaOptions<T>['relations'];
  readonly indices?: EntitySchemaIndexOptions[];
  readonly uniques?: EntitySchemaUniqueOptions[];
  /**
   * Indexes that InnoDB created to back a foreign key (named after the column or the constraint):
   * part of the MySQL schema only.
   */
  readonly mysqlFkIndexes?: ReadonlyArray<readonly [name: string, column: string]>;
}

/** Builds the EntitySchema; primary keys get PostgreSQL's `<table>_pkey` constraint name. */
export function defineEntity<T>(k: Kit, spec: TableSpec<T>): EntitySchema<T> {
  const columns = {} as EntitySchemaOptions<T>['columns'];
  for (const [prop, c] of Object.entries(spec.columns) as [keyof T, EntitySchemaColumnOptions][]) {
    columns[prop] = c.primary ? { ...c, primaryKeyConstraintName: pkName(spec.table) } : { ...c };
  }
  const indices = [...(spec.indices ?? [])];
  if (k.flavour === 'mysql') {
    for (const [name, column] of spec.mysqlFkIndexes ?? []) indices.push({ name, columns: [column] });
  }
  return new EntitySchema<T>({
    name: spec.name,
    tableName: spec.table,
    columns,
    relations: spec.relations,
    indices,
    uniques: spec.uniques ?? [],
  });
}
