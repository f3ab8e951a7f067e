/**
 * Transactions, failure and locking (issue; SPEC §12.1, §12.2), with the built CLI:
 *
 *  - PostgreSQL and SQLite: a step (script + version bump) is one transaction, so a failing step
 *    leaves nothing behind (also when the engine's crash hook MIGRATE_TEST_ABORT stops it midway).
 *  - MySQL/MariaDB: a failing step leaves the version at the last completed step and the engine
 *    records the attempt in `migrate_log`; the next run says so in one line (which step, when, what
 *    failed) and retries it with `migrate_engine.resumed` set. Also after the process was killed.
 *  - A lock held elsewhere (MySQL GET_LOCK, PostgreSQL advisory lock, SQLite write lock) and
 *    `--lock_timeout=1`: a clear one-line error, non-zero exit, nothing applied.
 *
 * The lock name/keys are derived here as migrate/dialect/mysql.ts and postgres.ts document them:
 * key = `<version_table>:<repository_id>`; MySQL `migrate:<database>:<key>` (SHA-1 when > 64
 * chars); PostgreSQL two int4 = the first 8 bytes of SHA-1(`migrate:<key>`).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { lines, putUnderControl, removeDir, runMigrate, show, snapshot, startMigrate, tableNames, tempDir, versionRows, writeRepo, type CliResult } from '../support/cli.js';
import { withCliDb } from '../support/cli.js';

interface Ctx {
  db: TestDatabase;
  dir: string;
  migrate: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
}

function withDb(t: TestContext, d: TestDialect, fn: (c: Ctx) => Promise<void>): Promise<void> {
  return withCliDb(t, d, 'migrate-fail-', (db, dir) => fn({ db, dir, migrate: (args, env) => runMigrate(args, { cwd: dir, env }) }));
}

/**
 * Step 1 creates f1; step 2 creates f2, inserts a row, records `resumed`, then throws when the file
 * `<dir>/fail` exists, or hangs when `<dir>/hang` exists. CREATE ... IF NOT EXISTS-style checks make
 * step 2 converge when re-run (as MySQL scripts must).
 */
function scripts(dir: string): Record<string, string> {
  const flag = (name: string) => JSON.stringify(join(dir, name));
  return {
    '001_f1.mjs': `export async function upgrade(e) { await e.execute('CREATE TABLE f1 (id INTEGER)'); }
export async function downgrade(e) { await e.execute('DROP TABLE f1'); }
`,
    '002_f2.mjs': `import { existsSync } from 'node:fs';
export async function upgrade(e) {
  await e.execute('INSERT INTO resumed_log (resumed) VALUES (?)', [e.resumed ? 1 : 0]);
  const t = e.dialect === 'mysql'
    ? await e.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'f2'")
    : e.dialect === 'postgresql'
      ? await e.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'f2'")
      : await e.query("SELECT 1 FROM sqlite_master WHERE name = 'f2'");
  if (!t.length) await e.execute('CREATE TABLE f2 (id INTEGER)');
  await e.execute('INSERT INTO f2 (id) VALUES (1)');
  if (existsSync(${flag('fail')})) throw new Error('boom: step 2 failed on purpose');
  if (existsSync(${flag('hang')})) await new Promise((r) => setTimeout(r, 60000));
}
export async function downgrade(e) { await e.execute('DROP TABLE f2'); }
`,
  };
}

async function setup(c: Ctx): Promise<string> {
  const repo = writeRepo(join(c.dir, 'repo'), { files: scripts(c.dir) });
  await c.db.query('CREATE TABLE resumed_log (resumed INTEGER NOT NULL)');
  await putUnderControl(c.db.url, repo);
  return repo;
}

async function touch(dir: string, name: string): Promise<void> {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, name), '');
}
async function untouch(dir: string, name: string): Promise<void> {
  const { rmSync } = await import('node:fs');
  rmSync(join(dir, name), { force: true });
}

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

