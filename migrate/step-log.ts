/**
 * `migrate_log`: our own table (never a column of migrate_version, so the Python tool still reads
 * our databases). One row per step attempt: who ran it (host, pid), when, and how it ended.
 *
 *  - MySQL/MariaDB: a `running` row is written before the script and marked `done` in the same
 *    transaction as the version bump. A `running`/`failed` row for the step the database is at
 *    means an earlier attempt stopped midway: the next run says so and retries (scripts converge).
 *  - PostgreSQL/SQLite: the `done` row is written inside the step's transaction; a failure is
 *    recorded after the rollback.
 *
 * This also proves "exactly once": every applied step has exactly one `done` row.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DialectAdapter } from './dialect/adapter.js';
import type { Queryable } from './session.js';

export const LOG_TABLE = 'migrate_log';

function ddl(a: DialectAdapter): string {
  const id =
    a.name === 'mysql'
      ? 'id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY'
      : a.name === 'postgresql'
        ? 'id SERIAL PRIMARY KEY'
        : 'id INTEGER PRIMARY KEY AUTOINCREMENT';
  return `CREATE TABLE IF NOT EXISTS ${LOG_TABLE} (
  ${id},
  repository_id VARCHAR(250) NOT NULL,
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
  error TEXT
)${a.name === 'mysql' ? ' ENGINE=InnoDB' : ''}`;
}

export interface StepRecord {
  readonly repositoryId: string;
  readonly versionTable: string;
  readonly from: number;
  readonly to: number;
  readonly direction: 'upgrade' | 'downgrade';
  readonly script: string;
}

export interface Interrupted {
  readonly from: number;
  readonly to: number;
  readonly direction: string;
  readonly script: string;
  readonly status: string;
  readonly startedAt: string;
  readonly host: string;
  readonly pid: number;
  readonly error: string | null;
}

export const now = () => new Date().toISOString();

export class StepLog {
  private readonly host = hostname();
  /** This run's id: a restarted container has the same host name and pid 1 as the dead one. */
  readonly runId = randomUUID();
  readonly table = LOG_TABLE;
  constructor(
    private readonly q: Queryable,
    private readonly a: DialectAdapter,
  ) {}

  async ensureTable(): Promise<void> {
    await this.q.query(ddl(this.a));
  }

  /** The last attempt for this repository, if it did not finish. */
  async interrupted(repositoryId: string, versionTable: string): Promise<Interrupted | null> {
    const rows = await this.q.query(
      `SELECT version_from, version_to, direction, script, status, started_at, host, pid, error FROM ${LOG_TABLE}
        WHERE repository_id = ? AND version_table = ? ORDER BY id DESC LIMIT 1`,
      [repositoryId, versionTable],
    );
    const r = rows[0];
    if (!r || r.status === 'done') return null;
    return {
      from: Number(r.version_from),
      to: Number(r.version_to),
      direction: String(r.direction),
      script: String(r.script),
      status: String(r.status),
      startedAt: String(r.started_at),
      host: String(r.host ?? ''),
      pid: Number(r.pid ?? 0),
      error: r.error === null || r.error === undefined ? null : String(r.error),
    };
  }

  /** When the last step of this repository finished (epoch ms), or null when none is recorded. */
  async lastFinished(repositoryId: string, versionTable: string): Promise<number | null> {
    if (!(await this.a.tableExists(this.q, LOG_TABLE))) return null;
    const [r] = await this.q.query(
      `SELECT MAX(finished_at) AS t FROM ${LOG_TABLE} WHERE repository_id = ? AND version_table = ? AND status = 'done'`,
      [repositoryId, versionTable],
    );
    return r?.t ? Date.parse(String(r.t)) : null;
  }

  /** Marks the rows of attempts that died mid-step (still `running`; we hold the lock) as `abandoned`. */
  async closeInterrupted(repositoryId: string, versionTable: string): Promise<void> {
    await this.q.execute(
      `UPDATE ${LOG_TABLE} SET status = 'abandoned' WHERE repository_id = ? AND version_table = ? AND status = 'running'`,
      [repositoryId, versionTable],
    );
  }

  /** Inserts a row; returns nothing (ids differ per backend; rows are found by content). */
  async record(s: StepRecord, status: 'running' | 'done' | 'failed', error?: string): Promise<void> {
    const t = now();
    const fin = status === 'running' ? null : t;
    await this.q.execute(
      `INSERT INTO ${LOG_TABLE} (repository_id, version_table, version_from, version_to, direction, script, status, run_id, started_at, finished_at, host, pid, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [s.repositoryId, s.versionTable, s.from, s.to, s.direction, s.script, status, this.runId, t, fin, this.host, process.pid, error ?? null],
    );
  }

  /** Marks this process's running row of the step as done/failed (MySQL path). */
  async finish(s: StepRecord, status: 'done' | 'failed', error?: string): Promise<void> {
    await this.q.execute(
      `UPDATE ${LOG_TABLE} SET status = ?, finished_at = ?, error = ?
        WHERE repository_id = ? AND version_table = ? AND version_from = ? AND version_to = ? AND status = 'running' AND run_id = ?`,
      [status, now(), error ?? null, s.repositoryId, s.versionTable, s.from, s.to, this.runId],
    );
  }
}
