/**
 * The expectations every storage (migrate/storage.ts) meets, as one suite: the in-memory storage
 * (test/unit/storage-memory.test.ts) and the SQL storage on every real backend
 * (test/conformance/adapters.test.ts) run these same cases, so that the Migrator's tests on the
 * fake say something about the real thing.
 */
import assert from 'node:assert/strict';
import { ControlledSchemaError, DatabaseAlreadyControlledError } from '../../migrate/errors.js';
import type { StepRecord, Storage } from '../../migrate/storage.js';

/** What a case is given: storages on one database, each a new "run" (a new connection / journal). */
export interface StorageUnderTest {
  /** DDL is transactional: the caller holds a step's transaction; nothing is left to resume. */
  readonly transactional: boolean;
  /** A new run's storage for `repositoryId` (default 'expect'), on the same database. */
  open(repositoryId?: string): Promise<Storage>;
}

export interface StorageCase {
  readonly name: string;
  run(sut: StorageUnderTest): Promise<void>;
}

const step = (from: number, to: number): StepRecord => ({ from, to, direction: from < to ? 'upgrade' : 'downgrade', script: `versions/00${Math.max(from, to)}_x.js` });

export const STORAGE_EXPECTATIONS: readonly StorageCase[] = [
  {
    name: 'version: a missing table and a missing row are states, not errors; rows are per repository',
    async run(sut) {
      const a = await sut.open('a');
      const b = await sut.open('b');
      assert.equal(await a.version.read(), 'no-table');
      assert.equal(await a.version.read(true), 'no-table');
      await a.version.insert('/repo', 5);
      assert.equal(await a.version.read(), 5);
      assert.equal(await b.version.read(), 'no-row');
      assert.equal(await b.version.read(true), 'no-row');
      assert.deepEqual(await b.version.repositories(), ['a']);
    },
  },
  {
    name: 'version: insert twice is DatabaseAlreadyControlledError; drop removes the row, and the table with the last row',
    async run(sut) {
      const a = await sut.open('a');
      const b = await sut.open('b');
      await a.version.insert('/repo', 5);
      await b.version.insert('/repo', 1);
      await assert.rejects(a.version.insert('/repo', 5), DatabaseAlreadyControlledError);
      assert.equal(await a.version.read(), 5, 'unchanged');
      assert.deepEqual(await a.version.drop(), { droppedTable: false });
      assert.equal(await a.version.read(), 'no-row');
      assert.deepEqual(await b.version.drop(), { droppedTable: true });
      assert.equal(await b.version.read(), 'no-table');
    },
  },
  {
    name: 'journal: start then done bumps the version; a done step leaves nothing to resume',
    async run(sut) {
      const s = await sut.open();
      await s.version.insert('/repo', 0);
      assert.equal(await s.journal.resume(), null, 'a fresh journal has nothing to resume');
      await s.journal.start(step(0, 1));
      assert.equal((await s.journal.running())?.script, sut.transactional ? undefined : 'versions/001_x.js', 'a running step is visible where it commits before its script');
      await s.journal.done(step(0, 1));
      assert.equal(await s.version.read(), 1);
      assert.equal(await s.journal.running(), undefined);
      assert.equal(await (await sut.open()).journal.resume(), null);
    },
  },
  {
    name: 'journal: done is a compare-and-set: from a version the row is not at, ControlledSchemaError and nothing changes',
    async run(sut) {
      const s = await sut.open();
      await s.version.insert('/repo', 3);
      await s.journal.resume();
      await s.journal.start(step(2, 3));
      await assert.rejects(s.journal.done(step(2, 3)), ControlledSchemaError);
      assert.equal(await s.version.read(), 3);
    },
  },
  {
    name: 'journal: a failed step is found by the next run where DDL is not transactional (rolled back otherwise)',
    async run(sut) {
      const s = await sut.open();
      await s.version.insert('/repo', 1);
      await s.journal.resume();
      await s.journal.start(step(1, 2));
      await s.journal.failed(step(1, 2), 'boom');
      assert.equal(await s.version.read(), 1, 'a failed step does not move the version');
      const next = await (await sut.open()).journal.resume();
      if (sut.transactional) return assert.equal(next, null);
      assert.deepEqual(next && [next.from, next.to, next.direction, next.script, next.status, next.error], [1, 2, 'upgrade', 'versions/002_x.js', 'failed', 'boom']);
    },
  },
  {
    name: 'journal: a step left running by a dead run is found by the next run, which marks it abandoned and retries it',
    async run(sut) {
      if (sut.transactional) return; // a dead run's transaction is rolled back: nothing is left running
      const dead = await sut.open();
      await dead.version.insert('/repo', 1);
      await dead.journal.resume();
      await dead.journal.start(step(1, 2));
      const next = await sut.open();
      const found = await next.journal.resume();
      assert.deepEqual(found && [found.from, found.to, found.status], [1, 2, 'running']);
      assert.ok(found && typeof found.startedAt === 'string' && typeof found.pid === 'number' && typeof found.host === 'string');
      assert.equal(await next.journal.running(), undefined, 'no longer running: abandoned');
      assert.equal((await (await sut.open()).journal.resume())?.status, 'abandoned', 'still to retry until a run finishes it');
      await next.journal.start(step(1, 2));
      await next.journal.done(step(1, 2));
      assert.equal(await next.version.read(), 2);
      assert.equal(await (await sut.open()).journal.resume(), null);
    },
  },
  {
    name: "journal: one repository's attempts are not another's",
    async run(sut) {
      const a = await sut.open('a');
      await a.version.insert('/repo', 1);
      await a.journal.resume();
      await a.journal.start(step(1, 2));
      await a.journal.failed(step(1, 2), 'boom');
      const b = await sut.open('b');
      assert.equal(await b.journal.resume(), null);
      assert.equal(await b.journal.running(), undefined);
    },
  },
];