describe('a failing step on PostgreSQL and SQLite leaves nothing behind', { concurrency: true }, () => {
  for (const d of ['postgresql', 'sqlite'] as const) {
    test(`${d}: the script throws after its statements`, (t) =>
      withDb(t, d, async (c) => {
        const repo = await setup(c);
        await touch(c.dir, 'fail');
        const r = await c.migrate(['upgrade', c.db.url, repo]);
        assert.equal(r.code, 1, show(r));
        assert.equal(r.stdout, '0 -> 1... \ndone\n1 -> 2... \n');
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /versions\/002_f2\.mjs/);
        assert.match(r.stderr, /boom: step 2 failed on purpose/);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
        const tables = await tableNames(c.db);
        assert.ok(tables.includes('f1'));
        assert.ok(!tables.includes('f2'), 'CREATE TABLE f2 rolled back');
        assert.deepEqual(await c.db.query('SELECT resumed FROM resumed_log'), [], 'the INSERT rolled back');
        // The next run simply runs step 2 again, from scratch, and says nothing about a resume.
        await untouch(c.dir, 'fail');
        const again = await c.migrate(['upgrade', c.db.url, repo]);
        assert.equal(again.code, 0, show(again));
        assert.equal(again.stdout, '1 -> 2... \ndone\n');
        assert.equal(again.stderr, '');
        assert.deepEqual((await c.db.query('SELECT resumed FROM resumed_log')).map((x) => Number(x.resumed)), [0]);
        assert.deepEqual(await c.db.query('SELECT id FROM f2').then((x) => x.map((y) => Number(y.id))), [1]);
      }));

    test(`${d}: the engine's crash hook stops step 2 after its 3rd statement`, (t) =>
      withDb(t, d, async (c) => {
        const repo = await setup(c);
        const r = await c.migrate(['upgrade', c.db.url, repo], { MIGRATE_TEST_ABORT: '2:3' });
        assert.equal(r.code, 1, show(r));
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
        assert.ok(!(await tableNames(c.db)).includes('f2'));
        assert.deepEqual(await c.db.query('SELECT resumed FROM resumed_log'), []);
      }));
  }
});

describe('a failing step on MySQL/MariaDB is recorded and retried', { concurrency: true }, () => {
  test('the script throws: version stays, migrate_log says failed, the next run says so and retries', (t) =>
    withDb(t, 'mysql', async (c) => {
      const repo = await setup(c);
      await touch(c.dir, 'fail');
      const r = await c.migrate(['upgrade', c.db.url, repo]);
      assert.equal(r.code, 1, show(r));
      assert.equal(r.stdout, '0 -> 1... \ndone\n1 -> 2... \n');
      assert.equal(lines(r.stderr).length, 1, show(r));
      assert.match(r.stderr, /versions\/002_f2\.mjs/);
      assert.match(r.stderr, /boom: step 2 failed on purpose/);
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
      assert.ok((await tableNames(c.db)).includes('f2'), 'DDL commits by itself on MySQL');
      const [last] = await c.db.query('SELECT version_from, version_to, status, error, script FROM migrate_log ORDER BY id DESC LIMIT 1');
      assert.deepEqual([Number(last!.version_from), Number(last!.version_to), last!.status, last!.script], [1, 2, 'failed', 'versions/002_f2.mjs']);
      assert.match(String(last!.error), /boom/);

      await untouch(c.dir, 'fail');
      const again = await c.migrate(['upgrade', c.db.url, repo]);
      assert.equal(again.code, 0, show(again));
      assert.equal(again.stdout, '1 -> 2... \ndone\n');
      const notice = lines(again.stderr);
      assert.equal(notice.length, 1, show(again));
      assert.match(notice[0]!, /1 -> 2/);
      assert.match(notice[0]!, /versions\/002_f2\.mjs/);
      assert.match(notice[0]!, ISO);
      assert.match(notice[0]!, /boom: step 2 failed on purpose/);
      assert.match(notice[0]!, /retry/i);
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
      assert.deepEqual((await c.db.query('SELECT resumed FROM resumed_log')).map((x) => Number(x.resumed)), [0, 1], 'the retry ran with resumed set');
      // And the run after that has nothing to say.
      const third = await c.migrate(['upgrade', c.db.url, repo]);
      assert.deepEqual([third.code, third.stdout, third.stderr], [0, '', '']);
    }));

  test('the process is killed midway: the next run says the step did not finish and retries it', (t) =>
    withDb(t, 'mysql', async (c) => {
      const repo = await setup(c);
      await touch(c.dir, 'hang');
      const s = startMigrate(['upgrade', c.db.url, repo], { cwd: c.dir });
      // Wait until step 2 has inserted its row (it then hangs), then kill the process.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const tables = await tableNames(c.db);
        if (tables.includes('f2') && (await c.db.query('SELECT id FROM f2')).length) break;
        assert.ok(Date.now() < deadline, 'step 2 did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      s.child.kill('SIGKILL');
      const killed = await s.done;
      assert.equal(killed.signal, 'SIGKILL');
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
      const [last] = await c.db.query('SELECT status FROM migrate_log ORDER BY id DESC LIMIT 1');
      assert.equal(last!.status, 'running');

      await untouch(c.dir, 'hang');
      const again = await c.migrate(['upgrade', c.db.url, repo, '--lock_timeout=20']);
      assert.equal(again.code, 0, show(again));
      assert.equal(again.stdout, '1 -> 2... \ndone\n');
      const notice = lines(again.stderr);
      assert.equal(notice.length, 1, show(again));
      assert.match(notice[0]!, /1 -> 2/);
      assert.match(notice[0]!, /versions\/002_f2\.mjs/);
      assert.match(notice[0]!, ISO);
      assert.match(notice[0]!, new RegExp(`pid ${s.child.pid}\\b`));
      assert.match(notice[0]!, /did not finish|interrupted/);
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
      assert.deepEqual((await c.db.query('SELECT resumed FROM resumed_log')).map((x) => Number(x.resumed)), [0, 1]);
      assert.deepEqual((await c.db.query('SELECT id FROM f2')).map((x) => Number(x.id)), [1, 1], 'the retry converged on the half-done step');
    }));

  test("the engine's crash hook on MySQL: version stays, the retry is announced", (t) =>
    withDb(t, 'mysql', async (c) => {
      const repo = await setup(c);
      const r = await c.migrate(['upgrade', c.db.url, repo], { MIGRATE_TEST_ABORT: '2:3' });
      assert.equal(r.code, 1, show(r));
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
      const again = await c.migrate(['upgrade', c.db.url, repo]);
      assert.equal(again.code, 0, show(again));
      assert.equal(lines(again.stderr).length, 1, show(again));
      assert.match(again.stderr, /1 -> 2.*versions\/002_f2\.mjs/);
      assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
    }));
});

/** Holds the run lock of repository `sample` (table migrate_version) from another connection. */
async function holdLock(db: TestDatabase): Promise<() => Promise<void>> {
  const key = 'migrate_version:sample';
  if (db.dialect === 'mysql') {
    const u = new URL(db.url.replace(/^[a-z+]+:/, 'http:'));
    const conn = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: db.name });
    let name = `migrate:${db.name}:${key}`;
    if (name.length > 64) name = `migrate:${createHash('sha1').update(name).digest('hex')}`;
    const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got', [name]);
    assert.equal(Number((rows as Array<{ got: number }>)[0]!.got), 1, 'test took the lock');
    return async () => {
      await conn.query('SELECT RELEASE_LOCK(?)', [name]);
      await conn.end();
    };
  }
  if (db.dialect === 'postgresql') {
    const u = new URL(db.url.replace(/^[a-z+]+:/, 'http:'));
    const client = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: db.name });
    await client.connect();
    const h = createHash('sha1').update(`migrate:${key}`).digest();
    const res = await client.query('SELECT pg_try_advisory_lock($1, $2) AS got', [h.readInt32BE(0), h.readInt32BE(4)]);
    assert.equal(res.rows[0].got, true, 'test took the lock');
    return () => client.end();
  }
  const sq = new Database(db.file!);
  sq.exec('BEGIN IMMEDIATE');
  return async () => {
    sq.exec('ROLLBACK');
    sq.close();
  };
}

