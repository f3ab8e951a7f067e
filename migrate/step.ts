/**
 * One step on the migration connection, as the Migrator's walk runs it:
 *
 *   transactional DDL (PostgreSQL, SQLite): BEGIN -> [SQLite: re-read the version] -> script ->
 *     foreign-key check -> compare-and-set bump + journal row `done` -> COMMIT; a failure rolls back
 *   otherwise (MySQL): journal row `running` -> script -> bump + mark `done` in one statement; a
 *     failure leaves the row for the next run to resume
 *
 * and what a failed step throws (stopped, a lock wait that timed out, or the script's error).
 */
import type { Catalog } from './catalog/catalog.js';
import type { MigrationConnection, ScriptRun } from './connection.js';
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
  /** Checks the script's result before the version bump (schema-gate.ts verifyStep). */
  readonly verify?: () => Promise<void>;
  /** The step's work instead of its script (fresh.ts: the statements that create a catalog). */
  readonly work?: (run: ScriptRun) => Promise<void>;
}

export async function runStep(c: MigrationConnection, step: PlannedStep, resumed: boolean, x: StepContext): Promise<StepOutcome> {
  const rec: StepRecord = { from: step.from, to: step.to, direction: step.direction, script: step.script.relPath };
  const { version, journal } = c.storage;
  const t0 = performance.now();
  const { guard, signal } = x;
  const label = `step ${pad(step.from)} -> ${pad(step.to)} (${rec.script})`;
  const start = () => x.onStep?.({ type: 'start', from: step.from, to: step.to, script: rec.script });
  const onProgress = (done: number, total?: number) => x.onStep?.({ type: 'progress', from: step.from, to: step.to, script: rec.script, done, total });
  // Transactional DDL: the whole step is one transaction. Otherwise the journal's `running` row
  // commits before the script; a .sql script still runs in one transaction with its bump (SPEC
  // §10.2): a DML-only script is then atomic; DDL commits implicitly whatever we do.
  const transactional = c.transactionalDdl;
  const inTransaction = transactional || step.script.kind === 'sql';
  const unwatch = guard?.watch(label) ?? (() => undefined);
  try {
    if (!transactional) {
      start();
      await journal.start(rec);
    }
    if (inTransaction) await c.begin();
    try {
      if (transactional) {
        // No run lock (SQLite): the write transaction is the lock; another process may have applied this step.
        if (!c.sessionLock && (await version.read()) !== step.from) {
          await c.rollback();
          return 'skipped';
        }
        start();
        await journal.start(rec);
      }
      const run: ScriptRun = { resumed: resumed && !transactional, signal, onProgress, verify: transactional, expected: x.expected };
      await (x.work ? x.work(run) : c.runScript(step, run));
      await x.verify?.();
      c.lock.assertHeld();
      await journal.done(rec);
      if (inTransaction) await c.commit();
    } catch (e) {
      if (inTransaction) await c.rollback();
      await journal.failed(rec, describe(e)).catch(() => undefined);
      throw stepFailure(c, step, label, e, x);
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
  if (guard?.isLockWaitTimeout(e)) return guard.lockWaitError(label, c.transactionalDdl);
  return new StepError(step.script.relPath, step.direction, step.from, step.to, e);
}
