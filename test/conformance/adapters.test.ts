/**
 * The conformance suite every dialect adapter passes (golang-migrate's database/testing is the
 * model), on the real MariaDB, PostgreSQL and SQLite (SQLite always runs): the lock primitives
 * (on MariaDB also in row mode, the Galera lock of row-lock.ts: taken or not, bounded wait, lease
 * takeover, unlock result), the transactional-DDL flag, the bookkeeping tables (migrate_version
 * compare-and-set, migrate_log), error classification, and what the run guard uses (issue 9): the
 * session id, the per-session lock-wait bound, the blocker probe and cancel.
 *
 * Each method of DialectAdapter (migrate/dialect/adapter.ts) is exercised here; the CLI-level
 * behaviour built on them (exit codes, log lines, messages) is tested in test/e2e.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, ControlledSchemaError, LockTimeoutError } from '../../migrate/errors.js';
import { createAdapter } from '../../migrate/dialect/factory.js';
import type { LockHolder, LockOptions } from '../../migrate/dialect/contract.js';
import { DEFAULT_LOCK_LEASE_S } from '../../migrate/defaults.js';
import type { Logger } from '../../migrate/script/contract.js';
import { openSession, type Session } from '../../migrate/session.js';
import { LOG_TABLE, StepLog } from '../../migrate/step-log.js';
import { VersionTable } from '../../migrate/version-table.js';
import { describeBlocker } from '../../migrate/guard.js';
import type { LockWait } from '../../migrate/dialect/probe.js';
import { tableNames, versionRows } from '../support/cli.js';
import { createTestDatabase, forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';
import { PYTHON_DDL, describeTable } from '../support/version-table.js';
import { STORAGE_EXPECTATIONS } from '../support/storage-expectations.js';

const silent: Logger = { info() {}, warn() {}, debug() {}, error() {} } as Logger;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The tests that wait for another session fail instead of hanging when a bound does not hold. */
const WAIT_BOUND = { timeout: 60_000 };

/** A logger that keeps its warnings (to assert on what an adapter said). */
function recording(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const warn = (a: unknown, b?: unknown) => void warnings.push(String(typeof a === 'string' ? a : b));
  return { ...silent, warn, warnings } as Logger & { warnings: string[] };
}
const REF = { table: 'migrate_version', repositoryId: 'conformance' };

async function sessions<T>(db: TestDatabase, n: number, fn: (s: Session[]) => Promise<T>): Promise<T> {
  const s = await Promise.all(Array.from({ length: n }, () => openSession(db.url, { busyTimeoutMs: 200 })));
  try {
    return await fn(s);
  } finally {
    await Promise.all(s.map((x) => x.close()));
  }
}

const lockOptions = (db: TestDatabase): LockOptions => ({ mode: 'auto', leaseS: DEFAULT_LOCK_LEASE_S, logger: silent, openAux: () => openSession(db.url) });

/**
 * The lock contract once `a` holds 'k': `b` does not get it, not even within a bounded wait; the
 * holder can be named; `other` takes another key; unlock says whether it was held. Returns the holder.
 */
