/**
 * The only SQL on the version table (`migrate_version` by default), byte-compatible with
 * sqlalchemy-migrate: same DDL, one row per repository_id, repository_path stored as given, and the
 * per-step compare-and-set update `... WHERE version = <from> AND repository_id = <id>`, whose row
 * count we check (the Python tool does not).
 */
import type { DialectAdapter, Queryable } from './dialect/contract.js';
import { ControlledSchemaError, DatabaseAlreadyControlledError } from './errors.js';
import type { VersionState, VersionStore } from './storage.js';

/** The version table, as sqlalchemy-migrate creates it (SPEC §8.1), identical on every backend. */
export function versionTableDdl(table: string, quote: (id: string) => string): string {
  // Unquoted like SQLAlchemy for plain lower-case names (SQLite keeps the text verbatim); quoted
  // otherwise, so that every later (quoted) statement finds it.
  const name = /^[a-z_][a-z0-9_]*$/.test(table) ? table : quote(table);
  return `CREATE TABLE ${name} (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)`;
}

export interface VersionTableRef {
  readonly table: string;
  readonly repositoryId: string;
}

export class VersionTable implements VersionStore {
  private readonly t: string;
  constructor(
    private readonly q: Queryable,
    private readonly a: DialectAdapter,
    readonly ref: VersionTableRef,
  ) {
    this.t = a.quote(ref.table);
  }

  async read(inTransaction = false): Promise<VersionState> {
    // A failing SELECT would abort a PostgreSQL transaction: look the table up first there.
    if (inTransaction && !(await this.a.tableExists(this.q, this.ref.table))) return 'no-table';
    let rows;
    try {
      rows = await this.q.query(`SELECT version FROM ${this.t} WHERE repository_id = ?`, [this.ref.repositoryId]);
    } catch (e) {
      if (this.a.classify(e) === 'missing-table') return 'no-table';
      throw e;
    }
    if (!rows.length) return 'no-row';
    const { table, repositoryId: id } = this.ref;
    if (rows.length > 1) {
      throw new ControlledSchemaError(
        `${table} has ${rows.length} rows for repository '${id}' (versions ${rows.map((r) => String(r.version)).join(', ')}): ` +
          'the table has lost its primary key; delete the rows that do not match the schema, keep one, and restore PRIMARY KEY (repository_id)',
      );
    }
    const v = rows[0]!.version;
    if (v === null || v === undefined) {
      throw new ControlledSchemaError(
        `${table}.version is NULL for repository '${id}' (sqlalchemy-migrate never writes one: a hand edit or a partial restore); ` +
          `set it to the schema's real version (UPDATE ${table} SET version = N WHERE repository_id = '${id}'), or delete the row if the database has no tables of this repository`,
      );
    }
    return Number(v);
  }

  async insert(repositoryPath: string, version: number): Promise<void> {
    const state = await this.read(true);
    if (typeof state === 'number') {
      throw new DatabaseAlreadyControlledError(`database is already under version control for repository '${this.ref.repositoryId}' (at version ${state})`);
    }
    if (state === 'no-table') await this.q.query(versionTableDdl(this.ref.table, this.a.quote));
    await this.q.execute(`INSERT INTO ${this.t} (repository_id, repository_path, version) VALUES (?, ?, ?)`, [this.ref.repositoryId, repositoryPath, version]);
  }

  async bump(from: number, to: number): Promise<void> {
    const n = await this.q.execute(`UPDATE ${this.t} SET version = ? WHERE version = ? AND repository_id = ?`, [to, from, this.ref.repositoryId]);
    if (n !== 1) {
      throw new ControlledSchemaError(
        `the version of repository '${this.ref.repositoryId}' changed under this run: expected ${from} before setting ${to}, but ${n} rows matched (another process or a script changed ${this.ref.table})`,
      );
    }
  }

  /** drop_version_control: this repository's row only (the Python tool drops the whole shared table, SPEC §12.3). */
  async drop(): Promise<{ droppedTable: boolean }> {
    await this.q.execute(`DELETE FROM ${this.t} WHERE repository_id = ?`, [this.ref.repositoryId]);
    const [left] = await this.q.query(`SELECT COUNT(*) AS n FROM ${this.t}`);
    if (Number(left?.n) > 0) return { droppedTable: false };
    await this.q.query(`DROP TABLE ${this.t}`);
    return { droppedTable: true };
  }

  async repositories(): Promise<string[]> {
    return (await this.q.query(`SELECT repository_id FROM ${this.t}`)).map((r) => String(r.repository_id));
  }
}
