/**
 * An in-memory Backend (umzug's memory storage is the model): the version table, the step log and
 * the run lock as plain data, transactions as snapshots. For fast, database-free tests of the
 * Migrator's algorithm; `scripts` plays the steps (it may throw, or change the data under the run).
 */
import type { Backend, MigrationConnection } from './connection.js';
import { ControlledSchemaError, DatabaseAlreadyControlledError } from './errors.js';
import type { PlannedStep } from './repository.js';
import type { DialectName } from './script/contract.js';
import type { Interrupted, StepRecord, Storage, VersionState } from './storage.js';

export interface LogRow extends StepRecord {
  id: number;
  status: string;
  runId: string;
  error: string | null;
}

/** The "database": shared by every connection of one MemoryBackend. */
export class MemoryDb {
  versionTable = false;
  readonly rows = new Map<string, number>();
  log: LogRow[] = [];
  tables: string[] = [];
  /** Who holds the run lock (a connection), if anybody. */
  holder: object | null = null;
}

export interface MemoryOptions {
  readonly dialect?: DialectName;
  readonly transactionalDdl?: boolean;
  readonly sessionLock?: boolean;
  readonly repositoryId?: string;
  readonly scripts?: (step: PlannedStep, db: MemoryDb, resumed: boolean, progress?: (done: number, total?: number) => void) => Promise<void> | void;
  /** Make unlock fail (tests "unlock failed after an error"). */
  readonly failUnlock?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class MemoryBackend implements Backend {
  readonly dialect: DialectName;
  readonly maxVersion = Number.MAX_SAFE_INTEGER;
  private runs = 0;
  constructor(
    readonly db: MemoryDb,
    private readonly o: MemoryOptions = {},
  ) {
    this.dialect = o.dialect ?? 'sqlite';
  }
  async open(): Promise<MigrationConnection> {
    return new MemoryConnection(this.db, this.o, `run-${++this.runs}`);
  }
}

class MemoryConnection implements MigrationConnection {
  readonly dialect: DialectName;
  readonly transactionalDdl: boolean;
  readonly sessionLock: boolean;
  readonly maxVersion = Number.MAX_SAFE_INTEGER;
  readonly storage: Storage;
  private snapshot?: { versionTable: boolean; rows: [string, number][]; log: LogRow[]; tables: string[] };

  constructor(
    private readonly db: MemoryDb,
    private readonly o: MemoryOptions,
    runId: string,
  ) {
    this.dialect = o.dialect ?? 'sqlite';
    this.transactionalDdl = o.transactionalDdl ?? true;
    this.sessionLock = o.sessionLock ?? true;
    const id = o.repositoryId ?? 'repo';
    const read = (): VersionState => (!db.versionTable ? 'no-table' : (db.rows.get(id) ?? 'no-row'));
    const bump = (from: number, to: number) => {
      if (read() !== from) throw new ControlledSchemaError(`the version changed under this run: expected ${from} before setting ${to}`);
      db.rows.set(id, to);
    };
    const mine = (s: StepRecord) => db.log.find((r) => r.runId === runId && r.status === 'running' && r.from === s.from && r.to === s.to);
    this.storage = {
      version: {
        read: async () => read(),
        insert: async (_path, v) => {
          if (typeof read() === 'number') throw new DatabaseAlreadyControlledError(`already under version control (at ${String(read())})`);
          db.versionTable = true;
          db.rows.set(id, v);
        },
        bump: async (from, to) => bump(from, to),
        drop: async () => {
          db.rows.delete(id);
          if (db.rows.size === 0) db.versionTable = false;
          return { droppedTable: !db.versionTable };
        },
        repositories: async () => [...db.rows.keys()],
      },
      log: {
        ensure: async () => undefined,
        interrupted: async () => {
          const r = db.log.at(-1);
          if (!r || r.status === 'done') return null;
          return { ...r, startedAt: '', host: 'memory', pid: 0 } as Interrupted;
        },
        closeInterrupted: async () => db.log.filter((r) => r.status === 'running').forEach((r) => (r.status = 'abandoned')),
        running: async () => {
          const r = db.log.findLast((x) => x.status === 'running');
          return r ? { host: 'memory', pid: 0, script: r.script } : undefined;
        },
        record: async (s, status, error) => void db.log.push({ ...s, id: db.log.length + 1, status, runId, error: error ?? null }),
        finish: async (s, status, error) => {
          const r = mine(s);
          if (r) Object.assign(r, { status, error: error ?? null });
        },
        bumpMarkingDone: async (s) => {
          const r = mine(s);
          if (!r) throw new ControlledSchemaError(`no running log row of this run for ${s.from} -> ${s.to}`);
          bump(s.from, s.to);
          r.status = 'done';
        },
      },
    };
  }

  async tryLock(waitMs: number) {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (!this.sessionLock || this.db.holder === null || this.db.holder === this) {
        if (this.sessionLock) this.db.holder = this;
        return true;
      }
      if (Date.now() >= deadline) return false;
      await sleep(5);
    }
  }
  async unlock() {
    if (this.o.failUnlock) throw new Error('unlock failed (test)');
    const held = this.db.holder === this;
    if (held) this.db.holder = null;
    return held || !this.sessionLock;
  }
  async lockHolder() {
    return this.db.holder ? { text: 'another memory connection', fields: {} } : undefined;
  }
  assertLocked() {}
  async begin() {
    const d = this.db;
    this.snapshot = { versionTable: d.versionTable, rows: [...d.rows], log: d.log.map((r) => ({ ...r })), tables: [...d.tables] };
  }
  async commit() {
    this.snapshot = undefined;
  }
  async rollback() {
    const s = this.snapshot;
    if (!s) return;
    Object.assign(this.db, { versionTable: s.versionTable, log: s.log, tables: s.tables });
    this.db.rows.clear();
    for (const [k, v] of s.rows) this.db.rows.set(k, v);
    this.snapshot = undefined;
  }
  async beforeStep() {}
  async beforeCommit() {}
  async tables() {
    return [...this.db.tables, ...(this.db.versionTable ? ['migrate_version'] : [])];
  }
  async runScript(step: PlannedStep, resumed: boolean, _signal?: AbortSignal, progress?: (done: number, total?: number) => void) {
    await this.o.scripts?.(step, this.db, resumed, progress);
  }
  async close() {
    if (this.db.holder === this) this.db.holder = null; // a closed session releases its lock
  }
}
