/**
 * The conformance suite every dialect adapter passes (golang-migrate's database/testing is the
 * model), on the real MariaDB, PostgreSQL and SQLite (SQLite always runs): the lock primitives,
 * the transactional-DDL flag, the bookkeeping tables (migrate_version compare-and-set, migrate_log),
 * and error classification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, ControlledSchemaError, DatabaseAlreadyControlledError, LockTimeoutError } from '../../migrate/errors.js';
import { DEFAULT_LOCK_OPTIONS, type LockOptions } from '../../migrate/dialect/adapter.js';
import type { Logger } from '../../migrate/script/contract.js';
import { openSession, type Session } from '../../migrate/session.js';
import { LOG_TABLE, StepLog } from '../../migrate/step-log.js';
import { VersionTable } from '../../migrate/version-table.js';
import { forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';

const silent: Logger = { info() {}, warn() {}, debug() {}, error() {} } as Logger;
const REF = { table: 'migrate_version', repositoryId: 'conformance' };

async function sessions<T>(db: TestDatabase, n: number, fn: (s: Session[]) => Promise<T>): Promise<T> {
  const s = await Promise.all(Array.from({ length: n }, () => openSession(db.url, { busyTimeoutMs: 200 })));
  try {
    return await fn(s);
  } finally {
    await Promise.all(s.map((x) => x.close()));
  }
}

const lockOptions = (db: TestDatabase): LockOptions => ({ ...DEFAULT_LOCK_OPTIONS, logger: silent, openAux: () => openSession(db.url) });

await forEachDialect('adapter conformance', (dialect) => {
  test('lock: tryLock says whether it was taken; a second session waits at most its bound; unlock says whether it was held', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 2, async ([a, b]) => {
        const o = lockOptions(db);
        await a!.adapter.prepare(a!);
        await b!.adapter.prepare(b!);
        assert.equal(await a!.adapter.tryLock(a!, 'k', 0, o), true, 'a free lock is taken');
        if (!a!.adapter.sessionLock) {
          assert.equal(await b!.adapter.tryLock(b!, 'k', 0, o), true, 'no session lock: every caller proceeds (steps serialise on BEGIN IMMEDIATE)');
          return;
        }
        assert.equal(await b!.adapter.tryLock(b!, 'k', 0, o), false, 'a held lock is not taken');
        const t0 = performance.now();
        assert.equal(await b!.adapter.tryLock(b!, 'k', 1000, o), false, 'nor within a bounded wait');
        const waited = performance.now() - t0;
        assert.ok(waited >= 900 && waited < 5000, `the wait is bounded (${Math.round(waited)} ms for 1000 ms)`);
        const holder = await b!.adapter.lockHolder(b!, 'k');
        assert.ok(holder && holder.text.length > 0, 'the holder can be named for the waiting line');
        assert.equal(await b!.adapter.tryLock(b!, 'other-key', 0, o), true, 'another key is another lock');
        assert.equal(await a!.adapter.unlock(a!, 'k'), true, 'unlock: it was held');
        assert.equal(await b!.adapter.tryLock(b!, 'k', 0, o), true, 'released: the other session takes it');
        assert.equal(await a!.adapter.unlock(a!, 'k'), false, 'unlock of a lock not held says so');
      }),
    ));

  test('transactionalDdl: a CREATE TABLE rolled back is gone exactly where DDL is transactional', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 1, async ([s]) => {
        const a = s!.adapter;
        await s!.query(a.beginSql);
        await s!.query('CREATE TABLE conf_t (id INTEGER)');
        await s!.query('ROLLBACK');
        assert.equal(await a.tableExists(s!, 'conf_t'), !a.transactionalDdl);
      }),
    ));

  test('migrate_version: create + insert, read, compare-and-set bump, drop', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 1, async ([s]) => {
        const v = new VersionTable(s!, s!.adapter, REF);
        assert.equal(await v.read(), 'no-table');
        assert.equal(await v.read(true), 'no-table');
        await v.insert('/repo', 5);
        assert.equal(await v.read(), 5);
        await assert.rejects(v.insert('/repo', 5), DatabaseAlreadyControlledError);
        await v.bump(5, 6);
        assert.equal(await v.read(), 6);
        await assert.rejects(v.bump(5, 7), ControlledSchemaError, 'a bump from a version the row is not at changes nothing');
        assert.equal(await v.read(), 6);
        assert.deepEqual(await v.repositories(), ['conformance']);
        assert.deepEqual(await v.drop(), { droppedTable: true });
        assert.equal(await s!.adapter.tableExists(s!, 'migrate_version'), false);
      }),
    ));

  test('migrate_log: rows per attempt; interrupted; bump + mark done together; only migrate_* tables added', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 1, async ([s]) => {
        const v = new VersionTable(s!, s!.adapter, REF);
        const log = new StepLog(s!, s!.adapter, v);
        await v.insert('/repo', 0);
        await log.ensure();
        await log.ensure(); // idempotent
        const rec = { from: 0, to: 1, direction: 'upgrade' as const, script: 'versions/001_x.ts' };
        await log.record(rec, 'running');
        assert.equal((await log.interrupted())?.status, 'running');
        assert.equal((await log.running())?.script, 'versions/001_x.ts');
        await log.bumpMarkingDone(rec);
        assert.equal(await v.read(), 1);
        assert.equal(await log.interrupted(), null, 'the attempt is done');
        await assert.rejects(log.bumpMarkingDone({ ...rec, from: 1, to: 2 }), ControlledSchemaError, 'no running row: nothing changes');
        assert.equal(await v.read(), 1);
        const tables = (await s!.adapter.listTables(s!)).sort();
        assert.deepEqual(tables, [LOG_TABLE, 'migrate_version'], 'nothing but migrate_* tables (SQLite: no sqlite_sequence)');
        if (dialect === 'sqlite') assert.deepEqual(await s!.query("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"), []);
      }),
    ));

  test('errors: a missing table is classified; a wrong database or port is a ConnectionError that says what to do', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 1, async ([s]) => {
        const e = await s!.query('SELECT * FROM conf_missing').then(() => null, (x: unknown) => x);
        assert.equal(s!.adapter.classify(e), 'missing-table', String(e));
        assert.match(String((e as Error).message), /\[SQL: SELECT \* FROM conf_missing\]/);
        const bad =
          dialect === 'sqlite' ? 'sqlite:////nonexistent-dir/x/y.db' : db.url.replace(/\/[^/]+$/, '/conf_no_such_db');
        const ce = await openSession(bad).then(() => null, (x: unknown) => x);
        assert.ok(ce instanceof ConnectionError, String(ce));
        assert.equal(ce.retryable, false);
        assert.match(ce.message, dialect === 'sqlite' ? /check the path/ : /create the database first/);
        if (dialect !== 'sqlite') {
          const port = db.url.replace(/:\d+\//, ':1/');
          const re = await openSession(port).then(() => null, (x: unknown) => x);
          assert.ok(re instanceof ConnectionError && re.retryable, `a refused connection is retryable: ${String(re)}`);
        }
      }),
    ));

  if (dialect === 'sqlite') {
    test('errors: SQLite busy past the busy timeout is a LockTimeoutError; the URL timeout parameter sets it', async (t) =>
      withTestDatabase(t, dialect, async (db) => {
        const holder = await openSession(db.url);
        const waiter = await openSession(`${db.url}?timeout=0.3`, { busyTimeoutMs: 60_000 });
        try {
          await holder.query('BEGIN IMMEDIATE');
          const t0 = performance.now();
          await assert.rejects(waiter.query('BEGIN IMMEDIATE'), LockTimeoutError);
          const ms = performance.now() - t0;
          assert.ok(ms >= 250 && ms < 5000, `waited the URL's timeout (0.3 s), not the 60 s lock timeout: ${Math.round(ms)} ms`);
        } finally {
          await holder.query('ROLLBACK').catch(() => undefined);
          await holder.close();
          await waiter.close();
        }
      }));
  }
});
