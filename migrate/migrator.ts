/**
 * The migration algorithm, in one class (Kysely's Migrator and golang-migrate's core are the
 * models; dialect differences are in the adapters, storage behind storage.ts). `migrate(request)`
 * is the whole operation:
 *
 *   prepare  probe the version on a short-lived connection, no lock; decide: nothing to do, refuse,
 *            or the whole path (a missing version anywhere aborts before anything runs)
 *   run      open the migration connection, take the run lock (bounded wait, logged)
 *              -> the version again, under the lock (another process may have moved it; a
 *                 control policy may put an uncontrolled database under version control here)
 *              -> the schema gate (schema-gate.ts, where the repository has expected schemas):
 *                 the database is exactly its version's schema, or a partial state of the first
 *                 step that the step finishes; anything else refuses the run, nothing written
 *              -> the checks' `before`: under the lock, after the version is read, before the
 *                 first step; a check that throws refuses the run and nothing is written
 *              -> walk: per step (step.ts) [begin] script -> its schema checked -> compare-and-set
 *                 bump + journal -> [commit]
 *              -> the checks' `after`: after the last step
 *            release in finally; an unlock failure after an error keeps the first error and logs the second
 *
 * Policy is the caller's, in the request: the target, the command's direction, what to do with a
 * database not under version control (oslo.ts: stamp an empty one), whether a lower target is
 * refused, which checks run. SQLite has no session lock: each step runs in BEGIN IMMEDIATE and
 * re-reads the version inside the transaction, so a step is applied by exactly one process; one
 * that finds the step done re-plans from the new version.
 *
 * The run guard (guard.ts) watches the migration connection while steps run and turns a stop or a
 * statement's lock-wait timeout into its one-line error.
 */
import type { Backend, Inspector, MigrationConnection } from './connection.js';
import { DEFAULT_LOCK_TIMEOUT_S, DEFAULT_LOCK_WAIT_TIMEOUT_S, lockKey } from './defaults.js';
import { DatabaseNotControlledError, InvalidVersionError, VersionNotFoundError } from './errors.js';
import { interrupted, type RunGuard } from './guard.js';
import { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult } from './plan.js';
import { planSteps, scriptFor, type PlannedStep, type Repository } from './repository.js';
import { inTransaction, withRunLock, type Locked } from './run-lock.js';
import { decideFresh, installFresh, type FreshDecision } from './fresh.js';
import { examineAt, gate, verifyStep } from './schema-gate.js';
import { expectedSchemas } from './schemas.js';
import { tableOfFact, type Catalog } from './catalog/catalog.js';
import type { Examination } from './catalog/examine.js';
import { pad, runStep } from './step.js';
import type { Logger } from './script/contract.js';
import type { VersionState } from './storage.js';

export { checkDirection, type MigrateResult, type Plan, type StepEvent, type StepResult };

export interface MigratorOptions {
  readonly repo: Repository;
  readonly backend: Backend;
  readonly logger: Logger;
  /** How long to wait for another run's lock (default DEFAULT_LOCK_TIMEOUT_S). */
  readonly lockTimeoutMs?: number;
  /** How long one statement may wait for another session's table or row lock (default DEFAULT_LOCK_WAIT_TIMEOUT_S). */
  readonly lockWaitTimeoutMs?: number;
  /** Stops the run: the statement in flight is cancelled, the step rolled back or left resumable, the lock released. */
  readonly signal?: AbortSignal;
  readonly onStep?: (e: StepEvent) => void;
  /** Which steps need TypeORM (module scripts get a QueryRunner); default: none. */
  readonly needsTypeorm?: (steps: readonly PlannedStep[]) => boolean;
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

/** A database not under version control for this repository, as a control policy sees it (under the lock, in a write transaction). */
export interface Uncontrolled {
  readonly state: 'no-table' | 'no-row';
  readonly inspect: Inspector;
  /** Repository ids that have a row in the version table. */
  repositories(): Promise<string[]>;
  /** Puts the database under version control at `version`. */
  stamp(version: number): Promise<void>;
}

/** What to do with a database that is not under version control (default: DatabaseNotControlledError). */
export interface ControlPolicy {
  /** The version such a database starts from once controlled (where the plan starts). */
  readonly initVersion: number;
  /** Returns the version to go on from (after stamping), or throws. */
  control(db: Uncontrolled): Promise<number>;
}

/**
 * A check that runs under the lock: `before` after the version is read and before the first step
 * (throwing refuses the run with nothing written by it), `after` after the last step.
 */
export interface RunCheck {
  before?(c: MigrationConnection, at: { readonly version: number; readonly plan: Plan }): Promise<void>;
  after?(c: MigrationConnection, result: MigrateResult): Promise<void>;
}

export interface MigrationRequest {
  /** Where to go; default: the repository's latest. */
  readonly target?: number;
  /** The command's direction: the other one is refused (migrate's upgrade/downgrade). Absent: either. */
  readonly direction?: 'upgrade' | 'downgrade';
  readonly control?: ControlPolicy;
  /**
   * A target below the version found is refused with this error instead of downgrading (Heat:
   * "Cannot migrate to lower schema version."); a concurrent run that moved the database past the
   * target while this one started is not an error.
   */
  readonly refuseLower?: (target: number, version: number) => Error;
  readonly checks?: readonly RunCheck[];
  /**
   * An empty database at the repository's initial version gets the target's expected schema
   * directly (fresh.ts), where the repository has it for this backend; otherwise the steps run.
   * An interrupted fresh install is finished whatever this says.
   */
  readonly fresh?: boolean;
}

/** What `prepare` decided: nothing to do (the result), or the plan to run. */
export type Prepared = { readonly done: MigrateResult } | { readonly plan: Plan; readonly request: MigrationRequest };

/** When this process started (ISO 8601, as the journal writes times). */
const STARTED = new Date(Date.now() - performance.now()).toISOString();

const nothing = (v: number): MigrateResult => ({ from: v, to: v, steps: [] });

export class Migrator {
  readonly repo: Repository;
  private readonly timeoutMs: number;
  private readonly lockWaitMs: number;

