/**
 * The storage contract: what the Migrator reads and writes besides the application's schema — the
 * version table (sqlalchemy-migrate's `migrate_version`, one row per repository) and the step log
 * (our `migrate_log`, one row per step attempt). Scoped to one repository and one connection.
 *
 * Implementations: `SqlStorage` (version-table.ts + step-log.ts, over a dialect adapter) and
 * `MemoryStorage` (memory.ts, for database-free tests of the algorithm). Both pass the same
 * expectations: a missing table or row is a state, not an error; the bump is a compare-and-set.
 */
import type { VersionTable } from './version-table.js';
import type { StepLog } from './step-log.js';

/** The recorded version, or what is missing. */
export type VersionState = number | 'no-table' | 'no-row';

export interface StepRecord {
  readonly from: number;
  readonly to: number;
  readonly direction: 'upgrade' | 'downgrade';
  readonly script: string;
}

/** The last attempt of a step that did not finish (status running or failed). */
export interface Interrupted extends StepRecord {
  readonly status: string;
  readonly startedAt: string;
  readonly host: string;
  readonly pid: number;
  readonly error: string | null;
}

export interface VersionStore {
  /** `inTransaction`: must not fail (a failed statement aborts a PostgreSQL transaction). */
  read(inTransaction?: boolean): Promise<VersionState>;
  /** Creates the table if absent and inserts the row; DatabaseAlreadyControlledError when present. */
  insert(repositoryPath: string, version: number): Promise<void>;
  /** Compare-and-set `from -> to`; ControlledSchemaError when the row was not at `from`. */
  bump(from: number, to: number): Promise<void>;
  /** Removes this repository's row, and the table when no row is left. */
  drop(): Promise<{ droppedTable: boolean }>;
  /** Repository ids that do have a row (for "not under version control" messages). */
  repositories(): Promise<string[]>;
}

export interface StepLogStore {
  ensure(): Promise<void>;
  /** The last attempt for this repository, if it did not finish. */
  interrupted(): Promise<Interrupted | null>;
  /** Marks attempts still `running` (their process died; we hold the lock) as `abandoned`. */
  closeInterrupted(): Promise<void>;
  /** Who runs a step right now, if anybody says so (for the waiting line). */
  running(): Promise<{ host: string; pid: number; script: string } | undefined>;
  record(s: StepRecord, status: 'running' | 'done' | 'failed', error?: string): Promise<void>;
  /** Marks this run's `running` row of the step done/failed. */
  finish(s: StepRecord, status: 'done' | 'failed', error?: string): Promise<void>;
  /** The bump and marking this run's `running` row done, atomically (non-transactional DDL). */
  bumpMarkingDone(s: StepRecord): Promise<void>;
}

export interface Storage {
  readonly version: VersionStore;
  readonly log: StepLogStore;
}

export type { VersionTable, StepLog };
