/**
 * The script contract: what a migration script module exports and what it is given.
 *
 * A module script (`NNN_desc.ts|.js|.mjs|.cjs`) exports
 *
 *     export async function upgrade(migrate_engine) { ... }
 *     export async function downgrade(migrate_engine) { ... }   // optional
 *
 * `migrate_engine` is a {@link MigrateEngine}: everything a script needs is on it, so a script in a
 * repository outside this package works with no import at all.
 *
 * Transactions: on PostgreSQL and SQLite the engine runs the script and the version bump in one
 * transaction (a failing step leaves nothing behind). On MySQL/MariaDB DDL commits by itself, so a
 * script there should be written so that running it again after an interruption converges.
 */
import type { QueryRunner, Table, TableColumn, TableForeignKey, TableIndex, TableUnique } from 'typeorm';
import type { Catalog } from '../catalog/catalog.js';
import type { Difference } from '../catalog/diff.js';

export type { Catalog, Difference };

/** The dialect name used for script selection (`NNN_desc_<dialect>_upgrade.sql`). */
export type DialectName = 'mysql' | 'postgresql' | 'sqlite';

/** The subset of a pino logger that scripts and the engine use. */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  info(msg: string): void;
  warn(obj: unknown, msg?: string): void;
  warn(msg: string): void;
  debug(obj: unknown, msg?: string): void;
  debug(msg: string): void;
  error(obj: unknown, msg?: string): void;
  error(msg: string): void;
  child?(bindings: Record<string, unknown>): Logger;
}

export type Row = Record<string, unknown>;

/** Where {@link MigrateEngine.writeLargeText} writes: one column of the rows whose `key` columns equal the given values. */
export interface LargeTextRow {
  readonly table: string;
  readonly column: string;
  /** Column → value, at least one (e.g. `{ id: 7 }`); compared with `=`. */
  readonly key: Readonly<Record<string, string | number | bigint>>;
}

export interface MigrateEngine {
  /** `mysql` (also for MariaDB), `postgresql` or `sqlite`. */
  readonly dialect: DialectName;
  /** TypeORM QueryRunner on the migration's own connection (the one that holds the lock). */
  readonly queryRunner: QueryRunner;
  /** Structured logger (pino). Progress of long steps goes here. */
  readonly logger: Logger;
  /**
   * Runs one SQL statement and returns its rows (an empty array for statements without rows).
   * Placeholders are `?` on every dialect (translated to `$1..$n` on PostgreSQL; `?` inside quoted
   * strings and identifiers is left alone).
   */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs one statement and returns the number of rows it changed (UPDATE/DELETE/INSERT). */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Sets one column of the row(s) matching `row.key` to `value`, however large the value is, and
   * returns the rows matched. Use it for values of megabytes: on MySQL/MariaDB one statement can
   * carry at most the server's `max_allowed_packet` (16 MB by default; the session cannot raise it)
   * and no SQL string function can assemble a longer value, so there the value is streamed with
   * `LOAD DATA LOCAL INFILE` into a session TEMPORARY table and copied into the row by one
   * `UPDATE … JOIN` on the server; no escaped SQL text of the value's size is ever built. When the
   * server refuses LOCAL INFILE (`local_infile` OFF) a value that fits one statement is written
   * with an ordinary UPDATE, and one that does not stops with one line naming the row, the value's
   * size, the limit and the two fixes, before anything is written. On PostgreSQL and SQLite it is
   * one parameterised UPDATE. It runs on the migration's own connection (inside the step's
   * transaction where there is one), counts as one statement, and in preview records the UPDATE.
   *
   * A string is written as text (UTF-8, converted to the column's character set); a Buffer as
   * bytes (a BLOB/bytea column, or on MySQL the raw bytes of a text column's character set).
   *
   *     await migrate_engine.writeLargeText({ table: 'raw_template', column: 'template', key: { id: 7 } }, text);
   */
  writeLargeText(row: LargeTextRow, value: string | Buffer): Promise<number>;
  /** The step being run. */
  readonly step: { readonly from: number; readonly to: number; readonly direction: 'upgrade' | 'downgrade' };
  /**
   * Set when an earlier attempt of this same step started but did not finish (MySQL/MariaDB only,
   * where DDL is not transactional): the script must expect part of its work to be done already.
   */
  readonly resumed: boolean;
  /**
   * Reports how far a long step is: `done` units (rows, templates...) of `total` (omit it when
   * unknown). Call it as often as convenient, e.g. once per batch: the engine passes it on as a
   * `progress` step event, and the CLI shows a bar with rate and ETA on a terminal (for steps that
   * run longer than about a second) or periodic JSON events off one. Does nothing in preview.
   */
  progress(done: number, total?: number): void;
  /**
   * The live schema now, read from the backend's catalog (docs/CATALOG.md): all tables, or only
   * `tables`. Reading it is not one of the script's statements. A step that may find part of its
   * work done (an interrupted run of this tool or of another) asks it what is there:
   * `(await migrate_engine.schema(['resource'])).hasColumn('resource', 'uuid')`.
   */
  schema(tables?: readonly string[]): Promise<Catalog>;
  /** The repository's expected schema of a version on this backend (docs/CATALOG.md), if it has one. */
  expected(version: number): Catalog | undefined;
  /** True when the engine only collects SQL (`--preview_sql`): `query` then records, not runs. */
  readonly preview: boolean;
  /** TypeORM's schema classes, so that scripts need no import. */
  readonly Table: typeof Table;
  readonly TableColumn: typeof TableColumn;
  readonly TableIndex: typeof TableIndex;
  readonly TableForeignKey: typeof TableForeignKey;
  readonly TableUnique: typeof TableUnique;
}

/** What a module script exports. */
export interface ScriptModule {
  upgrade?: (migrate_engine: MigrateEngine) => Promise<void> | void;
  downgrade?: (migrate_engine: MigrateEngine) => Promise<void> | void;
  /**
   * Where a database stands that is not exactly the schema of the step's `from` version (a run of
   * this step, by this tool or another, stopped part way): called before the step's first write
   * when the repository has expected schemas (docs/CATALOG.md), and by schema checks (`db_check`).
   * Return `partial` only for a state `upgrade` finishes exactly; `refuse` for a state of this step
   * it cannot finish because data it needs is gone; `unknown` for anything else. It must not write.
   */
  assess?: (state: StepState) => Promise<Assessment> | Assessment;
}

/** What `assess` is given: the live schema, the expected ones around the step, and a read-only query. */
export interface StepState {
  readonly dialect: DialectName;
  readonly from: number;
  readonly to: number;
  readonly live: Catalog;
  /** The expected schema of `from`. */
  readonly before: Catalog;
  /** The expected schema of `to`, when the repository has it. */
  readonly after?: Catalog;
  /** How `live` differs from `before`. */
  readonly differences: readonly Difference[];
  /** Reads rows (SELECT only; anything else throws). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export type Assessment =
  /** A state this step finishes: `summary` says how far it got ("resource.uuid added, ids not yet renumbered"). */
  | { readonly state: 'partial'; readonly summary: string }
  /** A state of this step it cannot finish (the data it needs is gone): `reason` says which and what to do. */
  | { readonly state: 'refuse'; readonly reason: string }
  /** Not a state of this step. */
  | { readonly state: 'unknown'; readonly note?: string };