async function heldLockContract(a: Session, b: Session, other: Session, o: LockOptions): Promise<LockHolder> {
  assert.equal(await b.adapter.tryLock(b, 'k', 0, o), false, 'a held lock is not taken');
  const t0 = performance.now();
  assert.equal(await b.adapter.tryLock(b, 'k', 1000, o), false, 'nor within a bounded wait');
  const waited = performance.now() - t0;
  assert.ok(waited >= 900 && waited < 5000, `the wait is bounded (${Math.round(waited)} ms for 1000 ms)`);
  const holder = await b.adapter.lockHolder(b, 'k');
  assert.ok(holder && holder.text.length > 0, 'the holder can be named for the waiting line');
  assert.equal(await other.adapter.tryLock(other, 'other-key', 0, o), true, 'another key is another lock');
  assert.equal(await a.adapter.unlock(a, 'k'), true, 'unlock: it was held');
  assert.equal(await b.adapter.tryLock(b, 'k', 0, o), true, 'released: the other session takes it');
  assert.equal(await a.adapter.unlock(a, 'k'), false, 'unlock of a lock not held says so');
  return holder;
}

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
        await heldLockContract(a!, b!, b!, o);
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

  for (const c of STORAGE_EXPECTATIONS) {
    // The same cases as the in-memory storage (test/unit/storage-memory.test.ts).
    test(`storage: ${c.name}`, async (t) =>
      withTestDatabase(t, dialect, async (db) => {
        const opened: Session[] = [];
        try {
          await c.run({
            transactional: (await createAdapter(dialect)).transactionalDdl,
            open: async (repositoryId = 'expect') => {
              const s = await openSession(db.url, { busyTimeoutMs: 2000 });
              opened.push(s);
              const version = new VersionTable(s, s.adapter, { table: 'migrate_version', repositoryId });
              return { version, journal: new StepLog(s, s.adapter, version) };
            },
          });
        } finally {
          for (const s of opened) await s.close();
        }
      }));
  }

  for (const table of ['migrate_version', 'custom_versions']) {
    // Moved from test/integration/migrate-version-table.test.ts (the table is created by the storage here, not through api.versionControl).
    test(`migrate_version: our ${table} is created exactly as the Python tool does`, async (t) =>
      withTestDatabase(t, dialect, async (ours) => {
        const d = dialect;
        const theirs = await createTestDatabase(d);
        try {
          const repo = '/srv/repo';
          await sessions(ours, 1, ([s]) => new VersionTable(s!, s!.adapter, { table, repositoryId: 'sample' }).insert(repo, 0));
          await theirs.query(PYTHON_DDL[d](table));
          const a = await describeTable(ours, table);
          const b = await describeTable(theirs, table);
          assert.deepEqual(a, b);
          if (d === 'sqlite') assert.equal(a, PYTHON_DDL.sqlite(table));
          if (d === 'mysql') {
            assert.match(String(a), /^CREATE TABLE `\w+` \(\n {2}`repository_id` varchar\(250\) NOT NULL,\n {2}`repository_path` text DEFAULT NULL,\n {2}`version` int\(11\) DEFAULT NULL,\n {2}PRIMARY KEY \(`repository_id`\)\n\) ENGINE=InnoDB/);
          }
          // Creating it added nothing but the version table.
          assert.deepEqual(await tableNames(ours), [table]);
          assert.deepEqual(await versionRows(ours, table), [['sample', repo, 0]]);
        } finally {
          await theirs.drop();
        }
      }));
  }

  test('the storage adds nothing but migrate_* tables (SQLite: no sqlite_sequence); a bump from a version the row is not at changes nothing', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 1, async ([s]) => {
        const v = new VersionTable(s!, s!.adapter, REF);
        const journal = new StepLog(s!, s!.adapter, v);
        await v.insert('/repo', 5);
        await journal.resume();
        await journal.resume(); // idempotent
        await v.bump(5, 6);
        assert.equal(await v.read(), 6);
        await assert.rejects(v.bump(5, 7), ControlledSchemaError);
        assert.equal(await v.read(), 6);
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

  if (dialect === 'mysql') {
    test('lock, row mode (the Galera lock, a leased row in migrate_lock) on plain MariaDB: taken or not, bounded wait, holder named, unlock says whether it was held', WAIT_BOUND, async (t) =>
      withTestDatabase(t, dialect, (db) =>
        sessions(db, 3, async ([a, b, c]) => {
          const o: LockOptions = { ...lockOptions(db), mode: 'row' };
          for (const s of [a!, b!, c!]) await s.adapter.prepare(s);
          try {
            assert.equal(await a!.adapter.tryLock(a!, 'k', 0, o), true, 'a free lock is taken');
            const rows = await c!.query('SELECT lock_key, pid FROM migrate_lock');
            assert.deepEqual(rows.map((r) => [r.lock_key, Number(r.pid)]), [['k', process.pid]], 'the lock is a row of migrate_lock');
            // One run lock per connection (the adapter keeps its row lock): another key on another connection (c).
            const holder = await heldLockContract(a!, b!, c!, o);
            assert.match(holder.text, new RegExp(`pid ${process.pid} \\(cluster row lock\\)`), 'the holder is named: host, pid, cluster row lock');
          } finally {
            for (const s of [a!, b!, c!]) await s.adapter.unlock(s, 'k').catch(() => undefined);
          }
        }),
      ));

    test('lock, row mode: a holder that stops renewing its lease loses the lock; a waiter takes it over after the lease; the old holder knows', WAIT_BOUND, async (t) =>
      withTestDatabase(t, dialect, (db) =>
        sessions(db, 2, async ([a, b]) => {
          let heartbeatA: Session | undefined;
          const oa: LockOptions = { ...lockOptions(db), mode: 'row', leaseS: 1, openAux: async () => (heartbeatA = await openSession(db.url)) };
          const log = recording();
          const ob: LockOptions = { ...lockOptions(db), mode: 'row', leaseS: 1, logger: log };
          try {
            assert.equal(await a!.adapter.tryLock(a!, 'k', 0, oa), true, 'a free lock is taken');
            await sleep(1500);
            assert.equal(await b!.adapter.tryLock(b!, 'k', 0, ob), false, 'a lease renewed by its heartbeat is not taken over');
            a!.adapter.assertLocked();
            await heartbeatA!.close(); // the holder stops renewing, as if it had died
            const t0 = performance.now();
            assert.equal(await b!.adapter.tryLock(b!, 'k', 10_000, ob), true, 'taken over once the lease expired');
            const ms = performance.now() - t0;
            assert.ok(ms < 5000, `within about the lease (${Math.round(ms)} ms for a 1 s lease)`);
            assert.ok(log.warnings.some((w) => /took over the migration lock k/.test(w)), `the takeover is logged: ${log.warnings.join(' | ')}`);
            const until = Date.now() + 3000; // the old holder's next heartbeat finds the lease gone
            while (Date.now() < until && (() => { try { a!.adapter.assertLocked(); return true; } catch { return false; } })()) await sleep(100);
            assert.throws(() => a!.adapter.assertLocked(), /lost the migration lock k/);
            assert.equal(await a!.adapter.unlock(a!, 'k'), false, "the old holder's unlock says it no longer held it");
            assert.equal(await b!.adapter.unlock(b!, 'k'), true, 'the new holder releases it');
          } finally {
            for (const s of [a!, b!]) await s.adapter.unlock(s, 'k').catch(() => undefined);
          }
        }),
      ));
    test('lock, row mode: of two takers at once on one server, exactly one gets in (10 rounds; test/galera runs the same across nodes)', WAIT_BOUND, async (t) =>
      withTestDatabase(t, dialect, async (db) => {
        for (let round = 0; round < 10; round++) {
          await sessions(db, 2, async ([a, b]) => {
            const key = `probe:${round}`;
            const o: LockOptions = { ...lockOptions(db), mode: 'row', leaseS: 30 };
            const res = await Promise.allSettled([a!.adapter.tryLock(a!, key, 700, o), b!.adapter.tryLock(b!, key, 700, o)]);
            const failed = res.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
            assert.deepEqual(failed.map((f) => String(f.reason)), [], `round ${round}: neither taker fails`);
            const taken = res.map((r) => r.status === 'fulfilled' && r.value);
            assert.equal(taken.filter(Boolean).length, 1, `round ${round}: exactly one taker holds the lock (${taken.join(', ')})`);
            const w = taken[0] ? a! : b!;
            assert.equal(await w.adapter.unlock(w, key), true, `round ${round}: the winner releases its own row`);
          });
        }
      }));
  }

  test('sessionId: each connection has its own id, the one other sessions see; SQLite has none and no guard probe', async (t) =>
    withTestDatabase(t, dialect, (db) =>
      sessions(db, 2, async ([a, b]) => {
        const ia = await a!.adapter.sessionId(a!);
        const ib = await b!.adapter.sessionId(b!);
        if (dialect === 'sqlite') {
          assert.equal(ia, undefined);
          assert.equal(a!.adapter.guard, undefined);
          await a!.adapter.setLockWaitTimeout(a!, 1000); // nothing to bound there: accepted, does nothing
          return;
        }
        assert.ok(Number.isInteger(ia) && ia! > 0, `an id: ${ia}`);
        assert.notEqual(ia, ib);
        const seen =
          dialect === 'mysql'
            ? await b!.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID = ?', [ia])
            : await b!.query('SELECT pid AS id FROM pg_stat_activity WHERE pid = ?', [ia]);
        assert.deepEqual(seen.map((r) => Number(r.id)), [ia], 'another session sees it');
        assert.ok(a!.adapter.guard, 'a backend with session ids has a guard probe');
      }),
    ));

  if (dialect !== 'sqlite') {
    /** `holder` opens a transaction that read `table`; returns its session id. */
    const holdTable = async (holder: Session, table: string): Promise<number> => {
      const id = (await holder.adapter.sessionId(holder))!;
      await holder.query(`CREATE TABLE ${table} (id INTEGER)`);
      await holder.query(holder.adapter.beginSql);
      await holder.query(`SELECT * FROM ${table}`);
      return id;
    };

    test('setLockWaitTimeout: a DDL waiting for a table lock another session holds gives up after about the bound, classified lock-wait-timeout', WAIT_BOUND, async (t) =>
      withTestDatabase(t, dialect, (db) =>
        sessions(db, 2, async ([holder, waiter]) => {
          await holdTable(holder!, 'conf_l');
          await waiter!.adapter.setLockWaitTimeout(waiter!, 1000);
          const t0 = performance.now();
          const e = await waiter!.query('ALTER TABLE conf_l ADD COLUMN x INTEGER').then(() => null, (x: unknown) => x);
          const ms = performance.now() - t0;
          await holder!.query('ROLLBACK');
          assert.ok(e, 'the DDL did not get past the lock');
          assert.equal(waiter!.adapter.classify(e), 'lock-wait-timeout', String(e));
          assert.ok(ms >= 900 && ms < 5000, `gave up after about the bound (${Math.round(ms)} ms for 1000 ms)`);
        }),
      ));

    test('guard probe: names the session a waiting DDL waits for (id, user, what it ran); cancel ends the statement from another session within seconds, classified cancelled', WAIT_BOUND, async (t) =>
      withTestDatabase(t, dialect, (db) =>
        sessions(db, 3, async ([holder, waiter, aux]) => {
          const probe = waiter!.adapter.guard!;
          const holderId = await holdTable(holder!, 'conf_b');
          const waiterId = (await waiter!.adapter.sessionId(waiter!))!;
          assert.equal(await probe.lockWait(aux!, waiterId), undefined, 'not waiting: nothing to report');
          await waiter!.adapter.setLockWaitTimeout(waiter!, 30_000);
          const ddl = waiter!.query('ALTER TABLE conf_b ADD COLUMN x INTEGER').then(() => null, (x: unknown) => x);
          try {
            let w: LockWait | undefined;
            for (const until = Date.now() + 5000; Date.now() < until && !w?.blockers.length; await sleep(100)) w = await probe.lockWait(aux!, waiterId);
            assert.ok(w, 'the probe sees the DDL waiting');
            assert.match(w.what, /conf_b/);
            assert.deepEqual(w.blockers.map((b) => b.id), [holderId], 'names the blocking session');
            const text = describeBlocker(probe.blockerNoun, w.blockers[0]!);
            assert.match(text, new RegExp(`^${probe.blockerNoun} ${holderId} \\((root|postgres)\\b.*idle in transaction`), text);
            if (dialect === 'postgresql') assert.match(text, /last: SELECT \* FROM conf_b/, text);
            assert.match(probe.killCommand?.(holderId) ?? '', new RegExp(`\\b${holderId}\\b`));
            const t0 = performance.now();
            await probe.cancel(aux!, waiterId);
            const e = await ddl;
            const ms = performance.now() - t0;
            assert.ok(e, 'the DDL was cancelled, not run');
            assert.equal(waiter!.adapter.classify(e), 'cancelled', String(e));
            assert.ok(ms < 3000, `cancelled within seconds (${Math.round(ms)} ms)`);
            assert.deepEqual(await waiter!.query('SELECT 1 AS one').then((r) => r.map((x) => Number(x.one))), [1], 'the connection stays usable');
          } finally {
            await holder!.query('ROLLBACK');
            await ddl;
          }
        }),
      ));
  }

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
