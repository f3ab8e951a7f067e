/**
 * The migration algorithm, in one class (Kysely's Migrator and golang-migrate's core are the
 * models; dialect differences are in the adapters, storage behind storage.ts):
 *
 *   probe   read the version on a short-lived light connection, no lock; nothing to do -> return
 *   plan    the whole path, once (a missing version anywhere aborts before anything runs)
 *   lock    open the migration connection, take the run lock (bounded wait, logged, LockTimeoutError)
 *   ensure  re-read the version under the lock (another process may have moved it); oslo: stamp
 *   walk    per step (step.ts): [begin] script -> compare-and-set bump + log row -> [commit]
 *   release in finally; an unlock failure after an error keeps the first error and logs the second
 *
 * SQLite has no session lock: each step runs in BEGIN IMMEDIATE and re-reads the version inside
 * the transaction, so a step is applied by exactly one process; one that finds the step done
 * re-plans from the new version.
 *
 * The run guard (guard.ts) watches the migration connection while steps run and turns a stop or a
 * statement's lock-wait timeout into its one-line error.
 */
import type { Backend, MigrationConnection } from './connection.js';
import { DatabaseNotControlledError, InterruptedError, InvalidVersionError, LockTimeoutError, describe } from './errors.js';
import { guardFor, interrupted, type RunGuard } from './guard.js';
import { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult } from './plan.js';
import { planSteps, scriptFor, type PlannedStep, type Repository } from './repository.js';
import type { Examination } from './catalog/examine.js';
import { examineAt, gate, verifyStep } from './schema-gate.js';
import { expectedSchemas } from './schemas.js';
import { pad, runStep } from './step.js';
import type { Logger } from './script/contract.js';
import type { VersionState } from './storage.js';

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
  /** The command that prints the full schema report, named in a refusal (`heat-manage db_check`). */
  readonly reportCommand?: string;
}

/** Migrator.examine's answer. */
export interface SchemaExamination {
  readonly version: VersionState;
  /** Under version control: where the schema stands against its version. */
  readonly examination?: Examination;
  /** Not under version control: the tables there are (the version table aside)... */
  readonly tables?: readonly string[];
  /** ...and the versions whose expected schema they are exactly. */
  readonly matching?: readonly number[];
}

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

  /**
   * Where the database stands against the expected schema of its recorded version (docs/CATALOG.md),
   * on a short-lived connection, without the lock, writing nothing: the schema report
   * (`heat-manage db_check`) and the run's gate are the same check (schema-gate.ts).
   */
  async examine(): Promise<SchemaExamination> {
    const c = await this.o.backend.open({ readOnly: true });
    try {
      const version = await c.storage.version.read();
      if (!c.queryable || !c.catalog) return { version };
      if (typeof version === 'number') return { version, examination: await examineAt(this.repo, c.queryable, version) };
      // Not under version control: which version's schema is it exactly, if any?
      const live = await c.catalog();
      const schemas = expectedSchemas(this.repo);
      const tables = live.tables().filter((t) => t !== '' && t !== this.repo.config.versionTable);
      return { version, tables, matching: schemas.versions(c.dialect).filter((v) => schemas.get(c.dialect, v)!.equals(live)) };
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
    const guard = await guardFor(c, { logger, lockWaitTimeoutMs: this.lockWaitMs, signal }).catch(async (e: unknown) => {
      await c.close();
      throw e;
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
    return interrupted(this.o.logger, reason, where);
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
    // Where DDL is not transactional, our own log may say that this run's first step was started
    // and not finished (read before anything is written: the log table may not exist yet).
    const intr = c.transactionalDdl ? null : await log.interrupted().catch(() => null);
    const ours = !!intr && intr.from === start && intr.direction === direction;
    // Before anything is written, the step log included.
    if (direction === 'upgrade' && path[0]) await gate(this.repo, c, start, path[0], { ...this.o, interruptedByUs: ours });
    await log.ensure();
    let resumeFrom: number | null = null;
    if (!c.transactionalDdl) {
      if (ours && intr) {
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
        const outcome = await runStep(c, step, resumeFrom === step.from, {
          guard: this.guards.get(c),
          logger: this.o.logger,
          signal: this.o.signal,
          onStep: this.o.onStep,
          expected: (v) => expectedSchemas(this.repo).get(c.dialect, v),
          verify: () => verifyStep(this.repo, c, step),
        });
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
