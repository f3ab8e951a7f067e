/**
 * heat-manage as the entrypoint of many replicas: `db_sync` started by many processes at the same
 * moment against one empty database, on MariaDB, PostgreSQL and SQLite (real child processes of
 * the compiled CLI, configured through the environment only).
 *
 *  - 16 processes (HEAT_REPLICAS) at once: every one exits 0; every step 028..071 was applied
 *    exactly once (migrate_log has exactly one `done` row per step, written by one of our
 *    processes); the schema equals the target dumps (test/fixtures/heat-schema).
 *  - 8 processes with different targets (`db_sync 40`, `db_sync 55`, `db_sync`) at once: each
 *    ends at or above its target, none fails, no step twice. And deterministically: a `db_sync 40`
 *    started while another replica is already past 40 and still running must not fail either.
 *  - A waiting process logs that it waits and for whom: the replicas' waiting lines name one of
 *    the other replicas; and with the lock held by the test itself, db_sync names exactly that
 *    holder (MariaDB: connection id; PostgreSQL: backend pid, also when other databases hold the
 *    same advisory key) and applies nothing until it is released.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { ALL_DIALECTS, MYSQL_SERVER, PG_SERVER, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { dumpMysql, dumpPg, dumpSqlite } from '../support/dump.js';
import { atFirstStep } from '../support/faults.js';
import {
  describeRun,
  dumpDifferences,
  exactlyOnceProblems,
  finalVersion,
  logLines,
  sqlOf,
  startHeat,
  stepLog,
  type HeatResult,
} from '../support/heat-cli.js';

const REPLICAS = Number(process.env.HEAT_REPLICAS ?? 16);
const LABEL: Record<TestDialect, string> = { mysql: 'MariaDB', postgresql: 'PostgreSQL', sqlite: 'SQLite' };

async function dumpOf(db: TestDatabase): Promise<Record<string, string>> {
  if (db.dialect === 'mysql') return { ...(await dumpMysql(db.name)) };
  if (db.dialect === 'postgresql') return { catalog: await dumpPg(db.name) };
  return { catalog: await dumpSqlite(db.file!) };
}

/** Starts all processes in one synchronous loop (the same moment, as far as a test can). */
async function runAtOnce(db: TestDatabase, argvs: readonly (readonly string[])[]): Promise<HeatResult[]> {
  const procs = argvs.map((argv) => startHeat(argv, { url: db.url, timeoutMs: 200_000 }));
  return Promise.all(procs.map((p) => p.done));
}

/**
 * The OS pid a waiting line names as the holder: PostgreSQL's application name `migrate[N]` (or
 * `migrate[host:N]`), MariaDB's `... (<host> pid N, running ...)`; a PostgreSQL backend pid is not one.
 */
function holderPid(msg: string): number | undefined {
  const m = /migrate\[(?:[^\]]*[:@ ])?(\d+)\]/.exec(msg) ?? /(?<!backend )\bpid (\d+)\b/.exec(msg);
  return m ? Number(m[1]) : undefined;
}

/** Checks common to every concurrent run: exit codes, version 71, exactly once, the target schema. */
async function checkConverged(db: TestDatabase, runs: readonly HeatResult[]): Promise<void> {
  for (const r of runs) assert.equal(r.code, 0, `every replica exits 0: ${describeRun(r)}`);
  const [v] = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'");
  assert.equal(Number(v?.version), 71, 'the database ends at version 71');
  const log = await stepLog(db.query);
  assert.deepEqual(exactlyOnceProblems(log, new Set(runs.map((r) => r.pid))), [], 'every step applied exactly once, by one of the replicas');
  assert.deepEqual(log.filter((r) => r.status !== 'done'), [], 'no failed or unfinished step attempt');
  assert.deepEqual([...new Set(log.map((r) => r.host))], [hostname()], 'the step log records this host');
  assert.deepEqual(dumpDifferences(db.dialect, await dumpOf(db)), [], 'the schema equals the target dumps');
}

