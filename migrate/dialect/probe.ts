/**
 * The run guard's probe contract (what guard.ts drives and the network adapters implement, in
 * mysql-blockers.ts / postgres-blockers.ts): from a second connection, does the migration
 * connection wait for a lock, on what, held by whom; and cancel its statement in flight.
 */

/** Who holds what the migration connection waits for. */
export interface LockBlocker {
  /** MySQL connection id / PostgreSQL backend pid. */
  readonly id: number;
  readonly user?: string;
  readonly host?: string;
  /** Seconds its transaction has been open. */
  readonly openS?: number;
  /** What it runs now (or ran last), shortened. */
  readonly query?: string;
  readonly state?: string;
}

/** What the migration connection waits for (undefined from `lockWait`: it does not wait). */
export interface LockWait {
  /** e.g. `the metadata lock of table stack`, `a row lock on migrate_version`. */
  readonly what: string;
  /** Seconds it has waited so far. */
  readonly waitedS: number;
  readonly blockers: readonly LockBlocker[];
}

/** The dialect-specific half (the adapter's): on a second connection, about the session `id`. */
export interface GuardProbe {
  lockWait(aux: AuxConnection, id: number): Promise<LockWait | undefined>;
  cancel(aux: AuxConnection, id: number): Promise<void>;
  /** How to name a blocker in a message: `connection 4711` / `backend pid 812`. */
  readonly blockerNoun: string;
  /** The statement an operator runs to end blocker `id` (`KILL 4711`), for the error message. */
  killCommand?(id: number): string;
}

export interface AuxConnection {
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
