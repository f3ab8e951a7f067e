/**
 * The run lock as the Migrator takes it (golang-migrate's rule: the lock timeout and "unlock failed
 * after an error" are handled once, in the core): open the migration connection, take the lock
 * with a bounded, logged wait, run the work, release in `finally`. The run guard (guard.ts) watches
 * the connection from the start, so that a stop request ends a wait for the lock as well as a step.
 */
import type { Backend, MigrationConnection } from './connection.js';
import { InterruptedError, LockTimeoutError, describe } from './errors.js';
import { guardFor, interrupted, type RunGuard } from './guard.js';
import type { Logger } from './script/contract.js';

export interface RunLockOptions {
  readonly backend: Backend;
  /** The lock's key (defaults.ts lockKey), for messages. */
  readonly key: string;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly lockWaitTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** Open the migration connection with TypeORM (module scripts will run). */
  readonly typeorm?: boolean;
}

/** What the work under the lock gets. */
export interface Locked {
  readonly c: MigrationConnection;
  /** The lock was busy when asked for: another run was in progress when this one got here. */
  readonly waited: boolean;
  /** Watches the connection; says whether to stop. */
  readonly guard: RunGuard;
}

/**
 * Opens the migration connection, takes the run lock (waiting at most the lock timeout, saying for
 * whom), runs `fn`, and releases the lock and closes in `finally`.
 */
export async function withRunLock<T>(o: RunLockOptions, fn: (l: Locked) => Promise<T>): Promise<T> {
  const { logger, signal, key } = o;
  const stop = (reason: unknown, where: string): InterruptedError => interrupted(logger, reason, where);
  if (signal?.aborted) throw stop(signal.reason, 'before connecting; nothing was applied');
  let c: MigrationConnection;
  try {
    c = await o.backend.open({ typeorm: o.typeorm, forLock: true });
  } catch (e) {
    // SQLite: opening waits for the write lock (the migration lock there).
    if (signal?.aborted) throw stop(signal.reason, 'while waiting for the migration lock; nothing was applied');
    throw e;
  }
  let locked = false;
  let failed = false;
  let guard: RunGuard;
  try {
    guard = guardFor(await c.watch?.(), { logger, lockWaitTimeoutMs: o.lockWaitTimeoutMs, signal });
  } catch (e) {
    await c.close();
    throw e;
  }
  try {
    let waited: boolean;
    try {
      waited = await lock(c, o);
      locked = true;
    } catch (e) {
      if (guard.stopReason) throw stop(guard.stopReason, 'while waiting for the migration lock; nothing was applied');
      throw e;
    }
    if (guard.stopReason) throw stop(guard.stopReason, 'before the first step; nothing was applied');
    await c.setLockWaitTimeout?.(o.lockWaitTimeoutMs);
    try {
      return await fn({ c, waited, guard });
    } catch (e) {
      // Stopped outside a step's script (e.g. SQLite waiting for the write lock to begin a step).
      if (guard.stopReason && !(e instanceof InterruptedError)) {
        throw stop(guard.stopReason, 'while waiting for the database; the step in progress was not applied, the next run continues from there');
      }
      throw e;
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (locked) {
      await c.lock.unlock().then(
        (held) => held || logger.warn(`the migration lock ${key} was no longer held when releasing it`),
        (e: unknown) =>
          logger.warn({ err: describe(e) }, `releasing the migration lock failed${failed ? ' after an error (that error is the one reported)' : ''}; it is released when the connection closes`),
      );
    }
    await guard.dispose();
    await c.close();
  }
}

/** Takes the run lock, waiting at most the lock timeout and saying for whom; returns whether it had to wait. */
async function lock(c: MigrationConnection, o: RunLockOptions): Promise<boolean> {
  if (await c.lock.tryLock(0)) return false;
  const s = Math.round(o.lockTimeoutMs / 1000);
  const holder = await c.lock.holder().catch(() => undefined);
  const running = await c.storage.journal.running();
  o.logger.info(
    { lock: o.key, holder: holder?.fields ?? 'unknown', running },
    `waiting up to ${s} s for the migration lock held by ${holder?.text ?? 'another session'}${running ? ` (${running.host} pid ${running.pid}, running ${running.script})` : ''}`,
  );
  if (!(await c.lock.tryLock(o.lockTimeoutMs))) {
    throw new LockTimeoutError(
      `timed out after ${s} s waiting for the migration lock on ${o.key} (another migration is running; retry later or raise the lock timeout); nothing was applied`,
    );
  }
  return true;
}

/** Runs `fn` in a write transaction where DDL is transactional (SQLite: BEGIN IMMEDIATE waits for writers). */
export async function inTransaction<T>(c: MigrationConnection, fn: () => Promise<T>): Promise<T> {
  if (!c.transactionalDdl) return fn();
  await c.begin();
  try {
    const r = await fn();
    await c.commit();
    return r;
  } catch (e) {
    await c.rollback();
    throw e;
  }
}
