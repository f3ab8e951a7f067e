/**
 * The only SQL on the version table (`migrate_version` by default), byte-compatible with
 * sqlalchemy-migrate: same DDL, one row per repository_id, repository_path stored as given, and the
 * per-step compare-and-set update `... WHERE version = <from> AND repository_id = <id>`, whose row
 * count we check (the Python tool does not).
 */
import { ControlledSchemaError, DatabaseAlreadyControlledError, DatabaseNotControlledError } from './errors.js';
import { versionTableDdl, type DialectAdapter } from './dialect/adapter.js';
import type { Queryable } from './session.js';

export interface VersionTableRef {
  readonly table: string;
  readonly repositoryId: string;
}

/**
 * The version recorded for this repository. Throws DatabaseNotControlledError when the table is
 * missing or has no row for the repository.
 */
export async function readVersion(q: Queryable, a: DialectAdapter, ref: VersionTableRef, inTransaction = false): Promise<number> {
  const v = await tryReadVersion(q, a, ref, inTransaction);
  if (v === 'no-table') {
    throw new DatabaseNotControlledError(
      `database is not under version control: table ${ref.table} not found; put it under version control first (migrate version_control URL REPOSITORY)`,
    );
  }
  if (v === 'no-row') {
    const others = (await q.query(`SELECT repository_id FROM ${a.quote(ref.table)}`)).map((r) => String(r.repository_id));
    throw new DatabaseNotControlledError(
      `database is not under version control for repository '${ref.repositoryId}': ${ref.table} has no row for it` +
        (others.length ? ` (it holds rows for: ${others.join(', ')})` : ''),
    );
  }
  return v;
}

/** Like readVersion, but says what is missing instead of throwing. */
export async function tryReadVersion(
  q: Queryable,
  a: DialectAdapter,
  ref: VersionTableRef,
  inTransaction = false,
): Promise<number | 'no-table' | 'no-row'> {
  // A failing SELECT would abort a PostgreSQL transaction: look the table up first there.
  if (inTransaction && a.name === 'postgresql' && !(await a.tableExists(q, ref.table))) return 'no-table';
  let rows;
  try {
    rows = await q.query(`SELECT version FROM ${a.quote(ref.table)} WHERE repository_id = ?`, [ref.repositoryId]);
  } catch (e) {
    if (a.isMissingTable(e)) return 'no-table';
    throw e;
  }
  if (!rows.length) return 'no-row';
  if (rows.length > 1) {
    throw new ControlledSchemaError(
      `${ref.table} has ${rows.length} rows for repository '${ref.repositoryId}' (versions ${rows.map((r) => String(r.version)).join(', ')}): ` +
        `the table has lost its primary key; delete the rows that do not match the schema, keep one, and restore PRIMARY KEY (repository_id)`,
    );
  }
  const v = rows[0]!.version;
  if (v === null || v === undefined) {
    throw new ControlledSchemaError(
      `${ref.table}.version is NULL for repository '${ref.repositoryId}' (sqlalchemy-migrate never writes one: a hand edit or a partial restore); ` +
        `set it to the schema's real version (UPDATE ${ref.table} SET version = N WHERE repository_id = '${ref.repositoryId}'), or delete the row if the database has no tables of this repository`,
    );
  }
  return Number(v);
}

/** Creates the table if absent and inserts this repository's row (version_control). */
export async function insertVersionRow(
  q: Queryable,
  a: DialectAdapter,
  ref: VersionTableRef,
  repositoryPath: string,
  version: number,
): Promise<void> {
  const state = await tryReadVersion(q, a, ref, true);
  if (typeof state === 'number') {
    throw new DatabaseAlreadyControlledError(
      `database is already under version control for repository '${ref.repositoryId}' (at version ${state})`,
    );
  }
  if (state === 'no-table') await q.query(versionTableDdl(ref.table, a.quote));
  await q.execute(
    `INSERT INTO ${a.quote(ref.table)} (repository_id, repository_path, version) VALUES (?, ?, ?)`,
    [ref.repositoryId, repositoryPath, version],
  );
}

/** The compare-and-set bump after a step. A row count other than 1 is an error. */
export async function bumpVersion(q: Queryable, a: DialectAdapter, ref: VersionTableRef, from: number, to: number): Promise<void> {
  const n = await q.execute(`UPDATE ${a.quote(ref.table)} SET version = ? WHERE version = ? AND repository_id = ?`, [
    to,
    from,
    ref.repositoryId,
  ]);
  if (n !== 1) {
    throw new ControlledSchemaError(
      `the version of repository '${ref.repositoryId}' changed under this run: expected ${from} before setting ${to}, but ${n} rows matched (another process or a script changed ${ref.table})`,
    );
  }
}

/**
 * drop_version_control: removes this repository's row only, and the table when no row is left
 * (the Python tool drops the whole shared table, SPEC §12.3).
 */
export async function dropVersionRow(q: Queryable, a: DialectAdapter, ref: VersionTableRef): Promise<{ droppedTable: boolean }> {
  await readVersion(q, a, ref, true); // DatabaseNotControlledError when absent
  await q.execute(`DELETE FROM ${a.quote(ref.table)} WHERE repository_id = ?`, [ref.repositoryId]);
  const [left] = await q.query(`SELECT COUNT(*) AS n FROM ${a.quote(ref.table)}`);
  if (Number(left?.n) === 0) {
    await q.query(`DROP TABLE ${a.quote(ref.table)}`);
    return { droppedTable: true };
  }
  return { droppedTable: false };
}

/**
 * MySQL/MariaDB: the compare-and-set bump and marking this run's `running` log row `done`, in one
 * multi-table UPDATE: both change atomically, with one round trip and one commit. Both rows must
 * match (2 rows), else nothing changed and it is the same error as bumpVersion's.
 */
export async function bumpVersionMarkingDone(
  q: Queryable,
  a: DialectAdapter,
  ref: VersionTableRef,
  from: number,
  to: number,
  log: { readonly table: string; readonly runId: string; readonly finishedAt: string },
): Promise<void> {
  const n = await q.execute(
    `UPDATE ${a.quote(ref.table)} v, ${log.table} l SET v.version = ?, l.status = 'done', l.finished_at = ?
      WHERE v.version = ? AND v.repository_id = ? AND l.run_id = ? AND l.repository_id = v.repository_id
        AND l.version_table = ? AND l.version_from = ? AND l.version_to = ? AND l.status = 'running'`,
    [to, log.finishedAt, from, ref.repositoryId, log.runId, ref.table, from, to],
  );
  if (n !== 2) {
    throw new ControlledSchemaError(
      `the version of repository '${ref.repositoryId}' changed under this run: expected ${from} before setting ${to}, but the version row and this run's log row did not both match (another process or a script changed ${ref.table})`,
    );
  }
}