for (const dialect of ALL_DIALECTS) {
  describe(`${LABEL[dialect]}: many replicas at once`, async () => {
    const skip = await skipUnlessReachable(dialect);

    test(`${REPLICAS} db_sync processes started at the same moment on an empty database`, { ...skip, timeout: 300_000 }, async (t) => {
      const db = await createTestDatabase(dialect);
      try {
        const runs = await runAtOnce(db, Array.from({ length: REPLICAS }, () => ['db_sync']));
        for (const r of runs) assert.equal(finalVersion(r.stderr), 71, `each replica reports version 71: ${describeRun(r)}`);
        await checkConverged(db, runs);
        const log = await stepLog(db.query);
        const appliers = new Set(log.map((r) => r.pid));
        t.diagnostic(`${LABEL[dialect]}: ${REPLICAS} replicas, steps applied by ${appliers.size} process(es), slowest exit after ${Math.round(Math.max(...runs.map((r) => r.ms)))} ms`);
        if (dialect === 'sqlite') return; // no session lock: nothing to name (BEGIN IMMEDIATE waits silently)
        const pids = new Set(runs.map((r) => r.pid));
        const waits = runs.flatMap((r) =>
          logLines(r.stderr)
            .filter((l) => /^waiting .*migration lock held by/.test(l.msg))
            .map((l) => ({ self: r.pid, msg: l.msg, holder: holderPid(l.msg) })),
        );
        assert.ok(waits.length >= 1, 'at least one replica logged that it waits for the lock, and for whom');
        const named = waits.filter((w) => w.holder !== undefined);
        assert.ok(named.length >= 1, `at least one waiting line names the holder's pid: ${JSON.stringify(waits.slice(0, 3))}`);
        for (const w of named) {
          assert.ok(pids.has(w.holder!) && w.holder !== w.self, `the named holder is another replica of this run: ${w.msg} (replicas: ${[...pids].join(',')})`);
        }
        if (dialect === 'mysql') {
          for (const w of waits) assert.match(w.msg, /held by connection \d+ from \S+/, 'MariaDB names the holder connection and its host');
        } else {
          // Replicas in containers often all run as pid 1: the pid alone does not say which one holds it.
          for (const w of named) {
            assert.ok(w.msg.includes(hostname()) || /127\.0\.0\.1|::1/.test(w.msg), `PostgreSQL names the holder's host too (its client address or host name): ${w.msg}`);
          }
        }
      } finally {
        await db.drop();
      }
    });

    test('8 db_sync processes with different targets (40, 55, latest) at once', { ...skip, timeout: 300_000 }, async () => {
      const db = await createTestDatabase(dialect);
      try {
        const targets = [40, 55, 71, 40, 55, 71, 40, 55];
        const runs = await runAtOnce(db, targets.map((v) => (v === 71 ? ['db_sync'] : ['db_sync', String(v)])));
        runs.forEach((r, i) => {
          assert.equal(r.code, 0, `db_sync ${targets[i]} exits 0: ${describeRun(r)}`);
          const end = finalVersion(r.stderr);
          assert.ok(end !== undefined && end >= targets[i]!, `db_sync ${targets[i]} ends at or above its target (reported ${end}): ${describeRun(r)}`);
        });
        await checkConverged(db, runs);
      } finally {
        await db.drop();
      }
    });

    // "At once" for replicas means overlapping runs: a replica whose start-up is a little slower
    // than another's must not fail because that one already went past its target.
    test('a db_sync 40 started while another replica is past 40 and still running', { ...skip, timeout: 300_000 }, async () => {
      const db = await createTestDatabase(dialect);
      const seed = await atFirstStep(db.url); // from 28 db_sync runs the steps one by one (an empty database gets 71 in one step)
      const first = startHeat(dialect === 'sqlite' ? ['--debug', 'db_sync'] : ['db_sync'], { url: db.url, timeoutMs: 200_000 });
      try {
        await first.waitFor(/044 -> 045 .*done/, 120_000);
        if (dialect === 'sqlite') {
          // No run lock on SQLite: pause it inside a step's write transaction (BEGIN IMMEDIATE), the
          // state a slow step is in; between two steps it would look like a finished run.
          await pauseInsideWriteTransaction(first, db.file!);
        } else {
          first.kill('SIGSTOP'); // still running, lock held, version at 45 or a little more
        }
        const late = startHeat(['db_sync', '40'], { url: db.url, timeoutMs: 200_000 });
        await Promise.race([late.done, new Promise((r) => setTimeout(r, 3000))]);
        first.kill('SIGCONT');
        const [a, b] = await Promise.all([first.done, late.done]);
        assert.equal(a.code, 0, describeRun(a));
        assert.equal(b.code, 0, `the late db_sync 40 exits 0: ${describeRun(b)}`);
        const end = finalVersion(b.stderr);
        assert.ok(end !== undefined && end >= 40, `the late db_sync 40 ends at or above 40 (reported ${end})`);
        await checkConverged(db, [seed, a, b]);
      } finally {
        first.kill('SIGCONT');
        first.kill('SIGKILL');
        await first.done;
        await db.drop();
      }
    });
  });
}

/** True when another connection holds the SQLite database's write lock (BEGIN IMMEDIATE is busy). */
async function sqliteWriteLocked(file: string): Promise<boolean> {
  const Database = (await import('better-sqlite3')).default;
  const c = new Database(file, { timeout: 0 });
  try {
    c.exec('BEGIN IMMEDIATE');
    c.exec('ROLLBACK');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw e;
  } finally {
    c.close();
  }
}