  constructor(private readonly o: MigratorOptions) {
    this.repo = o.repo;
    this.timeoutMs = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000;
    this.lockWaitMs = o.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_S * 1000;
  }

  /** The whole operation: prepare, then run under the lock. */
  async migrate(request: MigrationRequest = {}): Promise<MigrateResult> {
    const p = await this.prepare(request);
    return 'done' in p ? p.done : this.run(p);
  }

  /**
   * The version; an uncontrolled database is DatabaseNotControlledError, or put under control by
   * `control` (under the lock).
   */
  async version(control?: ControlPolicy): Promise<number> {
    const v = await this.probe(control);
    if (typeof v === 'number') return v;
    return this.withLock(({ c }) => this.lockedVersion(c, control));
  }

  /** Decides, without the lock, what `request` means for the database as it is now. */
  async prepare(request: MigrationRequest): Promise<Prepared> {
    const { repo } = this;
    const { control, direction } = request;
    const target = request.target ?? repo.latest;
    const probed = await this.probe(control);
    const before = typeof probed === 'number' ? probed : null;
    if (before !== null && before > repo.latest && (request.target === undefined || !direction)) throw this.newer(before);
    if (direction && before !== null) checkDirection(direction, before, target);
    if (before === target) return { done: nothing(before) };
    if (request.refuseLower && before !== null && target < before) {
      // Refused only when the database was already past the target when this process looked. If a
      // concurrent run was moving it (the lock was busy, or the version changed between the probe
      // and getting the lock), the target is reached: wait for that run, then report success.
      // Decided from what the database shows, not from clocks (replicas' clocks need not agree).
      // Or a step finished after this process started (its clock: the same as the writer's for a
      // SQLite file, which has no lock to wait on; a fresh install is over in a moment).
      const moving = await this.withLock(
        async ({ c, waited }) =>
          waited || (await inTransaction(c, () => c.storage.version.read(true))) !== before || ((await c.storage.journal.lastFinished?.()) ?? '') >= STARTED,
      );
      if (!moving) throw request.refuseLower(target, before);
      this.o.logger.info(`the database moved past version ${target} while this run started (another process migrated it); nothing to do`);
      return { done: nothing(before) };
    }
    // The whole path first (an uncontrolled database starts at the policy's initVersion, and is
    // never downgraded below it).
    const start = before ?? control!.initVersion;
    const plan = before === null && target < start ? { ...this.plan(start, start), target } : this.plan(start, target);
    this.checkFits([...plan.steps.map((s) => s.to), target]);
    return { plan, request };
  }

