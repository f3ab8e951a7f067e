/**
 * What the Migrator drives: a `Backend` opens `MigrationConnection`s — one connection with its
 * storage (version table + step log), its lock primitives, transactions and a way to run a step's
 * script. `SqlBackend` is the real one (a session + its dialect adapter); memory.ts has a fake.
 */
import { hostname } from 'node:os';
import type { Catalog } from './catalog/catalog.js';
import { createAdapter, type LockHolder, type Queryable } from './dialect/adapter.js';
import type { AuxConnection, GuardProbe } from './guard.js';
import type { EngineHooks } from './hooks.js';
import type { PlannedStep } from './repository.js';
import type { DialectName, Logger } from './script/contract.js';
import { openSession, type Session } from './session.js';
import { StepLog } from './step-log.js';
import type { Storage } from './storage.js';
import { begin, commit, rollback } from './transaction.js';
import type { ParsedUrl } from './url.js';
import { VersionTable, type VersionTableRef } from './version-table.js';

export interface MigrationConnection {
  readonly dialect: DialectName;
  /** DDL is transactional: script + bump + log row commit together. */
  readonly transactionalDdl: boolean;
  /** A run lock exists; without one (SQLite) each step re-reads the version in its write transaction. */
  readonly sessionLock: boolean;
  readonly maxVersion: number;
  readonly storage: Storage;
  /** Takes the run lock if free within `waitMs`; true when taken. */
  tryLock(waitMs: number): Promise<boolean>;
  /** Releases the run lock; true when it was held. */
  unlock(): Promise<boolean>;
  lockHolder(): Promise<LockHolder | undefined>;
  /** Throws when the lock is known to be lost. */
  assertLocked(): void;
  /** A write transaction (SQLite: BEGIN IMMEDIATE). */
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Inside a step's transaction, before the script / before commit (SQLite's foreign-key check). */
  beforeStep(): Promise<void>;
  beforeCommit(): Promise<void>;
  /** Base tables of the database. */
  tables(): Promise<string[]>;
  /** Tables without a utf8 collation, where the backend has collations (MySQL). */
  nonUtf8Tables?(exclude: readonly string[]): Promise<string[]>;
  /**
   * Runs one step's script (not the bookkeeping). `resumed`: an earlier attempt stopped midway.
   * `signal`: once aborted, the script's next statement throws instead of running.
   * `onProgress`: receives the script's `progress(done, total)` calls.
   * `expected`: the repository's expected schema of a version (the script's migrate_engine.expected).
   */
  runScript(step: PlannedStep, resumed: boolean, signal?: AbortSignal, onProgress?: (done: number, total?: number) => void, expected?: (version: number) => Catalog | undefined): Promise<void>;
  /** The live schema (all tables, or `tables`), read from the backend's catalog; absent: the backend has none (memory.ts). */
  catalog?(tables?: readonly string[]): Promise<Catalog>;
  /** The connection as a Queryable (a step's `assess` reads data through it); absent where catalog is. */
  readonly queryable?: Queryable;
  /** What the run guard needs to watch this connection from a second one (absent: nothing to watch). */
  guardInfo?(): Promise<{ sessionId?: number; probe?: GuardProbe; openAux(): Promise<AuxConnection> }>;
  /** Bounds every lock wait of this connection's statements (after the run lock is taken). */
  setLockWaitTimeout?(ms: number): Promise<void>;
  /** True when `e` is a statement that gave up waiting for another session's table or row lock. */
  isLockWaitTimeout?(e: unknown): boolean;
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

/** Runs a step's script on a session, counting statements for the crash-test hook. */
export async function runScriptOn(
  session: Session,
  step: PlannedStep,
  resumed: boolean,
  logger: Logger,
  hooks?: EngineHooks,
  signal?: AbortSignal,
  onProgress?: (done: number, total?: number) => void,
  expected?: (version: number) => Catalog | undefined,
): Promise<void> {
  // Loaded when a step runs: db_version and a no-op db_sync never need the script machinery.
  const [{ makeEngine }, { runModule, sqlStatements }] = await Promise.all([import('./script/engine.js'), import('./script/load.js')]);
  const engine = await makeEngine({
    dialect: session.dialect,
    session,
    adapter: session.adapter,
    queryRunner: session.queryRunner,
    logger,
    step: { from: step.from, to: step.to, direction: step.direction },
    resumed,
    abortAfter: hooks?.abortAt?.to === step.to ? hooks.abortAt.after : undefined,
    signal,
    onProgress,
    expected,
  });
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
  private readonly key: string;
  constructor(
    private readonly s: Session,
    ref: VersionTableRef,
    private readonly o: SqlBackendOptions & { openAux: () => Promise<Session> },
  ) {
    const version = new VersionTable(s, s.adapter, ref);
    this.storage = { version, log: new StepLog(s, s.adapter, version) };
    this.key = `${ref.table}:${ref.repositoryId}`;
    const a = s.adapter;
    if (a.nonUtf8Tables) this.nonUtf8Tables = (exclude) => a.nonUtf8Tables!(s, exclude);
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
  get maxVersion() {
    return this.s.adapter.maxVersion;
  }
  nonUtf8Tables?: (exclude: readonly string[]) => Promise<string[]>;
  tryLock(waitMs: number) {
    const lock = this.o.hooks?.lock ?? { mode: 'auto' as const, leaseS: 60 };
    return this.s.adapter.tryLock(this.s, this.key, waitMs, { ...lock, logger: this.o.logger, openAux: this.o.openAux });
  }
  unlock() {
    return this.s.adapter.unlock(this.s, this.key);
  }
  lockHolder() {
    return this.s.adapter.lockHolder(this.s, this.key);
  }
  assertLocked() {
    this.s.adapter.assertLocked();
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
  beforeStep() {
    return this.s.adapter.beforeStep(this.s);
  }
  beforeCommit() {
    return this.s.adapter.beforeCommit(this.s);
  }
  tables() {
    return this.s.adapter.listTables(this.s);
  }
  runScript(step: PlannedStep, resumed: boolean, signal?: AbortSignal, onProgress?: (done: number, total?: number) => void, expected?: (version: number) => Catalog | undefined) {
    return runScriptOn(this.s, step, resumed, this.o.logger, this.o.hooks, signal, onProgress, expected);
  }
  async catalog(tables?: readonly string[]) {
    return (await import('./catalog/introspect.js')).introspect(this.s, tables);
  }
  get queryable(): Queryable {
    return this.s;
  }
  async guardInfo() {
    const a = this.s.adapter;
    return { sessionId: a.guard ? await a.sessionId(this.s) : undefined, probe: a.guard, openAux: () => this.o.openAux() };
  }
  setLockWaitTimeout(ms: number) {
    return this.s.adapter.setLockWaitTimeout(this.s, ms);
  }
  isLockWaitTimeout(e: unknown) {
    return this.s.adapter.classify(e) === 'lock-wait-timeout';
  }
  close() {
    return this.s.close();
  }
}
