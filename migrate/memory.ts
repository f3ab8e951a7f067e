/**
 * An in-memory Backend (umzug's memory storage is the model): the version table, the step journal
 * and the run lock as plain data, transactions as snapshots. For fast, database-free tests of the
 * Migrator's algorithm; `scripts` plays the steps (it may throw, or change the data under the run).
 * Its storage is held to the same expectations as the SQL one (test/support/storage-expectations.ts).
 */
import type { Backend, MigrationConnection, RunLock, ScriptRun } from './connection.js';
import { ControlledSchemaError, DatabaseAlreadyControlledError } from './errors.js';
import type { PlannedStep } from './repository.js';
import type { DialectName } from './script/contract.js';
import type { Interrupted, StepJournal, StepRecord, Storage, VersionState, VersionStore } from './storage.js';

export interface LogRow extends StepRecord {
  id: number;
  repositoryId: string;
  status: string;
  runId: string;
  error: string | null;
}

/** The "database": shared by every connection of the MemoryBackends made on it. */
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
    return new MemoryConnection(this.db, this.o, `run-${++this.runs}-${Math.random()}`);
  }
}

function versionStore(db: MemoryDb, id: string): VersionStore & { bump(from: number, to: number): void } {
  const read = (): VersionState => (!db.versionTable ? 'no-table' : (db.rows.get(id) ?? 'no-row'));
  return {
    read: async () => read(),
    insert: async (_path, v) => {
      if (typeof read() === 'number') throw new DatabaseAlreadyControlledError(`already under version control (at ${String(read())})`);
      db.versionTable = true;
      db.rows.set(id, v);
    },
    drop: async () => {
      db.rows.delete(id);
      if (db.rows.size === 0) db.versionTable = false;
      return { droppedTable: !db.versionTable };
    },
    repositories: async () => [...db.rows.keys()],
    bump: (from, to) => {
      if (read() !== from) throw new ControlledSchemaError(`the version changed under this run: expected ${from} before setting ${to}`);
      db.rows.set(id, to);
    },
  };
}

function journal(db: MemoryDb, id: string, runId: string, transactional: boolean, version: ReturnType<typeof versionStore>): StepJournal {
  const ours = () => db.log.filter((r) => r.repositoryId === id);
  const mine = (s: StepRecord) => ours().find((r) => r.runId === runId && r.status === 'running' && r.from === s.from && r.to === s.to);
  const record = (s: StepRecord, status: string, error?: string) =>
    void db.log.push({ from: s.from, to: s.to, direction: s.direction, script: s.script, id: db.log.length + 1, repositoryId: id, status, runId, error: error ?? null });
  const unfinished = (): Interrupted | null => {
    if (transactional) return null;
    const r = ours().at(-1);
    if (!r || r.status === 'done') return null;
    return { from: r.from, to: r.to, direction: r.direction, script: r.script, status: r.status, error: r.error, startedAt: '', host: 'memory', pid: 0 };
  };
  return {
    resume: async () => {
      const last = unfinished();
      if (last?.status === 'running') ours().filter((x) => x.status === 'running').forEach((x) => (x.status = 'abandoned'));
      return last;
    },
    unfinished: async () => unfinished(),
    running: async () => {
      const r = ours().findLast((x) => x.status === 'running');
      return r ? { host: 'memory', pid: 0, script: r.script } : undefined;
    },
    start: async (s) => {
      if (!transactional) record(s, 'running');
    },
    done: async (s) => {
      if (transactional) {
        version.bump(s.from, s.to);
        return record(s, 'done');
      }
      const r = mine(s);
      if (!r) throw new ControlledSchemaError(`no running log row of this run for ${s.from} -> ${s.to}`);
      version.bump(s.from, s.to);
      r.status = 'done';
    },
    failed: async (s, error) => {
      if (transactional) return record(s, 'failed', error);
      const r = mine(s);
      if (r) Object.assign(r, { status: 'failed', error });
    },
  };
}

class MemoryConnection implements MigrationConnection {
  readonly dialect: DialectName;
  readonly transactionalDdl: boolean;
  readonly sessionLock: boolean;
  readonly storage: Storage;
  readonly lock: RunLock;
  readonly inspect = { tables: async () => [...this.db.tables, ...(this.db.versionTable ? ['migrate_version'] : [])] };
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
    const version = versionStore(db, id);
    this.storage = { version, journal: journal(db, id, runId, this.transactionalDdl, version) };
    this.lock = {
      tryLock: async (waitMs) => {
        const deadline = Date.now() + waitMs;
        for (;;) {
          if (!this.sessionLock || db.holder === null || db.holder === this) {
            if (this.sessionLock) db.holder = this;
            return true;
          }
          if (Date.now() >= deadline) return false;
          await sleep(5);
        }
      },
      unlock: async () => {
        if (o.failUnlock) throw new Error('unlock failed (test)');
        const held = db.holder === this;
        if (held) db.holder = null;
        return held || !this.sessionLock;
      },
      holder: async () => (db.holder ? { text: 'another memory connection', fields: {} } : undefined),
      assertHeld: () => undefined,
    };
  }

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
  async runScript(step: PlannedStep, run: ScriptRun) {
    await this.o.scripts?.(step, this.db, run.resumed, run.onProgress);
  }
  async close() {
    if (this.db.holder === this) this.db.holder = null; // a closed session releases its lock
  }
}
