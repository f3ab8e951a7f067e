/**
 * One step on the migration connection, as the Migrator's walk runs it:
 *
 *   transactional DDL (PostgreSQL, SQLite): BEGIN -> [SQLite: re-read the version] -> script ->
 *     compare-and-set bump + log row `done` -> foreign-key check -> COMMIT; a failure rolls back
 *   otherwise (MySQL): log row `running` -> script -> bump + mark `done` in one statement; a
 *     failure leaves the row for the next run to resume
 *
 * and what a failed step throws (stopped, a lock wait that timed out, or the script's error).
 */
import type { Catalog } from './catalog/catalog.js';
import type { MigrationConnection } from './connection.js';
import { InterruptedError, LockWaitTimeoutError, StepError, describe } from './errors.js';
import { interrupted, type RunGuard } from './guard.js';
import type { StepEvent } from './plan.js';
import type { PlannedStep } from './repository.js';
import type { Logger } from './script/contract.js';
import type { StepRecord } from './storage.js';

export const pad = (n: number) => String(n).padStart(3, '0');

/** The step ran (how long), or another process (SQLite) had applied it first. */
export type StepOutcome = { ms: number } | 'skipped';

export interface StepContext {
  /** The connection's run guard: watches lock waits while the step runs; says whether to stop. */
  readonly guard?: RunGuard;
  readonly logger: Logger;
  /** Passed to the script: once aborted, its next statement throws. */
  readonly signal?: AbortSignal;
  readonly onStep?: (e: StepEvent) => void;
  /** The repository's expected schemas, for the script (migrate_engine.expected). */
  readonly expected?: (version: number) => Catalog | undefined;
  /** Checks the script's result before the version bump (the Migrator's schema check). */
  readonly verify?: () => Promise<void>;
}

export async function runStep(c: MigrationConnection, step: PlannedStep, resumed: boolean, x: StepContext): Promise<StepOutcome> {
  const rec: StepRecord = { from: step.from, to: step.to, direction: step.direction, script: step.script.relPath };
  const { version, log } = c.storage;
  const t0 = performance.now();
  const { guard, signal } = x;
  const label = `step ${pad(step.from)} -> ${pad(step.to)} (${rec.script})`;
  const fail = (e: unknown) => stepFailure(c, step, label, e, x);
  const start = () => x.onStep?.({ type: 'start', from: step.from, to: step.to, script: rec.script });
  const progress = (done: number, total?: number) => x.onStep?.({ type: 'progress', from: step.from, to: step.to, script: rec.script, done, total });
  const unwatch = guard?.watch(label) ?? (() => undefined);
  try {
    if (c.transactionalDdl) {
      await c.begin();
      try {
        if (!c.sessionLock && (await version.read()) !== step.from) {
          await c.rollback();
          return 'skipped';
        }
        await c.beforeStep();
        start();
        await c.runScript(step, false, signal, progress, x.expected);
        await x.verify?.();
        c.assertLocked();
        await version.bump(step.from, step.to);
        await log.record(rec, 'done');
        await c.beforeCommit();
        await c.commit();
      } catch (e) {
        await c.rollback();
        await log.record(rec, 'failed', describe(e)).catch(() => undefined);
        throw fail(e);
      }
    } else {
      start();
      await log.record(rec, 'running');
      // A .sql script runs in one transaction with its version bump (SPEC §10.2): a DML-only script
      // is then atomic; DDL commits implicitly whatever we do.
      const sqlInTxn = step.script.kind === 'sql';
      if (sqlInTxn) await c.begin();
      try {
        await c.runScript(step, resumed, signal, progress, x.expected);
        await x.verify?.();
      } catch (e) {
        if (sqlInTxn) await c.rollback();
        await log.finish(rec, 'failed', describe(e)).catch(() => undefined);
        throw fail(e);
      }
      try {
        c.assertLocked();
        await log.bumpMarkingDone(rec);
        if (sqlInTxn) await c.commit();
      } catch (e) {
        if (sqlInTxn) await c.rollback();
        throw fail(e);
      }
    }
  } finally {
    unwatch();
  }
  const ms = Math.round(performance.now() - t0);
  x.onStep?.({ type: 'done', from: step.from, to: step.to, script: rec.script, ms });
  return { ms };
}

/**
 * What a failed step throws: an InterruptedError when the run was stopped (the statement in
 * flight was cancelled), a LockWaitTimeoutError naming the blocker when a statement gave up
 * waiting for another session's lock, a StepError otherwise.
 */
function stepFailure(c: MigrationConnection, step: PlannedStep, label: string, e: unknown, x: StepContext): Error {
  if (e instanceof StepError || e instanceof InterruptedError || e instanceof LockWaitTimeoutError) return e;
  const { guard } = x;
  const after = c.transactionalDdl
    ? `the step rolled back; the next run starts again from ${pad(step.from)}`
    : 'the step is recorded as interrupted; the next run resumes it';
  if (guard?.stopReason) return interrupted(x.logger, guard.stopReason, `during ${label}: the statement in flight was cancelled and ${after}`);
  if (guard && c.isLockWaitTimeout?.(e)) return guard.lockWaitError(label, c.transactionalDdl);
  return new StepError(step.script.relPath, step.direction, step.from, step.to, e);
}
