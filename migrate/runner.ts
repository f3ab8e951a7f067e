/**
 * The migration algorithm, in one place (dialect differences are in the adapters):
 *
 *   probe (light connection, no lock): read the version; nothing to do -> return at once
 *   plan the whole path (a missing version anywhere aborts before anything runs)
 *   open the migration connection (TypeORM only if a module script must run), take the lock
 *   re-read the version under the lock (another process may have done the work meanwhile)
 *   for each step: [begin] script -> compare-and-set version bump -> [commit]; release in finally
 *
 * SQLite has no session lock: each step runs in BEGIN IMMEDIATE and re-reads the version inside
 * the transaction, so a step is applied by exactly one process; a process that finds the step done
 * re-plans from the new version.
 */
import { hostname } from 'node:os';
import { adapterFor, type DialectAdapter } from './dialect/adapter.js';
import { InterruptedError, KnownError, LockWaitTimeoutError, StepError, describe } from './errors.js';
import { RunGuard, describeBlockers } from './guard.js';
import { planSteps, type PlannedStep, type Repository } from './repository.js';
import type { Logger } from './script/contract.js';
import { abortAfterFor, makeEngine } from './script/engine.js';
import { runModule, sqlStatements } from './script/load.js';
import { openSession, type Session } from './session.js';
import { LOG_TABLE, StepLog, now, type StepRecord } from './step-log.js';
import { bumpVersion, bumpVersionMarkingDone, readVersion, type VersionTableRef } from './version-table.js';
import { begin, commit, rollback } from './transaction.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export type StepEvent =
  | { type: 'start'; from: number; to: number; script: string }
  | { type: 'done'; from: number; to: number; script: string; ms: number }
  | { type: 'resume'; from: number; to: number; script: string; startedAt: string; host: string; pid: number; error: string | null }
  | { type: 'preview'; from: number; to: number; script: string; text: string };

