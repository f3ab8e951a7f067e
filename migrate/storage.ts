/**
 * The storage contract: what the Migrator reads and writes besides the application's schema — the
 * version table (sqlalchemy-migrate's `migrate_version`, one row per repository) and the step
 * journal (our `migrate_log`, one row per step attempt). Scoped to one repository and one
 * connection. Only what the algorithm needs (umzug's contract is the model: a handful of methods).
 *
 * Implementations: the SQL storage (version-table.ts + step-log.ts, over a dialect adapter) and the
 * in-memory one (memory.ts, for database-free tests of the algorithm). Both are held to the same
 * expectations by one suite (test/support/storage-expectations.ts), run on the memory storage in
 * test/unit/storage-memory.test.ts and on every real backend in test/conformance/adapters.test.ts:
 * a missing table or row is a state, not an error; a step's bump is a compare-and-set; an attempt
 * that did not finish is found again by the next run.
 */

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
  /** Removes this repository's row, and the table when no row is left. */
  drop(): Promise<{ droppedTable: boolean }>;
  /** Repository ids that do have a row (for "not under version control" messages). */
  repositories(): Promise<string[]>;
}

/**
 * The step journal. Where DDL is transactional the caller holds the step's transaction around
 * `start`..`done`, and `failed` is written after the rollback; otherwise (MySQL) `start` commits a
 * `running` row before the script, so that an interrupted step is found by the next run.
 */
export interface StepJournal {
  /**
   * Before a walk, under the run lock: creates the journal if needed; where DDL is not
   * transactional, returns the last attempt if it did not finish and marks attempts left
   * `running` by a dead process as `abandoned` (we hold the lock: nobody else runs them).
   */
  resume(): Promise<Interrupted | null>;
  /** What `resume` would return, without writing anything (null where DDL is transactional, or with no journal yet). */
  unfinished(): Promise<Interrupted | null>;
  /** Who runs a step right now, if anybody says so (for the waiting line). */
  running(): Promise<{ host: string; pid: number; script: string } | undefined>;
  /** A step begins. */
  start(s: StepRecord): Promise<void>;
  /** The compare-and-set version bump `s.from -> s.to` and the step's `done` row, together; ControlledSchemaError when the version was not at `s.from`. */
  done(s: StepRecord): Promise<void>;
  /** The step failed with `error`. */
  failed(s: StepRecord, error: string): Promise<void>;
  /** When the last step of this repository finished (ISO 8601, the writer's clock), if the journal says. */
  lastFinished?(): Promise<string | null>;
}

export interface Storage {
  readonly version: VersionStore;
  readonly journal: StepJournal;
}