describe('a lock held elsewhere and --lock_timeout=1: clear error, non-zero exit, nothing applied', { concurrency: true }, () => {
  for (const d of ALL_DIALECTS) {
    test(d, (t) =>
      withDb(t, d, async (c) => {
        const repo = await setup(c);
        const before = await snapshot(c.db);
        const release = await holdLock(c.db);
        let r: CliResult;
        try {
          r = await c.migrate(['upgrade', c.db.url, repo, '--lock_timeout=1']);
        } finally {
          await release();
        }
        assert.notEqual(r.code, 0, show(r));
        assert.ok(!r.stdout.includes('done'), show(r));
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /^migrate: error: /);
        assert.match(r.stderr, /lock/i);
        assert.match(r.stderr, /timed out|timeout/i);
        assert.ok(r.ms >= 900, `waited for the lock (${r.ms} ms)`);
        assert.ok(r.ms < 20_000, `gave up after the timeout (${r.ms} ms)`);
        assert.deepEqual(await snapshot(c.db), before, 'nothing applied');
        // Once the lock is free, the same command works.
        const ok = await c.migrate(['upgrade', c.db.url, repo, '--lock_timeout=1']);
        assert.equal(ok.code, 0, show(ok));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
      }));
  }

  test('--lock_timeout must be a number of seconds (usage error, exit 2)', async () => {
    const dir = tempDir();
    try {
      const repo = writeRepo(join(dir, 'r'));
      const r = await runMigrate(['upgrade', `sqlite:///${join(dir, 'x.db')}`, repo, '--lock_timeout=soon']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /lock_timeout/);
    } finally {
      removeDir(dir);
    }
  });
});
