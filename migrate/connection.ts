/**
 * What the Migrator drives: a `Backend` opens `MigrationConnection`s — one connection with its
 * storage (version table + step journal), its run lock, transactions, a way to run a step's script,
 * and what policies and checks may look at (`inspect`). Only what the algorithm needs; SqlBackend
 * is the real one (a session + its dialect adapter), memory.ts a fake for database-free tests.
 */
import { hostname } from 'node:os';
import { DEFAULT_LOCK_LEASE_S, lockKey } from './defaults.js';
import type { Catalog } from './catalog/catalog.js';
import type { LockHolder, Queryable } from './dialect/contract.js';
import { createAdapter } from './dialect/factory.js';
import type { WatchInfo } from './guard.js';
import type { EngineHooks } from './hooks.js';
import type { PlannedStep } from './repository.js';
import type { DialectName, Logger } from './script/contract.js';
import { openSession, type Session } from './session.js';
import { StepLog } from './step-log.js';
import type { Storage } from './storage.js';
import { begin, commit, rollback } from './transaction.js';
import type { ParsedUrl } from './url.js';
import { VersionTable, type VersionTableRef } from './version-table.js';

/** The run lock of one connection (MySQL GET_LOCK or the Galera row lock, PostgreSQL advisory lock; SQLite: none). */
export interface RunLock {
  /** Takes the lock if free within `waitMs`; true when taken. */
  tryLock(waitMs: number): Promise<boolean>;
  /** Releases it; true when it was held. */
  unlock(): Promise<boolean>;
  /** Who holds it now, if the backend can tell (for the waiting line). */
  holder(): Promise<LockHolder | undefined>;
  /** Throws when the lock is known to be lost (a row lock whose lease was taken over). */
  assertHeld(): void;
}

/** What policies and checks may look at (read only). */
export interface Inspector {
  /** Base tables of the database. */
  tables(): Promise<string[]>;
  /** Tables without a utf8 collation, where the backend has collations (MySQL). */
  nonUtf8Tables?(exclude: readonly string[]): Promise<string[]>;
  /** The live schema (all tables, or `tables`) from the backend's catalog (docs/CATALOG.md); absent: the backend has none (memory.ts). */
  catalog?(tables?: readonly string[]): Promise<Catalog>;
  /** Reads rows (a step's `assess` looks at the data through it); present with `catalog`. */
  readonly query?: Queryable['query'];
}

/** How one script runs. */
export interface ScriptRun {
  /** An earlier attempt of this step stopped midway (non-transactional DDL). */
  readonly resumed: boolean;
  /** Once aborted, the script's next statement throws instead of running. */
  readonly signal?: AbortSignal;
  /** Receives the script's `progress(done, total)` calls. */
  readonly onProgress?: (done: number, total?: number) => void;
  /** Inside a step's transaction: the backend checks what the script left before the step commits (SQLite: no new foreign-key violations). */
  readonly verify?: boolean;
  /** The repository's expected schema of a version (the script's migrate_engine.expected). */
  readonly expected?: (version: number) => Catalog | undefined;
}

