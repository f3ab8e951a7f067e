/**
 * What the process edge injects into the engine: test hooks and settings that come from the
 * environment. The engine never reads the environment; `migrate/cli/env.ts` turns environment
 * variables into these (for `migrate` and, through heat/config, for `heat-manage`).
 */
export interface EngineHooks {
  /** Sees every statement a session sends, with the adapter's literal writer (bench/'s SQL capture: MIGRATE_SQL_CAPTURE=<file>). */
  readonly onStatement?: (sql: string, params: readonly unknown[], literal: (value: unknown) => string) => void;
  /** Crash tests: throw after the `after`-th statement a script of step `-> to` sends (MIGRATE_TEST_ABORT). */
  readonly abortAt?: { readonly to: number; readonly after: number };
  /** MySQL/MariaDB lock: 'row' forces the leased row lock (MIGRATE_MYSQL_LOCK); lease in s (MIGRATE_LOCK_LEASE). */
  readonly lock?: { readonly mode: 'auto' | 'row'; readonly leaseS: number };
  /** The user name a PostgreSQL URL without one connects as (libpq's default: USER). */
  readonly user?: string;
}