export interface RunOptions {
  readonly logger: Logger;
  readonly lockTimeoutMs?: number;
  readonly onStep?: (e: StepEvent) => void;
  /** Log every statement at debug level. */
  readonly logSql?: boolean;
  /** Environment for test hooks (MIGRATE_TEST_ABORT); defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How long one statement may wait for another session's table/row lock, ms (default 30 s). */
  readonly lockWaitTimeoutMs?: number;
  /** Stops the run: the statement in flight is cancelled, the step rolled back or left resumable. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 30_000;

export interface StepResult {
  readonly from: number;
  readonly to: number;
  readonly script: string;
  readonly ms: number;
}

export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly steps: readonly StepResult[];
}

export function versionRef(repo: Repository): VersionTableRef {
  return { table: repo.config.versionTable, repositoryId: repo.config.repositoryId };
}

export function lockKey(repo: Repository): string {
  return `${repo.config.versionTable}:${repo.config.repositoryId}`;
}

/** A connection with its adapter, the run lock held (where the backend has one). */
export interface LockedSession {
  readonly session: Session;
  readonly adapter: DialectAdapter;
  /** Watches lock waits and stop requests (absent on connections that run no steps). */
  readonly guard?: RunGuard;
}

const pad = (n: number) => String(n).padStart(3, '0');

/** The one-line stop message, logged and thrown. */
function interrupted(o: RunOptions, reason: unknown, where: string): InterruptedError {
  const e = new InterruptedError(`${describe(reason)} ${where}`, reason);
  o.logger.warn({ reason: describe(reason) }, e.message);
  return e;
}

/**
 * Opens a connection, takes the run lock, runs `fn`, releases the lock and closes in `finally`.
 * An error while unlocking after an error keeps the first error (and logs the second).
 */
export async function withLock<T>(
  url: string,
  repo: Repository,
  o: RunOptions & { typeorm?: boolean },
  fn: (ls: LockedSession) => Promise<T>,
): Promise<T> {
  const timeoutMs = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const session = await openSession(url, {
    typeorm: o.typeorm,
    logger: o.logger,
    logSql: o.logSql,
    timeoutMs,
    signal: o.signal,
    // Shown to waiters on PostgreSQL: replicas in containers are all pid 1, the host tells them apart.
    applicationName: `migrate[${process.pid}]@${hostname()}`.slice(0, 63),
  });
  const adapter = await adapterFor(session.dialect);
  const req = {
    key: lockKey(repo),
    timeoutMs,
    logger: o.logger,
    env: o.env ?? process.env,
    openAux: () => openSession(url, { logger: o.logger, timeoutMs }),
  };
  const lockWaitTimeoutMs = o.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  let locked = false;
  let guard: RunGuard | undefined;
  try {
    guard = new RunGuard({
      probe: adapter.guard ?? { blockerNoun: 'session', lockWait: async () => undefined, cancel: async () => undefined },
      sessionId: adapter.guard ? await adapter.sessionId(session) : undefined,
      openAux: () => openSession(url, { logger: o.logger, timeoutMs }),
      logger: o.logger,
      lockWaitTimeoutMs,
      signal: o.signal,
    });
    if (o.signal?.aborted) throw interrupted(o, o.signal.reason, 'before the first step; nothing was applied');
    try {
      await adapter.prepare(session); // SQLite: its write check waits for the write lock, the migration lock there
      await adapter.lock(session, req);
    } catch (e) {
      if (guard.stopReason) throw interrupted(o, guard.stopReason, 'while waiting for the migration lock; nothing was applied');
      throw e;
    }
    locked = true;
    if (guard.stopReason) throw interrupted(o, guard.stopReason, 'before the first step; nothing was applied');
    await adapter.setLockWaitTimeout(session, lockWaitTimeoutMs);
    try {
      return await fn({ session, adapter, guard });
    } catch (e) {
      // Stopped outside a step's script (e.g. waiting for SQLite's write lock to begin a step).
      if (guard.stopReason && !(e instanceof InterruptedError)) {
        throw interrupted(o, guard.stopReason, 'while waiting for the database; the step in progress was not applied, the next run continues from there');
      }
      throw e;
    }
  } finally {
    if (locked) {
      await adapter.unlock(session, req).catch((e: unknown) => o.logger.warn({ err: describe(e) }, 'releasing the migration lock failed (it is released when the connection closes)'));
    }
    await guard?.dispose();
    await session.close();
  }
}

/** Reads the version on a short-lived light connection (no lock, no TypeORM). */
export async function probeVersion(url: string, repo: Repository, o: RunOptions): Promise<number> {
  const session = await openSession(url, { logger: o.logger, logSql: o.logSql, timeoutMs: o.lockTimeoutMs });
  try {
    const adapter = await adapterFor(session.dialect);
    return await readVersion(session, adapter, versionRef(repo));
  } finally {
    await session.close();
  }
}

export function checkDirection(direction: 'upgrade' | 'downgrade', from: number, to: number): void {
  if (direction === 'upgrade' && to < from) {
    throw new KnownError(`Cannot upgrade a database of version ${from} to version ${to}. Try 'downgrade' instead.`);
  }
  if (direction === 'downgrade' && to > from) {
    throw new KnownError(`Cannot downgrade a database of version ${from} to version ${to}. Try 'upgrade' instead.`);
  }
}

async function runScript(ls: LockedSession, step: PlannedStep, o: RunOptions, resumed: boolean): Promise<void> {
  const env = o.env ?? process.env;
  const engine = await makeEngine({
    dialect: ls.session.dialect,
    session: ls.session,
    queryRunner: ls.session.queryRunner,
    logger: o.logger,
    step: { from: step.from, to: step.to, direction: step.direction },
    resumed,
    abortAfter: abortAfterFor(env.MIGRATE_TEST_ABORT, step.to),
    signal: o.signal,
  });
  if (step.script.kind === 'sql') {
    for (const stmt of sqlStatements(step.script, o.logger)) await engine.execute(stmt);
  } else {
    await runModule(step.script, step.direction, engine);
  }
}

/** 'skipped': another process applied this step first (SQLite); otherwise the step's duration. */
type StepOutcome = { ms: number } | 'skipped';

async function runStep(ls: LockedSession, repo: Repository, step: PlannedStep, o: RunOptions, log: StepLog, resumed: boolean): Promise<StepOutcome> {
  const { session: q, adapter: a } = ls;
  const ref = versionRef(repo);
  const rec: StepRecord = {
    repositoryId: ref.repositoryId,
    versionTable: ref.table,
    from: step.from,
    to: step.to,
    direction: step.direction,
    script: step.script.relPath,
  };
  const t0 = performance.now();
  const label = `step ${pad(step.from)} -> ${pad(step.to)} (${step.script.relPath})`;
  const fail = (e: unknown) => {
    if (e instanceof StepError || e instanceof InterruptedError || e instanceof LockWaitTimeoutError) return e;
    const stop = ls.guard?.stopReason;
    if (stop) {
      return interrupted(
        o,
        stop,
        `during ${label}: the statement in flight was cancelled and ${a.transactionalDdl ? `the step rolled back; the next run starts again from ${pad(step.from)}` : 'the step is recorded as interrupted; the next run resumes it'}`,
      );
    }
    if (a.isLockWaitTimeout(e)) return lockWaitTimeout(ls, o, label, a.transactionalDdl);
    return new StepError(step.script.relPath, step.direction, step.from, step.to, e);
  };
  const unwatch = ls.guard?.watch(label) ?? (() => undefined);
  try {
  if (a.transactionalDdl) {
    await begin(q, a);
    try {
      if (!a.sessionLock && (await readVersion(q, a, ref)) !== step.from) {
        await rollback(q);
        return 'skipped';
      }
      await a.beforeStep(q);
      o.onStep?.({ type: 'start', from: step.from, to: step.to, script: step.script.relPath });
      await runScript(ls, step, o, false);
      a.assertLocked(q);
      await bumpVersion(q, a, ref, step.from, step.to);
      await log.record(rec, 'done');
      await a.beforeCommit(q);
      await commit(q);
    } catch (e) {
      await rollback(q);
      await log.record(rec, 'failed', describe(e)).catch(() => undefined);
      throw e instanceof StepError ? e : fail(e);
    }
  } else {
    o.onStep?.({ type: 'start', from: step.from, to: step.to, script: step.script.relPath });
    await log.record(rec, 'running');
    // A .sql script runs in one transaction with its version bump (SPEC §10.2): a DML-only script
    // is then atomic; DDL commits implicitly whatever we do.
    const sqlInTxn = step.script.kind === 'sql';
    if (sqlInTxn) await q.query(a.beginSql);
    try {
      await runScript(ls, step, o, resumed);
    } catch (e) {
      if (sqlInTxn) await q.query('ROLLBACK').catch(() => undefined);
      await log.finish(rec, 'failed', describe(e)).catch(() => undefined);
      throw fail(e);
    }
    try {
      a.assertLocked(q);
      await bumpVersionMarkingDone(q, a, ref, step.from, step.to, { table: log.table, runId: log.runId, finishedAt: now() });
      if (sqlInTxn) await q.query('COMMIT');
    } catch (e) {
      if (sqlInTxn) await q.query('ROLLBACK').catch(() => undefined);
      throw fail(e);
    }
  }
  } finally {
    unwatch();
  }
  const ms = Math.round(performance.now() - t0);
  o.onStep?.({ type: 'done', from: step.from, to: step.to, script: step.script.relPath, ms });
  return { ms };
}

/** The one-line error of a statement that gave up waiting for another session's lock. */
function lockWaitTimeout(ls: LockedSession, o: RunOptions, label: string, rolledBack: boolean): LockWaitTimeoutError {
  const limit = Math.round((o.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS) / 1000);
  const w = ls.guard?.lastWait;
  const noun = ls.adapter.guard?.blockerNoun ?? 'session';
  const held = w ? `${w.what}, held by ${describeBlockers(noun, w)}` : 'a lock another session holds';
  const first = w?.blockers[0];
  const kill = first ? (ls.adapter.name === 'mysql' ? ` (KILL ${first.id})` : ls.adapter.name === 'postgresql' ? ` (SELECT pg_terminate_backend(${first.id}))` : '') : '';
  return new LockWaitTimeoutError(
    `${label} waited ${limit} s for ${held}; end that transaction${kill} or stop the services using the database, then run again; ` +
      `${rolledBack ? 'the step was rolled back' : 'the step is resumable: the next run retries it'} ([database] lock_wait_timeout = ${limit} s)`,
  );
}

/**
 * Walks from the version under the lock to `target`, one step at a time. `allowAhead`: when the
 * database is already past the target (a concurrent run went further), return instead of failing.
 */
export async function walk(
  ls: LockedSession,
  repo: Repository,
  target: number,
  direction: 'upgrade' | 'downgrade',
  o: RunOptions & { allowAhead?: boolean },
): Promise<MigrateResult> {
  const { session: q, adapter: a } = ls;
  const ref = versionRef(repo);
  const log = new StepLog(q, a);
  const start = await readVersion(q, a, ref);
  const steps: StepResult[] = [];
  if (start === target) return { from: start, to: start, steps };
  if (o.allowAhead && direction === 'upgrade' && start > target) return { from: start, to: start, steps };
  checkDirection(direction, start, target);
  planSteps(repo, start, target, a.name); // the whole path, before anything runs
  await log.ensureTable();
  let resumeFrom: number | null = null;
  if (!a.transactionalDdl) {
    const intr = await log.interrupted(ref.repositoryId, ref.table);
    if (intr && intr.from === start && intr.direction === direction) {
      resumeFrom = start;
      o.onStep?.({ type: 'resume', ...intr });
    }
    if (intr?.status === 'running') await log.closeInterrupted(ref.repositoryId, ref.table);
  }
  let cur = start;
  for (;;) {
    // Another process (SQLite re-plan) may have moved the version past the target: stop there.
    if (cur === target || (direction === 'upgrade' ? cur > target : cur < target)) break;
    let replan = false;
    for (const step of planSteps(repo, cur, target, a.name)) {
      const stop = ls.guard?.stopReason;
      if (stop) throw interrupted(o, stop, `before step ${pad(step.from)} -> ${pad(step.to)}; the next run continues from ${pad(step.from)}`);
      a.assertLocked(q);
      const outcome = await runStep(ls, repo, step, o, log, resumeFrom === step.from);
      if (outcome === 'skipped') {
        replan = true;
        break;
      }
      steps.push({ from: step.from, to: step.to, script: step.script.relPath, ms: outcome.ms });
      cur = step.to;
    }
    if (replan) cur = await readVersion(q, a, ref);
  }
  return { from: start, to: cur, steps };
}

export { LOG_TABLE };