  /** Runs what `prepare` decided: under the lock, the version again, the checks, the walk. */
  async run(p: Prepared): Promise<MigrateResult> {
    if ('done' in p) return p.done;
    const { plan, request } = p;
    const checks = request.checks ?? [];
    return this.withLock(async ({ c, guard }) => {
      const version = await this.lockedVersion(c, request.control);
      if (version > this.repo.latest) throw this.newer(version);
      // An empty database may get the target's schema directly (fresh.ts); decided reading only.
      const fresh = plan.direction === 'upgrade' ? await decideFresh(this.repo, c, { version, target: plan.target, asked: !!request.fresh, logger: this.o.logger }) : undefined;
      // Before anything is written: the schema must be the version's, or a state the first step finishes.
      const first = fresh ? undefined : version === plan.from ? plan.steps[0] : plan.direction === 'upgrade' && version < plan.target ? planSteps(this.repo, version, version + 1, c.dialect)[0] : undefined;
      if (plan.direction === 'upgrade' && first && first.from === version) {
        const ours = await c.storage.journal.unfinished();
        await gate(this.repo, c, version, first, { logger: this.o.logger, reportCommand: this.o.reportCommand, interruptedByUs: ours?.from === version && ours.direction === 'upgrade' });
      }
      // Under the lock, after the version is read, before the first step: a check may refuse here.
      for (const check of checks) await check.before?.(c, { version, plan });
      const result = fresh ? await this.fresh(c, guard, fresh, plan) : await this.walk(c, guard, version, plan);
      // After the last step.
      for (const check of checks) await check.after?.(c, result);
      return result;
    }, plan.typeorm);
  }

  /**
   * Where the database stands against the expected schema of its recorded version (docs/CATALOG.md),
   * on a short-lived read-only connection, without the lock: the schema report (`heat-manage
   * db_check`) and the run's gate are the same check (schema-gate.ts).
   */
  async examine(): Promise<SchemaExamination> {
    const c = await this.o.backend.open({ readOnly: true });
    try {
      const version = await c.storage.version.read();
      const { catalog, query } = c.inspect;
      if (!catalog || !query) return { version };
      if (typeof version === 'number') return { version, examination: await examineAt(this.repo, { dialect: c.dialect, query }, version) };
      // Not under version control: which version's schema is it exactly (the version table aside), if any?
      const { versionTable } = this.repo.config;
      const app = (x: Catalog) => x.filter((f) => tableOfFact(c.dialect, f) !== versionTable);
      const live = app(await catalog());
      const schemas = expectedSchemas(this.repo);
      const tables = live.tables().filter((t) => t !== '');
      return { version, tables, matching: tables.length ? schemas.versions(c.dialect).filter((v) => app(schemas.get(c.dialect, v)!).equals(live)) : [] };
    } finally {
      await c.close();
    }
  }

  /** `version_control`: puts the database under version control at `version`. */
  async stamp(version: number): Promise<void> {
    this.checkFits([version]);
    await this.withLock(({ c }) => inTransaction(c, () => c.storage.version.insert(this.repo.path, version)));
  }

  /** `drop_version_control`: removes this repository's row (the table with the last row). */
  async dropControl(): Promise<{ droppedTable: boolean }> {
    return this.withLock(({ c }) =>
      inTransaction(c, async () => {
        await this.lockedVersion(c); // DatabaseNotControlledError when absent
        return c.storage.version.drop();
      }),
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
        await inTransaction(c, () => c.runScript({ from, to, version: latest, direction, script }, { resumed: false }));
        onPhase?.(direction, true);
      }
    } finally {
      await c.close();
    }
  }

  /** The version state on a short-lived connection, without the lock; without a control policy an uncontrolled database is an error. */
  private async probe(control?: ControlPolicy): Promise<VersionState> {
    const c = await this.o.backend.open({});
    try {
      const v = await c.storage.version.read();
      return typeof v === 'number' || control ? v : await this.notControlled(c, v);
    } finally {
      await c.close();
    }
  }

  /** The version under the lock; an uncontrolled database goes to the control policy (in a write transaction), or is an error. */
  private async lockedVersion(c: MigrationConnection, control?: ControlPolicy): Promise<number> {
    if (!control) {
      const v = await c.storage.version.read();
      return typeof v === 'number' ? v : this.notControlled(c, v);
    }
    const { version } = c.storage;
    return inTransaction(c, async () => {
      const state = await version.read(true);
      if (typeof state === 'number') return state;
      return control.control({ state, inspect: c.inspect, repositories: () => version.repositories(), stamp: (v) => version.insert(this.repo.absPath, v) });
    });
  }