/** SIGSTOPs a `--debug` db_sync right after it sent a BEGIN IMMEDIATE, retrying until it is caught inside the transaction. */
async function pauseInsideWriteTransaction(p: ReturnType<typeof startHeat>, file: string): Promise<void> {
  const isBegin = (l: string) => sqlOf(l) === 'BEGIN IMMEDIATE';
  for (let i = 0; i < 25; i++) {
    const already = p.stderrSoFar().split('\n').slice(0, -1).filter(isBegin).length;
    let n = 0;
    await p.waitFor((l) => isBegin(l) && ++n > already, 60_000); // the next BEGIN IMMEDIATE
    p.kill('SIGSTOP');
    if (await sqliteWriteLocked(file)) return;
    p.kill('SIGCONT');
  }
  throw new Error('could not pause db_sync inside a step transaction');
}

// ------------------------------------------------------------------------------------------------
// The holder named exactly: the test holds the migration lock itself.

/** migrate/dialect/mysql.ts: GET_LOCK name `migrate:<database>:<version_table>:<repository_id>` (sha1 when > 64). */
function mysqlLockName(database: string): string {
  const name = `migrate:${database}:migrate_version:heat`;
  return name.length <= 64 ? name : `migrate:${createHash('sha1').update(name).digest('hex')}`;
}

/** migrate/dialect/postgres.ts: advisory key = two int4 of sha1('migrate:<version_table>:<repository_id>'). */
function pgLockKeys(): [number, number] {
  const h = createHash('sha1').update('migrate:migrate_version:heat').digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

describe('a waiting db_sync says whom it waits for', async () => {
  test('MariaDB: names the connection holding GET_LOCK, applies nothing until it is released', await skipUnlessReachable('mysql'), async () => {
    const db = await createTestDatabase('mysql');
    const mysql = await import('mysql2/promise');
    const u = new URL(MYSQL_SERVER.replace(/^mysql(\+\w+)?:/, 'http:'));
    const holder = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password), database: db.name });
    try {
      const [[got]] = (await holder.query('SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS id', [mysqlLockName(db.name)])) as unknown as [[{ got: number; id: number }]];
      assert.equal(Number(got.got), 1);
      const p = startHeat(['db_sync'], { url: db.url, timeoutMs: 120_000 });
      const line = await p.waitFor(/waiting .*migration lock/, 60_000);
      assert.match(line, new RegExp(`held by connection ${got.id} from 127\\.0\\.0\\.1:\\d+`), 'names the holding connection and its host');
      assert.deepEqual(await db.query('SHOW TABLES'), [], 'nothing is created while another process holds the lock');
      await holder.query('SELECT RELEASE_LOCK(?)', [mysqlLockName(db.name)]);
      const r = await p.done;
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(finalVersion(r.stderr), 71);
    } finally {
      await holder.end().catch(() => undefined);
      await db.drop();
    }
  });

  test('PostgreSQL: names the backend holding the advisory lock in THIS database, not a holder of the same key elsewhere', await skipUnlessReachable('postgresql'), async () => {
    const db = await createTestDatabase('postgresql');
    const decoys = await Promise.all([1, 2, 3].map(() => createTestDatabase('postgresql')));
    const pg = (await import('pg')).default;
    const u = new URL(PG_SERVER.replace(/^postgres(ql)?(\+\w+)?:/, 'http:'));
    const connect = async (database: string) => {
      const c = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password), database });
      await c.connect();
      return c;
    };
    const [k1, k2] = pgLockKeys();
    const clients: InstanceType<typeof pg.Client>[] = [];
    try {
      // Other databases hold the same key first (another cloud's migration on the same server).
      for (const d of decoys) {
        const c = await connect(d.name);
        clients.push(c);
        await c.query('SELECT pg_advisory_lock($1, $2)', [k1, k2]);
      }
      const holder = await connect(db.name);
      clients.push(holder);
      const { rows } = await holder.query('SELECT pg_try_advisory_lock($1, $2) AS got, pg_backend_pid() AS pid', [k1, k2]);
      assert.equal(rows[0].got, true, 'advisory locks are per database: the key is free in ours');
      const p = startHeat(['db_sync'], { url: db.url, timeoutMs: 120_000 });
      const line = await p.waitFor(/waiting .*migration lock/, 60_000);
      assert.match(line, new RegExp(`held by backend pid ${rows[0].pid}\\b`), `names the holder in this database (backend ${rows[0].pid}): ${line}`);
      assert.deepEqual(await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"), [], 'nothing is created while another process holds the lock');
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]);
      const r = await p.done;
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(finalVersion(r.stderr), 71);
    } finally {
      for (const c of clients) await c.end().catch(() => undefined);
      await db.drop();
      for (const d of decoys) await d.drop();
    }
  });
});
