/**
 * Fault matrix, part 5: another session holds a lock the migration needs (issue 9). A database at
 * 44; a "heat-engine" session has an open transaction that read `stack` (so 045's ALTER TABLE
 * stack waits for the table's metadata lock / AccessExclusiveLock), or holds heat's
 * migrate_version row (so the version bump waits for a row lock).
 *
 * With `[database] lock_wait_timeout = 4` each case asserts: while waiting, a log line every few
 * seconds naming the blocker (its connection id / backend pid, user, how long its transaction has
 * been open); after ~4 s exit 1 with one ERROR line saying what blocks and what to do; nothing of
 * ours left waiting on the server; the step left as a failed step does (MariaDB: resumable,
 * PostgreSQL/SQLite: rolled back); once the blocker ends, the next db_sync converges exactly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MYSQL_SERVER, PG_SERVER, createTestDatabase, serverQuery, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { describeRun, exactlyOnceProblems, logLines, runHeat, startHeat, stepLog } from '../support/heat-cli.js';
import { assertConverged, assertOk, errorLine, heatVersion } from '../support/faults.js';

const TIMEOUT = 180_000;
const WAIT_S = 4;
const ENV = { OS_DATABASE__LOCK_WAIT_TIMEOUT: String(WAIT_S) };

interface Holder {
  /** Its connection id (MariaDB) or backend pid (PostgreSQL). */
  readonly id: number;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

async function holderOn(db: TestDatabase): Promise<Holder> {
  if (db.dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const u = new URL(MYSQL_SERVER.replace(/^mysql(\+\w+)?:/, 'http:'));
    const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password), database: db.name });
    const [[row]] = (await c.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
    return { id: Number(row.id), query: (sql) => c.query(sql), end: () => c.end() };
  }
  const pg = (await import('pg')).default;
  const u = new URL(PG_SERVER.replace(/^postgres(ql)?(\+\w+)?:/, 'http:'));
  const c = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password), database: db.name });
  await c.connect();
  const { rows } = await c.query('SELECT pg_backend_pid() AS id');
  return { id: Number(rows[0].id), query: (sql) => c.query(sql), end: () => c.end() };
}

/** Statements of ours still waiting on the server (anything but the holder). */
async function ourWaiting(db: TestDatabase, holder: Holder): Promise<unknown[]> {
  if (db.dialect === 'mysql') {
    return serverQuery('mysql', "SELECT ID, STATE, INFO FROM information_schema.PROCESSLIST WHERE DB = ? AND ID NOT IN (?, CONNECTION_ID()) AND COMMAND <> 'Sleep'", [db.name, holder.id]);
  }
  return serverQuery('postgresql', "SELECT pid, state, query FROM pg_stat_activity WHERE datname = ? AND pid NOT IN (?, pg_backend_pid()) AND state <> 'idle'", [db.name, holder.id]);
}

async function dbAt44(dialect: 'mysql' | 'postgresql'): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  assertOk(await runHeat(['db_sync', '44'], { url: db.url }));
  return db;
}

/**
 * The common shape: holder set up by `hold`, db_sync with lock_wait_timeout = 4 s, then the checks.
 * Returns the ERROR line.
 */
async function blockedRun(db: TestDatabase, hold: string[], expectAt: number, what: RegExp): Promise<string> {
  const holder = await holderOn(db);
  try {
    for (const sql of hold) await holder.query(sql);
    await new Promise((r) => setTimeout(r, 1100)); // the transaction has been open for a second
    const p = startHeat(['db_sync'], { url: db.url, env: ENV });
    const r = await p.done;
    const line = errorLine(r, what);
    assert.match(line, new RegExp(`${db.dialect === 'mysql' ? 'connection' : 'backend pid'} ${holder.id}\\b`), 'names the blocker');
    assert.match(line, /waited \d+ s/);
    assert.ok(r.ms < (WAIT_S + 15) * 1000, `bounded: ${Math.round(r.ms)} ms`);
    const waits = logLines(r.stderr).filter((l) => /waiting .*lock/i.test(l.msg) && l.msg.includes(String(holder.id)));
    assert.ok(waits.length >= 1, `logged the wait naming the blocker\n${describeRun(r)}`);
    assert.match(waits[0]!.msg, /transaction open for \d+ s/);
    assert.deepEqual(await ourWaiting(db, holder), [], 'nothing of ours left waiting on the server');
    assert.equal(await heatVersion(db), expectAt, 'the step was not applied');
    return line;
  } finally {
    await holder.end().catch(() => undefined);
  }
}

async function convergesAfter(db: TestDatabase): Promise<void> {
  assertOk(await runHeat(['db_sync'], { url: db.url }));
  await assertConverged(db);
  assert.deepEqual(exactlyOnceProblems(await stepLog(db.query)), []);
}

describe('fault matrix: locks held by another session', { concurrency: 4, timeout: TIMEOUT }, () => {
  test("L1 MariaDB: 045's ALTER TABLE stack waits for the metadata lock of an open transaction: bounded, logged, one line naming the blocker; resumable", async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt44('mysql');
    try {
      await blockedRun(db, ['BEGIN', 'SELECT COUNT(*) FROM stack'], 44, /the metadata lock of table stack/);
      const [failed] = await db.query("SELECT status FROM migrate_log WHERE version_to = 45 ORDER BY id DESC LIMIT 1");
      assert.equal(failed?.status, 'failed', 'MariaDB: the step is a failed, resumable step');
      await convergesAfter(db);
    } finally {
      await db.drop();
    }
  });

  test('L2 MariaDB: the version bump waits for a row lock on migrate_version (SELECT ... FOR UPDATE in an open transaction): bounded, names the blocker', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt44('mysql');
    try {
      await blockedRun(db, ['BEGIN', "SELECT * FROM migrate_version WHERE repository_id = 'heat' FOR UPDATE"], 44, /a row lock on migrate_version/);
      await convergesAfter(db);
    } finally {
      await db.drop();
    }
  });

  test('L3 PostgreSQL: ALTER TABLE stack waits for an AccessShareLock of an open transaction: lock_timeout, logged, names the backend; rolled back', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt44('postgresql');
    try {
      await blockedRun(db, ['BEGIN', 'SELECT COUNT(*) FROM stack'], 44, /a lock on stack/);
      await convergesAfter(db);
    } finally {
      await db.drop();
    }
  });

  test('L4 PostgreSQL: the version bump waits for a row lock on migrate_version: bounded, names the backend', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt44('postgresql');
    try {
      await blockedRun(db, ['BEGIN', "SELECT * FROM migrate_version WHERE repository_id = 'heat' FOR UPDATE"], 44, /a row lock on migrate_version/);
      await convergesAfter(db);
    } finally {
      await db.drop();
    }
  });
});