  private async notControlled(c: MigrationConnection, v: 'no-table' | 'no-row'): Promise<never> {
    const { versionTable: table, repositoryId: id } = this.repo.config;
    if (v === 'no-table') {
      throw new DatabaseNotControlledError(
        `database is not under version control: table ${table} not found; put it under version control first (migrate version_control URL REPOSITORY)`,
      );
    }
    const others = await c.storage.version.repositories();
    throw new DatabaseNotControlledError(
      `database is not under version control for repository '${id}': ${table} has no row for it` + (others.length ? ` (it holds rows for: ${others.join(', ')})` : ''),
    );
  }

  private newer(v: number): VersionNotFoundError {
    return new VersionNotFoundError(
      `the database is at version ${v}, newer than this repository's latest (${this.repo.latest}): it was migrated by a newer release ("Database schema file with version ${v} doesn't exist.")`,
    );
  }

  /** The whole path from `from` to `target`, checked before anything runs. */
  private plan(from: number, target: number): Plan {
    const direction = target < from ? 'downgrade' : 'upgrade';
    const steps = planSteps(this.repo, from, target, this.o.backend.dialect);
    return { from, target, direction, steps, typeorm: this.o.needsTypeorm?.(steps) ?? false };
  }

  /** The versions of a plan that do not fit migrate_version.version (INTEGER) on this backend. */
  private checkFits(versions: readonly number[]): void {
    const { maxVersion } = this.o.backend;
    const v = versions.find((x) => x > maxVersion);
    if (v === undefined) return;
    throw new InvalidVersionError(
      `${v} does not fit migrate_version.version (INTEGER, at most ${maxVersion}) on ${this.o.backend.dialect}: timestamp-numbered repositories work on SQLite only; use sequential numbers`,
    );
  }

  /** Runs `fn` under the run lock (run-lock.ts) on the migration connection. */
  private withLock<T>(fn: (l: Locked) => Promise<T>, typeorm = false): Promise<T> {
    const { backend, logger, signal } = this.o;
    const { versionTable: table, repositoryId } = this.repo.config;
    const key = lockKey({ table, repositoryId });
    return withRunLock({ backend, key, logger, signal, typeorm, lockTimeoutMs: this.timeoutMs, lockWaitTimeoutMs: this.lockWaitMs }, fn);
  }

  /** The fresh install `d` (fresh.ts) as one step, then the steps past it up to the target, if any. */
  private async fresh(c: MigrationConnection, guard: RunGuard, d: FreshDecision, plan: Plan): Promise<MigrateResult> {
    const last = await c.storage.journal.resume();
    if (last && last.from === d.from && d.existing.length) {
      const { from, to, script, startedAt, host, pid, error } = last;
      this.o.onStep?.({ type: 'resume', from, to, script, startedAt, host, pid, error });
    }
    const { step, outcome } = await installFresh(this.repo, c, d, { guard, logger: this.o.logger, signal: this.o.signal, onStep: this.o.onStep });
    // Another process (SQLite) moved the database first: continue from where it left it.
    if (outcome === 'skipped') return this.walk(c, guard, await this.lockedVersion(c), plan);
    const done: StepResult = { from: step.from, to: step.to, script: step.script.relPath, ms: outcome.ms };
    if (d.to >= plan.target) return { from: d.from, to: d.to, steps: [done] };
    const rest = await this.walk(c, guard, d.to, plan);
    return { from: d.from, to: rest.to, steps: [done, ...rest.steps] };
  }

  /**
   * Walks from `start` (read under the lock) to `plan.target`. A database already past an upgrade's
   * target (a concurrent run went further) is left as it is.
   */
  private async walk(c: MigrationConnection, guard: RunGuard, start: number, plan: Plan): Promise<MigrateResult> {
    const { target, direction } = plan;
    const steps: StepResult[] = [];
    if (start === target || (direction === 'upgrade' && start > target)) return nothing(start);
    checkDirection(direction, start, target);
    let path = start === plan.from ? plan.steps : planSteps(this.repo, start, target, c.dialect);
    const last = await c.storage.journal.resume();
    let resumeFrom: number | null = null;
    if (last && last.from === start && last.direction === direction) {
      resumeFrom = start;
      const { from, to, script, startedAt, host, pid, error } = last;
      this.o.onStep?.({ type: 'resume', from, to, script, startedAt, host, pid, error });
    }
    let cur = start;
    for (;;) {
      let replan = false;
      for (const step of path) {
        const stop = guard.stopReason;
        if (stop) throw interrupted(this.o.logger, stop, `before step ${pad(step.from)} -> ${pad(step.to)}; the next run continues from ${pad(step.from)}`);
        c.lock.assertHeld();
        const outcome = await runStep(c, step, resumeFrom === step.from, {
          guard,
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
}