export interface MigrationConnection {
  readonly dialect: DialectName;
  /** DDL is transactional: script + bump + journal row commit together. */
  readonly transactionalDdl: boolean;
  /** A run lock exists; without one (SQLite) each step re-reads the version in its write transaction. */
  readonly sessionLock: boolean;
  readonly storage: Storage;
  readonly lock: RunLock;
  readonly inspect: Inspector;
  /** A write transaction (SQLite: BEGIN IMMEDIATE). */
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Runs one step's script (not the bookkeeping). */
  runScript(step: PlannedStep, run: ScriptRun): Promise<void>;
  /** Runs statements as `step`'s work, counted like a script's (the crash-test hook); absent: the backend cannot (memory.ts). */
  runStatements?(step: PlannedStep, statements: readonly string[], run: ScriptRun): Promise<void>;
  /** What the run guard needs to watch this connection from a second one (absent: nothing to watch). */
  watch?(): Promise<WatchInfo>;
  /** Bounds every lock wait of this connection's statements (after the run lock is taken). */
  setLockWaitTimeout?(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface Backend {
  readonly dialect: DialectName;
  /** The largest version migrate_version.version (INTEGER) holds here. */
  readonly maxVersion: number;
  /**
   * `typeorm`: module scripts will run (they get a QueryRunner). `forLock`: the migration connection.
   * `readOnly`: only reads will follow (a SQLite file is opened read-only and never created).
   */
  open(o: { typeorm?: boolean; forLock?: boolean; readOnly?: boolean }): Promise<MigrationConnection>;
}

export interface SqlBackendOptions {
  readonly logger: Logger;
  readonly logSql?: boolean;
  readonly hooks?: EngineHooks;
  /** SQLite's busy timeout follows the lock timeout. */
  readonly lockTimeoutMs: number;
  /** Ends waits inside the driver (SQLite's write lock) of the migration connection when aborted. */
  readonly signal?: AbortSignal;
}

/** The migrate_engine of a step on a session: counts statements for the crash-test hook. */
async function engineFor(session: Session, step: PlannedStep, run: ScriptRun, logger: Logger, hooks?: EngineHooks) {
  // Loaded when a step runs: db_version and a no-op db_sync never need the script machinery.
  const { makeEngine } = await import('./script/engine.js');
  return makeEngine({
    dialect: session.dialect,
    session,
    adapter: session.adapter,
    queryRunner: session.queryRunner,
    logger,
    step: { from: step.from, to: step.to, direction: step.direction },
    resumed: run.resumed,
    abortAfter: hooks?.abortAt?.to === step.to ? hooks.abortAt.after : undefined,
    signal: run.signal,
    onProgress: run.onProgress,
    expected: run.expected,
  });
}

/** Runs a step's script on a session. */
async function runScriptOn(session: Session, step: PlannedStep, run: ScriptRun, logger: Logger, hooks?: EngineHooks): Promise<void> {
  const [engine, { runModule, sqlStatements }] = await Promise.all([engineFor(session, step, run, logger, hooks), import('./script/load.js')]);
  if (step.script.kind === 'sql') {
    for (const stmt of sqlStatements(step.script, logger)) await engine.execute(stmt);
  } else {
    await runModule(step.script, step.direction, engine);
  }
}

export class SqlBackend implements Backend {
  readonly dialect: DialectName;
  private constructor(
    private readonly url: ParsedUrl,
    private readonly ref: VersionTableRef,
    private readonly o: SqlBackendOptions,
    readonly maxVersion: number,
  ) {
    this.dialect = url.dialect;
  }

  static async create(url: ParsedUrl, ref: VersionTableRef, o: SqlBackendOptions): Promise<SqlBackend> {
    return new SqlBackend(url, ref, o, (await createAdapter(url.dialect)).maxVersion);
  }

  async open(x: { typeorm?: boolean; forLock?: boolean; readOnly?: boolean }): Promise<MigrationConnection> {
    const { logger, logSql, hooks, lockTimeoutMs } = this.o;
    const session = await openSession(this.url, {
      typeorm: x.typeorm,
      logger,
      logSql,
      hooks,
      busyTimeoutMs: lockTimeoutMs,
      signal: x.forLock ? this.o.signal : undefined,
      readOnly: x.readOnly,
      // Shown to waiters on PostgreSQL: replicas in containers are all pid 1, the host tells them apart.
      applicationName: x.forLock ? `migrate[${process.pid}]@${hostname()}`.slice(0, 63) : undefined,
    });
    try {
      if (x.forLock) await session.adapter.prepare(session);
    } catch (e) {
      await session.close();
      throw e;
    }
    return new SqlConnection(session, this.ref, { ...this.o, openAux: () => openSession(this.url, { logger, hooks, busyTimeoutMs: lockTimeoutMs }) });
  }
}

class SqlConnection implements MigrationConnection {
  readonly storage: Storage;
  readonly lock: RunLock;
  readonly inspect: Inspector;
  constructor(
    private readonly s: Session,
    ref: VersionTableRef,
    private readonly o: SqlBackendOptions & { openAux: () => Promise<Session> },
  ) {
    const a = s.adapter;
    const version = new VersionTable(s, a, ref);
    this.storage = { version, journal: new StepLog(s, a, version) };
    const key = lockKey(ref);
    const mode = o.hooks?.lock ?? { mode: 'auto' as const, leaseS: DEFAULT_LOCK_LEASE_S };
    this.lock = {
      tryLock: (waitMs) => a.tryLock(s, key, waitMs, { ...mode, logger: o.logger, openAux: o.openAux }),
      unlock: () => a.unlock(s, key),
      holder: () => a.lockHolder(s, key),
      assertHeld: () => a.assertLocked(),
    };
    this.inspect = {
      tables: () => a.listTables(s),
      catalog: async (tables) => (await import('./catalog/introspect.js')).introspect(s, tables),
      query: (sql, params) => s.query(sql, params),
    };
    if (a.nonUtf8Tables) this.inspect.nonUtf8Tables = (exclude) => a.nonUtf8Tables!(s, exclude);
  }
  get dialect() {
    return this.s.dialect;
  }
  get transactionalDdl() {
    return this.s.adapter.transactionalDdl;
  }
  get sessionLock() {
    return this.s.adapter.sessionLock;
  }
  begin() {
    return begin(this.s);
  }
  commit() {
    return commit(this.s);
  }
  rollback() {
    return rollback(this.s);
  }
  async runScript(step: PlannedStep, run: ScriptRun) {
    const a = this.s.adapter;
    if (run.verify) await a.beforeStep?.(this.s);
    await runScriptOn(this.s, step, run, this.o.logger, this.o.hooks);
    if (run.verify) await a.beforeCommit?.(this.s);
  }
  async runStatements(step: PlannedStep, statements: readonly string[], run: ScriptRun) {
    const engine = await engineFor(this.s, step, run, this.o.logger, this.o.hooks);
    for (const sql of statements) await engine.execute(sql);
  }
  async watch(): Promise<WatchInfo> {
    const a = this.s.adapter;
    return {
      sessionId: a.guard ? await a.sessionId(this.s) : undefined,
      probe: a.guard,
      openAux: () => this.o.openAux(),
      isLockWaitTimeout: (e) => a.classify(e) === 'lock-wait-timeout',
    };
  }
  setLockWaitTimeout(ms: number) {
    return this.s.adapter.setLockWaitTimeout(this.s, ms);
  }
  close() {
    return this.s.close();
  }
}
