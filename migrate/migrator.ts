/**
 * The migration algorithm, in one class (Kysely's Migrator and golang-migrate's core are the
 * models; dialect differences are in the adapters, storage behind storage.ts):
 *
 *   probe   read the version on a short-lived light connection, no lock; nothing to do -> return
 *   plan    the whole path, once (a missing version anywhere aborts before anything runs)
 *   lock    open the migration connection, take the run lock (bounded wait, logged, LockTimeoutError)
 *   ensure  re-read the version under the lock (another process may have moved it); oslo: stamp
 *   walk    per step: [begin] script -> compare-and-set bump + log row -> [commit]
 *   release in finally; an unlock failure after an error keeps the first error and logs the second
 *
 * SQLite has no session lock: each step runs in BEGIN IMMEDIATE and re-reads the version inside
 * the transaction, so a step is applied by exactly one process; one that finds the step done
 * re-plans from the new version.
 */
import type { Backend, MigrationConnection } from './connection.js';
import { DatabaseNotControlledError, InterruptedError, InvalidVersionError, LockTimeoutError, LockWaitTimeoutError, StepError, describe } from './errors.js';
import { RunGuard, describeBlockers } from './guard.js';
import { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult } from './plan.js';
import { planSteps, scriptFor, type PlannedStep, type Repository } from './repository.js';
import type { Logger } from './script/contract.js';
import type { StepRecord, VersionState } from './storage.js';

export { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult };

export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 30_000;

export interface MigratorOptions {
  readonly repo: Repository;
  readonly backend: Backend;
  readonly logger: Logger;
  readonly lockTimeoutMs?: number;
  /** How long one statement may wait for another session's table or row lock (default 30 s). */
  readonly lockWaitTimeoutMs?: number;
  /** Stops the run: the statement in flight is cancelled, the step rolled back or left resumable, the lock released. */
  readonly signal?: AbortSignal;
  readonly onStep?: (e: StepEvent) => void;
}

const pad = (n: number) => String(n).padStart(3, '0');

type Outcome = { ms: number } | 'skipped';

export class Migrator {
  readonly repo: Repository;
  private readonly timeoutMs: number;
  constructor(private readonly o: MigratorOptions) {
    this.repo = o.repo;
    this.timeoutMs = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  }

  /** The version state on a short-lived connection, without the lock. */
  async probe(): Promise<VersionState> {
    const c = await this.o.backend.open({});
    try {
      return await c.storage.version.read();
    } finally {
      await c.close();
    }
  }

  /** The version; DatabaseNotControlledError when the table or this repository's row is missing. */
  async version(): Promise<number> {
    const c = await this.o.backend.open({});
    try {
      return await this.controlled(c, await c.storage.version.read());
    } finally {
      await c.close();
    }
  }

  private async controlled(c: MigrationConnection, v: VersionState): Promise<number> {
    const { versionTable: table, repositoryId: id } = this.repo.config;
    if (v === 'no-table') {
      throw new DatabaseNotControlledError(
        `database is not under version control: table ${table} not found; put it under version control first (migrate version_control URL REPOSITORY)`,
      );
    }
    if (v === 'no-row') {
      const others = await c.storage.version.repositories();
      throw new DatabaseNotControlledError(
        `database is not under version control for repository '${id}': ${table} has no row for it` + (others.length ? ` (it holds rows for: ${others.join(', ')})` : ''),
      );
    }
    return v;
  }

  /** The whole path from `from` to `target`, checked before anything runs. */
  plan(from: number, target: number, needsTypeorm: (s: readonly PlannedStep[]) => boolean = () => false): Plan {
    const direction = target < from ? 'downgrade' : 'upgrade';
    const steps = planSteps(this.repo, from, target, this.o.backend.dialect);
    return { from, target, direction, steps, typeorm: needsTypeorm(steps) };
  }

