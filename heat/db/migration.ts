/**
 * Heat's migration entry points (heat/db/sqlalchemy/migration.py + api.py's db_sync wrapper):
 * the repository is `migrate_repo/` next to this package's compiled code, INIT_VERSION is 27, and a
 * version lower than the current one is refused ("heat-manage never downgrades").
 */
import { fileURLToPath } from 'node:url';
import { ConnectionError, InterruptedError, MigrateError, UsageError, describe } from '../../migrate/errors.js';
import { loadRepository, type Repository } from '../../migrate/repository.js';
import * as api from '../../migrate/api.js';
import * as oslo from '../../migrate/oslo.js';
import type { MigrateResult, RunOptions } from '../../migrate/api.js';
import type { Logger } from '../../migrate/script/contract.js';

export const INIT_VERSION = 27;

/** Heat's own error class (heat.common.exception.Error): printed as `ERROR: <message>`. */
export class HeatError extends MigrateError {}

/** The compiled repository shipped with this package (dist/migrate_repo). */
export function repositoryPath(): string {
  return fileURLToPath(new URL('../../migrate_repo/', import.meta.url)).replace(/\/$/, '');
}

let cached: Repository | undefined;
export function repository(): Repository {
  return (cached ??= loadRepository(repositoryPath()));
}

export interface DbOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly maxRetries: number;
  readonly retryIntervalS: number;
  readonly logSql?: boolean;
  readonly onStep?: RunOptions['onStep'];
  /** Test hooks and environment-derived engine settings (heat/config's engineHooks). */
  readonly hooks?: RunOptions['hooks'];
  /** Sleep used between connection attempts (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [database] lock_wait_timeout, ms. */
  readonly lockWaitTimeoutMs?: number;
  /** Stops the run (SIGTERM/SIGINT at the process edge). */
  readonly signal?: AbortSignal;
}

/** Sleeps `ms`, or less when `signal` aborts first. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A db_sync version argument: an integer from INIT_VERSION to the latest; usage error otherwise. */
export function parseSyncVersion(value: string | undefined, latest: number): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  if (!/^\d+$/.test(s)) {
    throw new UsageError(`version should be an integer from ${INIT_VERSION} to ${latest}, got '${value}'`);
  }
  const v = Number(s);
  if (v > latest) {
    throw new HeatError(`Database schema file with version ${v} doesn't exist: the latest Heat schema version is ${latest}`);
  }
  if (v < INIT_VERSION) {
    throw new HeatError(`version ${v} is below Heat's initial schema version ${INIT_VERSION}: use a version from ${INIT_VERSION} to ${latest}`);
  }
  return v;
}

/**
 * Runs `fn`, retrying while the database refuses connections (oslo.db's max_retries /
 * retry_interval; -1 retries forever). Authentication errors and unknown databases are not retried.
 */
export async function withRetries<T>(o: DbOptions, fn: () => Promise<T>): Promise<T> {
  const sleep = o.sleep ?? ((ms: number) => abortableSleep(ms, o.signal));
  const stopped = (): InterruptedError | undefined =>
    o.signal?.aborted ? new InterruptedError(`${describe(o.signal.reason)} while waiting for the database; nothing was applied`, o.signal.reason) : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConnectionError) || !e.retryable) throw e;
      const stop = stopped();
      if (stop) throw stop;
      if (o.maxRetries !== -1 && attempt > o.maxRetries) {
        throw new ConnectionError(
          `${e.message}; gave up after ${attempt} attempts ([database] max_retries = ${o.maxRetries}, retry_interval = ${o.retryIntervalS} s)`,
          false,
          { cause: e },
        );
      }
      o.logger.warn(
        { attempt, maxRetries: o.maxRetries },
        `database not reachable (attempt ${attempt}${o.maxRetries === -1 ? '' : ` of ${o.maxRetries + 1}`}): ${e.message}; retrying in ${o.retryIntervalS} s`,
      );
      await sleep(o.retryIntervalS * 1000);
      const late = stopped();
      if (late) {
        o.logger.warn(late.message);
        throw late;
      }
    }
  }
}

function runOptions(o: DbOptions): oslo.SyncOptions {
  return {
    initVersion: INIT_VERSION,
    logger: o.logger,
    lockTimeoutMs: o.lockTimeoutMs,
    logSql: o.logSql,
    onStep: o.onStep,
    hooks: o.hooks,
    lockWaitTimeoutMs: o.lockWaitTimeoutMs,
    signal: o.signal,
    reportCommand: 'heat-manage db_check',
  };
}

/** `heat-manage db_sync [version]`: an empty database gets version `version`'s schema directly (migrate/fresh.ts), as Heat's squashed migrations did. */
export async function dbSync(o: DbOptions, version?: string): Promise<MigrateResult> {
  const repo = repository();
  const target = parseSyncVersion(version, repo.latest);
  return withRetries(o, () =>
    oslo.dbSync(o.url, repo, target, { ...runOptions(o), refuseLower: 'Cannot migrate to lower schema version.', fresh: true }),
  );
}

/** `heat-manage db_check`: where the database stands against its recorded version's exact schema; writes nothing. */
export async function dbCheck(o: DbOptions): ReturnType<typeof api.examine> {
  return withRetries(o, () => api.examine(o.url, repository(), runOptions(o)));
}

/** `heat-manage db_version` (stamps an empty database at 27, as oslo.db does). */
export async function dbVersion(o: DbOptions): Promise<number> {
  return withRetries(o, () => oslo.dbVersion(o.url, repository(), runOptions(o)));
}
