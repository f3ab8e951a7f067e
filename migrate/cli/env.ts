/**
 * The process edge's reading of the environment into the engine's typed hooks (migrate/hooks.ts).
 * Used by `migrate` (cli/main.ts) and by heat-manage (heat/config); the engine itself never reads
 * the environment. Variable names:
 *
 *   MIGRATE_TEST_ABORT=<to-version>:<k>   crash tests: throw after the k-th statement of step -> to-version
 *   MIGRATE_SQL_CAPTURE=<file>            append every statement, parameters inlined (bench/)
 *   MIGRATE_MYSQL_LOCK=row                MySQL/MariaDB: the leased row lock instead of GET_LOCK
 *   MIGRATE_LOCK_LEASE=<seconds>          its lease (default 60)
 *   USER                                  PostgreSQL user when the URL has none
 */
import { appendFileSync } from 'node:fs';
import { DEFAULT_LOCK_LEASE_S } from '../defaults.js';
import { UsageError } from '../errors.js';
import type { EngineHooks } from '../hooks.js';
import { inlineParams } from '../sql.js';

export type Env = Readonly<Record<string, string | undefined>>;

export function hooksFromEnv(env: Env): EngineHooks {
  const hooks: { -readonly [K in keyof EngineHooks]: EngineHooks[K] } = {};
  const abort = env.MIGRATE_TEST_ABORT;
  if (abort) {
    const [v, k] = abort.split(':');
    if (k !== undefined) hooks.abortAt = { to: Number(v), after: Number(k) };
  }
  const capture = env.MIGRATE_SQL_CAPTURE;
  if (capture) hooks.onStatement = (sql, params, literal) => appendFileSync(capture, `${inlineParams(sql, params, literal)};\n`);
  const mode = env.MIGRATE_MYSQL_LOCK;
  const lease = env.MIGRATE_LOCK_LEASE;
  if (mode || lease) {
    const leaseS = Number(lease ?? DEFAULT_LOCK_LEASE_S);
    if (!Number.isFinite(leaseS) || leaseS < 1) throw new UsageError(`MIGRATE_LOCK_LEASE must be a number of seconds >= 1, got '${lease}'`);
    if (mode && mode !== 'row' && mode !== 'auto') throw new UsageError(`MIGRATE_MYSQL_LOCK must be 'row' or 'auto', got '${mode}'`);
    hooks.lock = { mode: mode === 'row' ? 'row' : 'auto', leaseS };
  }
  if (env.USER) hooks.user = env.USER;
  return hooks;
}
