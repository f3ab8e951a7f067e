/**
 * The SQL step journal: `migrate_log`, our own table (never a column of migrate_version, so the Python tool still reads
 * our databases). One row per step attempt: who ran it (host, pid, run id), when, and how it ended.
 *
 *  - Non-transactional DDL (MySQL/MariaDB): a `running` row is written before the script and marked
 *    `done` in the same statement as the version bump. A `running`/`failed` row for the step the
 *    database is at means an earlier attempt stopped midway: the next run says so and retries.
 *  - Transactional DDL (PostgreSQL/SQLite): the `done` row is written inside the step's transaction;
 *    a failure is recorded after the rollback.
 *
 * This also proves "exactly once": every applied step has exactly one `done` row.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DialectAdapter, Queryable } from './dialect/contract.js';
import { ControlledSchemaError } from './errors.js';
import type { Interrupted, StepJournal, StepRecord } from './storage.js';
import type { VersionTable } from './version-table.js';

export const LOG_TABLE = 'migrate_log';

const COLUMNS = `  repository_id VARCHAR(250) NOT NULL,
  version_table VARCHAR(64) NOT NULL,
  version_from INTEGER NOT NULL,
  version_to INTEGER NOT NULL,
  direction VARCHAR(10) NOT NULL,
  script VARCHAR(255) NOT NULL,
  status VARCHAR(10) NOT NULL,
  run_id VARCHAR(36) NOT NULL,
  started_at VARCHAR(32) NOT NULL,
  finished_at VARCHAR(32),
  host VARCHAR(255),
  pid INTEGER,
  error TEXT`;

export const now = () => new Date().toISOString();

export class StepLog implements StepJournal {
  private readonly host = hostname();
  /** This run's id: a restarted container has the same host name and pid 1 as the dead one. */
  readonly runId = randomUUID();
  private readonly repo: readonly [string, string];

  constructor(
    private readonly q: Queryable,
    private readonly a: DialectAdapter,
    private readonly versions: VersionTable,
  ) {
    this.repo = [versions.ref.repositoryId, versions.ref.table];
  }

  async resume(): Promise<Interrupted | null> {
    await this.q.query(this.a.logTableDdl(LOG_TABLE, COLUMNS));
    if (this.a.transactionalDdl) return null; // a failed step was rolled back: nothing to resume
    const last = await this.unfinished();
    if (last?.status === 'running') {
      await this.q.execute(`UPDATE ${LOG_TABLE} SET status = 'abandoned' WHERE repository_id = ? AND version_table = ? AND status = 'running'`, [...this.repo]);
    }
    return last;
  }

  /** The last attempt for this repository, if it did not finish (read only; none before the journal exists). */
  async unfinished(): Promise<Interrupted | null> {
    if (this.a.transactionalDdl || !(await this.a.tableExists(this.q, LOG_TABLE))) return null;
    const [r] = await this.q.query(
      `SELECT version_from, version_to, direction, script, status, started_at, host, pid, error FROM ${LOG_TABLE}
        WHERE repository_id = ? AND version_table = ? ORDER BY id DESC LIMIT 1`,
      [...this.repo],
    );
    if (!r || r.status === 'done') return null;
    return {
      from: Number(r.version_from),
      to: Number(r.version_to),
      direction: String(r.direction) as Interrupted['direction'],
      script: String(r.script),
      status: String(r.status),
      startedAt: String(r.started_at),
      host: String(r.host ?? ''),
      pid: Number(r.pid ?? 0),
      error: r.error === null || r.error === undefined ? null : String(r.error),
    };
  }

  async lastFinished(): Promise<string | null> {
    if (!(await this.a.tableExists(this.q, LOG_TABLE))) return null;
    const [r] = await this.q.query(`SELECT MAX(finished_at) AS t FROM ${LOG_TABLE} WHERE repository_id = ? AND version_table = ? AND status = 'done'`, [...this.repo]);
    return r?.t === null || r?.t === undefined ? null : String(r.t);
  }

  async running() {
    const [r] = await this.q
      .query(`SELECT host, pid, script FROM ${LOG_TABLE} WHERE status = 'running' AND repository_id = ? AND version_table = ? ORDER BY id DESC LIMIT 1`, [...this.repo])
      .catch(() => []);
    return r ? { host: String(r.host), pid: Number(r.pid), script: String(r.script) } : undefined;
  }

  async start(s: StepRecord): Promise<void> {
    // Committed before the script where DDL is not transactional: the trace of an interrupted step.
    if (!this.a.transactionalDdl) await this.record(s, 'running');
  }

  async done(s: StepRecord): Promise<void> {
    if (!this.a.transactionalDdl) return this.bumpMarkingDone(s);
    // Inside the step's transaction: both or neither.
    await this.versions.bump(s.from, s.to);
    await this.record(s, 'done');
  }

  async failed(s: StepRecord, error: string): Promise<void> {
    // Transactional: written after the rollback; otherwise this run's `running` row is marked.
    if (this.a.transactionalDdl) await this.record(s, 'failed', error);
    else await this.mark(s, 'failed', error);
  }

  private async record(s: StepRecord, status: 'running' | 'done' | 'failed', error?: string): Promise<void> {
    const t = now();
    await this.q.execute(
      `INSERT INTO ${LOG_TABLE} (repository_id, version_table, version_from, version_to, direction, script, status, run_id, started_at, finished_at, host, pid, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [...this.repo, s.from, s.to, s.direction, s.script, status, this.runId, t, status === 'running' ? null : t, this.host, process.pid, error ?? null],
    );
  }

  private mark(s: StepRecord, status: 'done' | 'failed', error?: string): Promise<number> {
    return this.q.execute(
      `UPDATE ${LOG_TABLE} SET status = ?, finished_at = ?, error = ?
        WHERE repository_id = ? AND version_table = ? AND version_from = ? AND version_to = ? AND status = 'running' AND run_id = ?`,
      [status, now(), error ?? null, ...this.repo, s.from, s.to, this.runId],
    );
  }

  /** The bump and marking this run's `running` row done, atomically (one statement where the adapter has one). */
  private async bumpMarkingDone(s: StepRecord): Promise<void> {
    const [repositoryId, versionTable] = this.repo;
    if (!this.a.bumpMarkingDone) {
      // Without a one-statement form, two statements (the caller holds a transaction around them).
      if ((await this.mark(s, 'done')) !== 1) throw new ControlledSchemaError(`no running log row of this run for ${versionTable} ${s.from} -> ${s.to}`);
      return this.versions.bump(s.from, s.to);
    }
    const n = await this.a.bumpMarkingDone(this.q, { versionTable, repositoryId, from: s.from, to: s.to, logTable: LOG_TABLE, runId: this.runId, finishedAt: now() });
    if (n !== 2) {
      throw new ControlledSchemaError(
        `the version of repository '${repositoryId}' changed under this run: expected ${s.from} before setting ${s.to}, but the version row and this run's log row did not both match (another process or a script changed ${versionTable})`,
      );
    }
  }
}