  /**
   * Opens the migration connection, takes the run lock (waiting at most the lock timeout, saying
   * for whom), runs `fn`, and releases the lock and closes in `finally`. `waited`: the lock was
   * busy when asked for, i.e. another run was in progress when this one got here.
   */
  async withLock<T>(fn: (c: MigrationConnection, waited: boolean) => Promise<T>, typeorm = false): Promise<T> {
    const { logger, signal } = this.o;
    if (signal?.aborted) throw this.interrupted(signal.reason, 'before connecting; nothing was applied');
    let c: MigrationConnection;
    try {
      c = await this.o.backend.open({ typeorm, forLock: true });
    } catch (e) {
      // SQLite: opening waits for the write lock (the migration lock there).
      if (signal?.aborted) throw this.interrupted(signal.reason, 'while waiting for the migration lock; nothing was applied');
      throw e;
    }
    const key = `${this.repo.config.versionTable}:${this.repo.config.repositoryId}`;
    let locked = false;
    let failed = false;
    const info = await c.guardInfo?.().catch(async (e: unknown) => {
      await c.close();
      throw e;
    });
    const guard = new RunGuard({
      probe: info?.probe ?? { blockerNoun: 'session', lockWait: async () => undefined, cancel: async () => undefined },
      sessionId: info?.probe ? info.sessionId : undefined,
      openAux: () => (info ? info.openAux() : Promise.reject(new Error('no second connection here'))),
      logger,
      lockWaitTimeoutMs: this.lockWaitMs,
      signal,
    });
    this.guards.set(c, guard);
    try {
      let waited: boolean;
      try {
        waited = await this.lock(c, key);
        locked = true;
      } catch (e) {
        if (guard.stopReason) throw this.interrupted(guard.stopReason, 'while waiting for the migration lock; nothing was applied');
        throw e;
      }
      if (guard.stopReason) throw this.interrupted(guard.stopReason, 'before the first step; nothing was applied');
      await c.setLockWaitTimeout?.(this.lockWaitMs);
      try {
        return await fn(c, waited);
      } catch (e) {
        // Stopped outside a step's script (e.g. SQLite waiting for the write lock to begin a step).
        if (guard.stopReason && !(e instanceof InterruptedError)) {
          throw this.interrupted(guard.stopReason, 'while waiting for the database; the step in progress was not applied, the next run continues from there');
        }
        throw e;
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      if (locked) {
        await c.unlock().then(
          (held) => held || logger.warn(`the migration lock ${key} was no longer held when releasing it`),
          (e: unknown) =>
            logger.warn({ err: describe(e) }, `releasing the migration lock failed${failed ? ' after an error (that error is the one reported)' : ''}; it is released when the connection closes`),
        );
      }
      this.guards.delete(c);
      await guard.dispose();
      await c.close();
    }
  }

  /** The guard of each open migration connection (lock waits, stop requests). */
  private readonly guards = new WeakMap<MigrationConnection, RunGuard>();

  private get lockWaitMs(): number {
    return this.o.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  }

  /** The one-line stop message, logged and thrown. */
  private interrupted(reason: unknown, where: string): InterruptedError {
    const e = new InterruptedError(`${describe(reason)} ${where}`, reason);
    this.o.logger.warn({ reason: describe(reason) }, e.message);
    return e;
  }

  /** Takes the run lock, waiting at most the lock timeout and saying for whom; returns whether it had to wait. */
  private async lock(c: MigrationConnection, key: string): Promise<boolean> {
    if (await c.tryLock(0)) return false;
    const s = Math.round(this.timeoutMs / 1000);
    const holder = await c.lockHolder().catch(() => undefined);
    const running = await c.storage.log.running();
    this.o.logger.info(
      { lock: key, holder: holder?.fields ?? 'unknown', running },
      `waiting up to ${s} s for the migration lock held by ${holder?.text ?? 'another session'}${running ? ` (${running.host} pid ${running.pid}, running ${running.script})` : ''}`,
    );
    if (!(await c.tryLock(this.timeoutMs))) {
      throw new LockTimeoutError(
        `timed out after ${s} s waiting for the migration lock on ${key} (another migration is running; retry later or raise the lock timeout); nothing was applied`,
      );
    }
    return true;
  }

  /** Runs `fn` in a write transaction where DDL is transactional (SQLite: BEGIN IMMEDIATE waits for writers). */
  async inTransaction<T>(c: MigrationConnection, fn: () => Promise<T>): Promise<T> {
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

  /** The version under the lock, throwing when not under version control. */
  async lockedVersion(c: MigrationConnection): Promise<number> {
    return this.controlled(c, await c.storage.version.read());
  }

  /**
   * Walks from `start` (read under the lock) to `plan.target`. `allowAhead`: when the database is
   * already past the target (a concurrent run went further), return instead of failing.
   */
  async walk(c: MigrationConnection, start: number, plan: Plan, allowAhead: boolean): Promise<MigrateResult> {
    const { target, direction } = plan;
    const steps: StepResult[] = [];
    if (start === target || (allowAhead && direction === 'upgrade' && start > target)) return { from: start, to: start, steps };
    checkDirection(direction, start, target);
    let path = start === plan.from ? plan.steps : planSteps(this.repo, start, target, c.dialect);
    const { log } = c.storage;
    await log.ensure();
    let resumeFrom: number | null = null;
    if (!c.transactionalDdl) {
      const intr = await log.interrupted();
      if (intr && intr.from === start && intr.direction === direction) {
        resumeFrom = start;
        this.o.onStep?.({ type: 'resume', from: intr.from, to: intr.to, script: intr.script, startedAt: intr.startedAt, host: intr.host, pid: intr.pid, error: intr.error });
      }
      if (intr?.status === 'running') await log.closeInterrupted();
    }
    let cur = start;
    for (;;) {
      let replan = false;
      for (const step of path) {
        const stop = this.guards.get(c)?.stopReason;
        if (stop) throw this.interrupted(stop, `before step ${pad(step.from)} -> ${pad(step.to)}; the next run continues from ${pad(step.from)}`);
        c.assertLocked();
        const outcome = await this.step(c, step, resumeFrom === step.from);
        if (outcome === 'skipped') {
          replan = true;
          break;
        }
        steps.push({ from: step.from, to: step.to, script: step.script.relPath, ms: outcome.ms });
        cur = step.to;
      }
      if (!replan) break;
      // Another process (SQLite) applied a step first: continue from where it left the database.
      cur = await this.lockedVersion(c);
      if (cur === target || (direction === 'upgrade' ? cur > target : cur < target)) break;
      path = planSteps(this.repo, cur, target, c.dialect);
    }
    return { from: start, to: cur, steps };
  }

  private async step(c: MigrationConnection, step: PlannedStep, resumed: boolean): Promise<Outcome> {
    const rec: StepRecord = { from: step.from, to: step.to, direction: step.direction, script: step.script.relPath };
    const { version, log } = c.storage;
    const t0 = performance.now();
    const guard = this.guards.get(c);
    const label = `step ${pad(step.from)} -> ${pad(step.to)} (${rec.script})`;
    const fail = (e: unknown) => this.stepFailure(c, step, label, e);
    const start = () => this.o.onStep?.({ type: 'start', from: step.from, to: step.to, script: rec.script });
    const signal = this.o.signal;
    const progress = (done: number, total?: number) => this.o.onStep?.({ type: 'progress', from: step.from, to: step.to, script: rec.script, done, total });
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
          await c.runScript(step, false, signal, progress);
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
          await c.runScript(step, resumed, signal, progress);
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
    this.o.onStep?.({ type: 'done', from: step.from, to: step.to, script: rec.script, ms });
    return { ms };
  }

  /**
   * What a failed step throws: an InterruptedError when the run was stopped (the statement in
   * flight was cancelled), a LockWaitTimeoutError naming the blocker when a statement gave up
   * waiting for another session's lock, a StepError otherwise.
   */
  private stepFailure(c: MigrationConnection, step: PlannedStep, label: string, e: unknown): Error {
    if (e instanceof StepError || e instanceof InterruptedError || e instanceof LockWaitTimeoutError) return e;
    const guard = this.guards.get(c);
    const after = c.transactionalDdl
      ? `the step rolled back; the next run starts again from ${pad(step.from)}`
      : 'the step is recorded as interrupted; the next run resumes it';
    if (guard?.stopReason) return this.interrupted(guard.stopReason, `during ${label}: the statement in flight was cancelled and ${after}`);
    if (c.isLockWaitTimeout?.(e)) {
      const limit = Math.round(this.lockWaitMs / 1000);
      const w = guard?.lastWait;
      const noun = guard?.noun ?? 'session';
      const first = w?.blockers[0];
      const kill = first ? (c.dialect === 'mysql' ? ` (KILL ${first.id})` : c.dialect === 'postgresql' ? ` (SELECT pg_terminate_backend(${first.id}))` : '') : '';
      return new LockWaitTimeoutError(
        `${label} waited ${limit} s for ${w ? `${w.what}, held by ${describeBlockers(noun, w)}` : 'a lock another session holds'}; ` +
          `end that transaction${kill} or stop the services using the database, then run again; ` +
          `${c.transactionalDdl ? 'the step was rolled back' : 'the step is resumable: the next run retries it'} ([database] lock_wait_timeout = ${limit} s)`,
      );
    }
    return new StepError(step.script.relPath, step.direction, step.from, step.to, e);
  }

  /** Lock, re-read the version, walk the plan, release: what `upgrade`/`downgrade` do. */
  run(plan: Plan, allowAhead = true): Promise<MigrateResult> {
    return this.withLock(async (c) => this.walk(c, await this.lockedVersion(c), plan, allowAhead), plan.typeorm);
  }

  /** The versions of a plan that do not fit migrate_version.version (INTEGER) on this backend. */
  checkFits(versions: readonly number[]): void {
    const { maxVersion } = this.o.backend;
    const v = versions.find((x) => x > maxVersion);
    if (v === undefined) return;
    throw new InvalidVersionError(
      `${v} does not fit migrate_version.version (INTEGER, at most ${maxVersion}) on ${this.o.backend.dialect}: timestamp-numbered repositories work on SQLite only; use sequential numbers`,
    );
  }

  /**
   * `test`: the latest version's upgrade and then its downgrade, each in a transaction where the
   * backend allows it, without reading or writing the version table (as the Python tool does).
   */
  async rehearse(onPhase?: (phase: 'upgrade' | 'downgrade', done: boolean) => void): Promise<void> {
    const latest = this.repo.latest;
    const c = await this.o.backend.open({ typeorm: true, forLock: true });
    try {
      for (const direction of ['upgrade', 'downgrade'] as const) {
        const script = scriptFor(this.repo, latest, c.dialect, direction);
        onPhase?.(direction, false);
        const [from, to] = direction === 'upgrade' ? [latest - 1, latest] : [latest, latest - 1];
        await this.inTransaction(c, () => c.runScript({ from, to, version: latest, direction, script }, false));
        onPhase?.(direction, true);
      }
    } finally {
      await c.close();
    }
  }
}
