/**
 * The engine's defaults, each written once: the process edges (migrate's CLI, heat-manage's
 * config) and the engine read them from here.
 */

/** How long a run waits for another run's migration lock, in seconds. */
export const DEFAULT_LOCK_TIMEOUT_S = 120;

/** How long one statement of a step waits for another session's table or row lock, in seconds. */
export const DEFAULT_LOCK_WAIT_TIMEOUT_S = 30;

/** The lease of the row lock (MariaDB Galera, or MIGRATE_MYSQL_LOCK=row), in seconds; renewed every lease/4. */
export const DEFAULT_LOCK_LEASE_S = 60;

/** The run lock's key: one lock per version table and repository (two repositories in one database do not wait for each other). */
export function lockKey(ref: { readonly table: string; readonly repositoryId: string }): string {
  return `${ref.table}:${ref.repositoryId}`;
}
