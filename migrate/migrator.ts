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
import { DatabaseNotControlledError, InvalidVersionError, LockTimeoutError, StepError, describe } from './errors.js';
import { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult } from './plan.js';
import { planSteps, scriptFor, type PlannedStep, type Repository } from './repository.js';
import type { Logger } from './script/contract.js';
import type { StepRecord, VersionState } from './storage.js';

export { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult };

export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export interface MigratorOptions {
  readonly repo: Repository;
  readonly backend: Backend;
  readonly logger: Logger;
  readonly lockTimeoutMs?: number;
  readonly onStep?: (e: StepEvent) => void;
}

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
    const c = await this.o.backend.open({ typeorm, forLock: true });
    const { logger } = this.o;
    const key = `${this.repo.config.versionTable}:${this.repo.config.repositoryId}`;
    let locked = false;
    let failed = false;
    try {
      locked = await c.tryLock(0);
      const waited = !locked;
      if (!locked) {
        const s = Math.round(this.timeoutMs / 1000);
        const holder = await c.lockHolder().catch(() => undefined);
        const running = await c.storage.log.running();
        logger.info(
          { lock: key, holder: holder?.fields ?? 'unknown', running },
          `waiting up to ${s} s for the migration lock held by ${holder?.text ?? 'another session'}${running ? ` (${running.host} pid ${running.pid}, running ${running.script})` : ''}`,
        );
        locked = await c.tryLock(this.timeoutMs);
        if (!locked) {
          throw new LockTimeoutError(
            `timed out after ${s} s waiting for the migration lock on ${key} (another migration is running; retry later or raise the lock timeout); nothing was applied`,
          );
        }
      }
      return await fn(c, waited);
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
      await c.close();
    }
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
    const fail = (e: unknown) => (e instanceof StepError ? e : new StepError(step.script.relPath, step.direction, step.from, step.to, e));
    const start = () => this.o.onStep?.({ type: 'start', from: step.from, to: step.to, script: rec.script });
    const progress = (done: number, total?: number) => this.o.onStep?.({ type: 'progress', from: step.from, to: step.to, script: rec.script, done, total });
    if (c.transactionalDdl) {
      await c.begin();
      try {
        if (!c.sessionLock && (await version.read()) !== step.from) {
          await c.rollback();
          return 'skipped';
        }
        await c.beforeStep();
        start();
        await c.runScript(step, false, progress);
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
        await c.runScript(step, resumed, progress);
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
        throw e;
      }
    }
    const ms = Math.round(performance.now() - t0);
    this.o.onStep?.({ type: 'done', from: step.from, to: step.to, script: rec.script, ms });
    return { ms };
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
