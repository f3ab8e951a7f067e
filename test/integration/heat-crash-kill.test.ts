/**
 * heat-manage killed with SIGKILL in the middle of `db_sync`, and the database server restarted
 * in the middle of a run: the next normal `db_sync` always converges.
 *
 *  - Random kills: HEAT_KILL_TRIALS (default 50) trials on MariaDB and as many on PostgreSQL, a few
 *    (HEAT_KILL_SQLITE_TRIALS, default 6) on SQLite. Each trial: an empty database, `db_sync`, a
 *    SIGKILL after a delay drawn uniformly from [0, D], counted from the first line heat-manage logs
 *    (just before it connects), where D is the measured duration of that database phase in a normal
 *    run under the same load (so the kills spread over connecting, locking, stamping and every
 *    step; Node's own start-up before it touches nothing and is not aimed at), then a normal
 *    `db_sync`. A trial whose run ended before the kill does not count (and pulls D towards
 *    that run's duration: the load changed); trials go on until the wanted number of real kills.
 *    HEAT_KILL_WORKERS (default 3) databases per backend at once, the backends side by side.
 *    After every kill: the dead process's lock is gone once its connection is (MariaDB IS_USED_LOCK,
 *    PostgreSQL pg_locks); the second run exits 0 at version 71 with the full target schema dump,
 *    migrate_log has exactly one `done` row per step, and no lock is left.
 *  - Targeted kills at the engine's own bookkeeping statements (seen with --debug just before they
 *    run): the lock, the stamp (CREATE/INSERT migrate_version), a step's `running` row, the version
 *    bump, the commit.
 *  - MariaDB with the Galera row lock forced (MIGRATE_MYSQL_LOCK=row, MIGRATE_LOCK_LEASE=3): a holder
 *    killed while holding the row (HEAT_KILL_ROWLOCK_TRIALS, default 4) leaves it; the next run
 *    waits for the lease to expire, takes it over (and says so), converges, and removes the row.
 *    Plus 4 kills at random moments with the row lock.
 *  - A crash state set up directly: an empty migrate_version alone (MariaDB's DDL autocommit: a kill
 *    between CREATE TABLE and INSERT).
 *  - Server restart mid-run, on a private server (test/support/spare-server.ts): MariaDB restarted
 *    (heat-manage paused at a chosen step so the restart lands mid-run for sure), restarted live, and
 *    crashed (SIGKILL); PostgreSQL restarted. The run exits 1 with one clear line; the next converges.
 *
 * Every trial's outcome is collected and the failures are listed together at the end of each test.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { dumpMysql, dumpPg, dumpSqlite } from '../support/dump.js';
import {
  describeRun,
  dumpDifferences,
  exactlyOnceProblems,
  finalVersion,
  logLines,
  parseLogLine,
  plainLines,
  sqlOf,
  runHeat,
  startHeat,
  stepLog,
  type HeatResult,
} from '../support/heat-cli.js';
import { atFirstStep } from '../support/faults.js';
import { createSpareServer, dumpSpare, spareUnavailableReason, type SpareKind, type SpareServer } from '../support/spare-server.js';

const TRIALS = Number(process.env.HEAT_KILL_TRIALS ?? 50);
const SQLITE_TRIALS = Number(process.env.HEAT_KILL_SQLITE_TRIALS ?? 6);
const WORKERS = Number(process.env.HEAT_KILL_WORKERS ?? 3);
const ROW_LOCK_TRIALS = Number(process.env.HEAT_KILL_ROWLOCK_TRIALS ?? 4);
const LABEL: Record<TestDialect, string> = { mysql: 'MariaDB', postgresql: 'PostgreSQL', sqlite: 'SQLite' };
const ROW_LOCK_ENV = { MIGRATE_MYSQL_LOCK: 'row', MIGRATE_LOCK_LEASE: '3' };
/** Bounded waits: a lock held by someone else would make the second run fail after 60 s instead of hanging. */
const RUN_ENV = { OS_DATABASE__MIGRATION_LOCK_TIMEOUT: '60' };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// Checks

async function dumpOf(db: TestDatabase): Promise<Record<string, string>> {
  if (db.dialect === 'mysql') return { ...(await dumpMysql(db.name)) };
  if (db.dialect === 'postgresql') return { catalog: await dumpPg(db.name) };
  return { catalog: await dumpSqlite(db.file!) };
}

/** migrate/dialect/mysql.ts's GET_LOCK name (heat-replicas.test.ts proves it is the one db_sync waits on). */
function mysqlLockName(database: string): string {
  const name = `migrate:${database}:migrate_version:heat`;
  return name.length <= 64 ? name : `migrate:${createHash('sha1').update(name).digest('hex')}`;
}

/** The version, or 'none' when the database is not stamped (yet). Any other error is thrown. */
async function versionOf(db: TestDatabase): Promise<number | 'none'> {
  try {
    const [r] = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'");
    return r ? Number(r.version) : 'none';
  } catch (e) {
    if (/doesn't exist|does not exist|no such table/i.test((e as Error).message)) return 'none';
    throw e;
  }
}

/** Problems with locks on this database: [] when none is held (MariaDB GET_LOCK or row, PG advisory, SQLite write lock). */
async function lockProblems(db: TestDatabase, rowLock: boolean): Promise<string[]> {
  const problems: string[] = [];
  if (db.dialect === 'mysql') {
    const [u] = await db.query('SELECT IS_USED_LOCK(?) AS holder', [mysqlLockName(db.name)]);
    if (u?.holder !== null && u?.holder !== undefined) problems.push(`GET_LOCK still held by connection ${String(u.holder)}`);
    const [t] = await db.query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'migrate_lock'");
    if (Number(t?.n) > 0) {
      const rows = await db.query('SELECT lock_key, host, pid FROM migrate_lock');
      if (rows.length) problems.push(`migrate_lock rows left: ${JSON.stringify(rows)}`);
    } else if (rowLock) {
      problems.push('migrate_lock does not exist: the row lock was not used');
    }
  } else if (db.dialect === 'postgresql') {
    const rows = await db.query(
      "SELECT l.pid, l.granted FROM pg_locks l WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    if (rows.length) problems.push(`advisory locks left on this database: ${JSON.stringify(rows)}`);
  } else {
    const Database = (await import('better-sqlite3')).default;
    const c = new Database(db.file!, { timeout: 0 });
    try {
      c.exec('BEGIN IMMEDIATE; ROLLBACK');
    } catch (e) {
      problems.push(`the SQLite write lock is taken: ${(e as Error).message}`);
    } finally {
      c.close();
    }
    if (existsSync(`${db.file}-journal`)) problems.push('a rollback journal is left next to the database');
  }
  return problems;
}

/** Polls until the lock a dead process held is gone (its connection closed), at most `ms`. */
async function lockReleasedWithin(db: TestDatabase, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const p = await lockProblems(db, false);
    if (!p.length || Date.now() > deadline) return p;
    await sleep(100);
  }
}

/** Everything a converged database must satisfy after the second run. */
async function convergedProblems(db: TestDatabase, second: HeatResult, pids: ReadonlySet<number>, rowLock = false): Promise<string[]> {
  const problems: string[] = [];
  if (second.code !== 0) return [`the second db_sync failed: ${describeRun(second)}`];
  if (finalVersion(second.stderr) !== 71) problems.push(`the second db_sync reported version ${finalVersion(second.stderr)}`);
  const v = await versionOf(db);
  if (v !== 71) problems.push(`migrate_version is ${v}`);
  problems.push(...exactlyOnceProblems(await stepLog(db.query), pids));
  problems.push(...dumpDifferences(db.dialect, await dumpOf(db)));
  problems.push(...(await lockProblems(db, rowLock)));
  return problems;
}

// ------------------------------------------------------------------------------------------------
// Trials

interface TrialOutcome {
  /** The first run was really killed (not finished before the kill). */
  killed: boolean;
  /** Where the kill landed: 'none' (before the stamp), 27, ..., 71. */
  at: number | 'none';
  /** A MariaDB step was caught half-done (a `running` row for the step the database is at). */
  midStep: boolean;
  problems: string[];
  /** When the first run ended (performance.now()). */
  endedAt: number;
}

/**
 * One trial: kill `db_sync` on a new database when `killWhen` resolves (a delay, or a line seen),
 * then run it again and check everything.
 */
async function trial(
  dialect: TestDialect,
  killWhen: (p: ReturnType<typeof startHeat>) => Promise<unknown>,
  o: { env?: Record<string, string>; args?: string[]; rowLock?: boolean; from28?: boolean } = {},
): Promise<TrialOutcome> {
  const db = await createTestDatabase(dialect);
  const env = { ...RUN_ENV, ...o.env };
  try {
    // From 28 db_sync runs the steps one by one (an empty database gets 71 in one step, migrate/fresh.ts).
    const seed = o.from28 ? (await atFirstStep(db.url)).pid : undefined;
    const first = startHeat([...(o.args ?? []), 'db_sync'], { url: db.url, env, timeoutMs: 120_000 });
    await Promise.race([killWhen(first).catch(() => undefined), first.done]);
    first.kill('SIGKILL');
    const k = await first.done;
    const endedAt = performance.now();
    const killed = k.signal === 'SIGKILL' && !k.timedOut;
    const problems: string[] = [];
    if (!killed && k.code !== 0) problems.push(`the first db_sync (not killed) failed: ${describeRun(k)}`);
    let at: number | 'none' = 'none';
    let midStep = false;
    try {
      at = await versionOf(db);
      if (dialect === 'mysql' && typeof at === 'number') {
        const running = await db.query("SELECT version_from FROM migrate_log WHERE status = 'running'").catch(() => []);
        midStep = running.some((r) => Number(r.version_from) === at);
      }
      if (killed && !o.rowLock && dialect !== 'sqlite') {
        // A session lock dies with its connection: nobody holds it once the server saw the client go.
        // (SQLite: the OS drops a dead process's file locks; opening the file here would already roll
        // back its hot journal, so SQLite is checked after the second run only.)
        problems.push(...(await lockReleasedWithin(db, 15_000)).map((p) => `after the kill: ${p}`));
      }
      const second = await runHeat(['db_sync'], { url: db.url, env, timeoutMs: 150_000 });
      problems.push(...(await convergedProblems(db, second, new Set([k.pid, second.pid, ...(seed ? [seed] : [])]), o.rowLock)));
    } catch (e) {
      problems.push(`checking the database failed: ${(e as Error).message}`);
    }
    return { killed, at, midStep, problems, endedAt };
  } finally {
    await db.drop();
  }
}

/** Runs `fn(i)` for i = 0, 1, ... on `workers` parallel lanes until `enough()` or `cap` calls. */
async function pool(workers: number, cap: number, enough: () => boolean, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (!enough() && next < cap) await fn(next++);
  };
  await Promise.all(Array.from({ length: workers }, lane));
}

/** The first line heat-manage logs, just before it first connects: kills are timed from it. */
const USING_DB = (line: string): boolean => !!parseLogLine(line)?.msg.startsWith('using database ');

/**
 * Duration of a normal db_sync's database phase (from its "using database" line to its exit) on an
 * empty database, under `workers` concurrent runs (the slowest). Node's start-up before that line
 * touches no database, so a kill there proves nothing and is not aimed at.
 */
async function normalRunMs(dialect: TestDialect, workers: number, env: Record<string, string> = {}): Promise<number> {
  const runs = await Promise.all(
    Array.from({ length: workers }, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await atFirstStep(db.url); // as the trials start
        const p = startHeat(['db_sync'], { url: db.url, env: { ...RUN_ENV, ...env }, timeoutMs: 150_000 });
        await p.waitFor(USING_DB, 60_000);
        const t0 = performance.now();
        const r = await p.done;
        assert.equal(r.code, 0, `a normal db_sync works: ${describeRun(r)}`);
        return performance.now() - t0;
      } finally {
        await db.drop();
      }
    }),
  );
  return Math.max(...runs);
}

/** Kill after a delay uniform in [0, d()] from the "using database" line; `seen(t)` gets the line's time. */
function killAtRandom(d: () => number, seen: (t: number) => void = () => undefined) {
  return async (p: ReturnType<typeof startHeat>) => {
    await p.waitFor(USING_DB, 60_000);
    seen(performance.now());
    await sleep(Math.random() * d());
  };
}

function histogram(outcomes: readonly TrialOutcome[]): string {
  const bucket = (o: TrialOutcome) => (o.at === 'none' ? 'before stamp' : o.at === 27 ? 'at 27' : o.at === 71 ? 'at 71' : o.at < 50 ? '28-49' : '50-70');
  const counts = new Map<string, number>();
  for (const o of outcomes.filter((x) => x.killed)) counts.set(bucket(o), (counts.get(bucket(o)) ?? 0) + 1);
  return ['before stamp', 'at 27', '28-49', '50-70', 'at 71'].map((b) => `${b}: ${counts.get(b) ?? 0}`).join(', ');
}

function report(t: TestContext, title: string, outcomes: readonly TrialOutcome[]): void {
  const killed = outcomes.filter((o) => o.killed);
  const failed = outcomes.filter((o) => o.problems.length);
  t.diagnostic(
    `${title}: ${outcomes.length} trials, ${killed.length} killed mid-run (${histogram(outcomes)}; ${killed.filter((o) => o.midStep).length} inside a MariaDB step), ${outcomes.length - killed.length} finished before the kill, ${failed.length} failed`,
  );
  assert.deepEqual(
    failed.slice(0, 5).map((o) => ({ at: o.at, problems: o.problems })),
    [],
    `${failed.length} of ${outcomes.length} trials did not converge`,
  );
}

// ------------------------------------------------------------------------------------------------
// Random kills

describe('kill -9 at random moments of db_sync, then db_sync again', { concurrency: true }, () => {
  for (const dialect of ['mysql', 'postgresql', 'sqlite'] as const) {
    const wanted = dialect === 'sqlite' ? SQLITE_TRIALS : TRIALS;
    test(`${LABEL[dialect]}: ${wanted} kills`, { timeout: 600_000 }, async (t) => {
      const skip = await skipUnlessReachable(dialect);
      if (skip.skip) return t.skip(skip.skip);
      const workers = dialect === 'sqlite' ? 2 : WORKERS;
      const measured = await normalRunMs(dialect, workers);
      // D follows the machine's load: a run that finished before its kill shows runs got faster.
      let d = measured;
      const outcomes: TrialOutcome[] = [];
      const kills = () => outcomes.filter((o) => o.killed).length;
      await pool(workers, wanted * 3, () => kills() >= wanted, async () => {
        let lineAt = 0;
        const o = await trial(dialect, killAtRandom(() => d, (t) => (lineAt = t)), { from28: true });
        if (!o.killed && lineAt) d = (d + (o.endedAt - lineAt)) / 2;
        outcomes.push(o);
      });
      t.diagnostic(
        `${LABEL[dialect]}: a normal run's database phase took ${Math.round(measured)} ms with ${workers} at once; kill delays uniform in [0, D] after the "using database" line, D adapted down to ${Math.round(d)} ms`,
      );
      report(t, LABEL[dialect], outcomes);
      assert.ok(kills() >= wanted, `${kills()} of the wanted ${wanted} kills happened mid-run`);
      if (wanted >= 20) {
        const mid = outcomes.filter((o) => o.killed && typeof o.at === 'number' && o.at > 27 && o.at < 71).length;
        assert.ok(mid >= wanted / 10, `kills spread over the steps (${mid} of ${kills()} landed between 28 and 70)`);
      }
    });
  }
});

// ------------------------------------------------------------------------------------------------
// Targeted kills: just as the engine sends one of its own bookkeeping statements.

/** A matcher for the k-th --debug SQL line whose statement matches `re`. */
function nthSql(re: RegExp, k: number): (line: string) => boolean {
  let seen = 0;
  return (line) => {
    const sql = sqlOf(line);
    return sql !== undefined && re.test(sql) && ++seen === k;
  };
}

const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

describe('kill -9 at the engine bookkeeping statements, then db_sync again', () => {
  // Points inside the steps start from 28 (`true`): an empty database gets 71 in one step (migrate/fresh.ts),
  // whose own statements are the points that start from an empty database.
  const points: Record<TestDialect, [string, () => (line: string) => boolean, boolean?][]> = {
    mysql: [
      ['taking the lock (GET_LOCK)', () => nthSql(/GET_LOCK/, 1)],
      ['creating migrate_version', () => nthSql(/^CREATE TABLE migrate_version/, 1)],
      ['inserting the version row (after CREATE TABLE committed)', () => nthSql(/^INSERT INTO `?migrate_version/, 1)],
      ['creating migrate_log', () => nthSql(/^CREATE TABLE IF NOT EXISTS migrate_log/, 1)],
      ['a step\'s running row', () => nthSql(/^INSERT INTO migrate_log/, rand(1, 40)), true],
      ['inside the fresh install (after some of its tables)', () => nthSql(/^CREATE TABLE `stack` \(/, 1)],
      // The bump and the log row's done mark are one multi-table UPDATE (autocommit) on MariaDB.
      ['a version bump marking the step done', () => nthSql(/^UPDATE `?migrate_version`? v, migrate_log l SET/, rand(1, 40)), true],
      ['the first version bump (the fresh install\'s)', () => nthSql(/^UPDATE `?migrate_version`? v, migrate_log l SET/, 1)],
    ],
    postgresql: [
      ['taking the lock', () => nthSql(/pg_try_advisory_lock/, 1)],
      ['creating migrate_version (inside the stamp transaction)', () => nthSql(/^CREATE TABLE migrate_version/, 1)],
      ['inside the fresh install (after CREATE TABLE stack)', () => nthSql(/^CREATE TABLE "stack" \(/, 1)],
      ['a step\'s BEGIN', () => nthSql(/^BEGIN/, rand(2, 40)), true],
      ['a version bump', () => nthSql(/^UPDATE "?migrate_version"? SET version/, rand(1, 40)), true],
      ['a step\'s COMMIT', () => nthSql(/^COMMIT/, rand(2, 40)), true],
    ],
    sqlite: [
      ['the stamp transaction', () => nthSql(/^CREATE TABLE migrate_version/, 1)],
      ['inside the fresh install (after CREATE TABLE stack)', () => nthSql(/^CREATE TABLE "stack" \(/, 1)],
      ['a step\'s BEGIN IMMEDIATE', () => nthSql(/^BEGIN IMMEDIATE/, rand(2, 40)), true],
      ['a step\'s foreign_key_check', () => nthSql(/^PRAGMA foreign_key_check/, rand(1, 40)), true],
      ['a step\'s COMMIT', () => nthSql(/^COMMIT/, rand(2, 40)), true],
    ],
  };
  for (const dialect of ALL_DIALECTS) {
    test(`${LABEL[dialect]}: ${points[dialect].length} points`, { timeout: 300_000 }, async (t) => {
      const skip = await skipUnlessReachable(dialect);
      if (skip.skip) return t.skip(skip.skip);
      const outcomes: TrialOutcome[] = [];
      const missed: string[] = [];
      // Two lanes; the step-numbered points pick their step at random each run.
      const todo = [...points[dialect]];
      await pool(2, todo.length, () => false, async (i) => {
        const [what, matcher, from28] = todo[i]!;
        const o = await trial(dialect, (p) => p.waitFor(matcher(), 60_000), { args: ['--debug'], from28 });
        if (!o.killed) missed.push(what);
        outcomes.push({ ...o, problems: o.problems.map((x) => `${what}: ${x}`) });
      });
      report(t, `${LABEL[dialect]} targeted`, outcomes);
      assert.deepEqual(missed, [], 'every targeted kill landed before the run ended');
    });
  }

  test('MariaDB crash state: an empty migrate_version alone (killed between CREATE TABLE and INSERT)', async (t) => {
    const skip = await skipUnlessReachable('mysql');
    if (skip.skip) return t.skip(skip.skip);
    const db = await createTestDatabase('mysql');
    try {
      // The exact DDL the engine runs (migrate/dialect/adapter.ts versionTableDdl, sqlalchemy-migrate's).
      await db.query(
        'CREATE TABLE migrate_version (\n\trepository_id VARCHAR(250) NOT NULL, \n\trepository_path TEXT, \n\tversion INTEGER, \n\tPRIMARY KEY (repository_id)\n)',
      );
      const r = await runHeat(['db_sync'], { url: db.url, env: RUN_ENV });
      assert.deepEqual(await convergedProblems(db, r, new Set([r.pid])), []);
    } finally {
      await db.drop();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// The Galera row lock (forced on plain MariaDB), short lease.

test(`MariaDB row lock (MIGRATE_MYSQL_LOCK=row, lease 3 s): ${ROW_LOCK_TRIALS} holders killed mid-step; the lease expires and is taken over`, { timeout: 300_000 }, async (t) => {
  const skip = await skipUnlessReachable('mysql');
  if (skip.skip) return t.skip(skip.skip);
  const problems: string[] = [];
  const waits: number[] = [];
  await pool(2, ROW_LOCK_TRIALS, () => false, async (i) => {
    const db = await createTestDatabase('mysql');
    try {
      const seed = await atFirstStep(db.url); // from 28 the steps run one by one
      const step = rand(29, 64); // steps with real work left after it, so the kill lands before the run ends
      const first = startHeat(['db_sync'], { url: db.url, env: { ...RUN_ENV, ...ROW_LOCK_ENV }, timeoutMs: 120_000 });
      await first.waitFor(new RegExp(`-> 0${step} .*done`), 60_000);
      first.kill('SIGKILL');
      const k = await first.done;
      const held = await db.query('SELECT holder, host, pid FROM migrate_lock');
      if (held.length !== 1 || Number(held[0]!.pid) !== k.pid) problems.push(`trial ${i}: the dead holder's row is not there: ${JSON.stringify(held)}`);
      const second = await runHeat(['db_sync'], { url: db.url, env: { ...RUN_ENV, ...ROW_LOCK_ENV }, timeoutMs: 150_000 });
      const lines = logLines(second.stderr).map((l) => l.msg);
      for (const m of lines.filter((x) => /^waiting /.test(x))) {
        if (!new RegExp(`held by \\S+ pid ${k.pid} \\(cluster row lock\\)`).test(m)) problems.push(`trial ${i}: the waiting line should name the dead holder (pid ${k.pid}): ${m}`);
      }
      if (!lines.some((m) => /took over the migration lock .*lease had expired/.test(m))) {
        problems.push(`trial ${i}: the second run did not say it took the lock over`);
      }
      waits.push(second.ms);
      problems.push(...(await convergedProblems(db, second, new Set([k.pid, second.pid, seed.pid]), true)).map((p) => `trial ${i} (killed after ${step}): ${p}`));
    } finally {
      await db.drop();
    }
  });
  // And a few kills at random moments with the row lock (before, while and after taking it).
  const d = await normalRunMs('mysql', 2, ROW_LOCK_ENV);
  const outcomes: TrialOutcome[] = [];
  await pool(2, 4, () => false, async () => {
    outcomes.push(await trial('mysql', killAtRandom(() => d), { env: ROW_LOCK_ENV, rowLock: true, from28: true }));
  });
  t.diagnostic(`row lock: ${ROW_LOCK_TRIALS} holders killed and taken over; second runs took ${waits.map((w) => Math.round(w)).join(', ')} ms (lease 3 s)`);
  assert.deepEqual(problems, []);
  report(t, 'MariaDB row lock, random kills', outcomes);
});

// ------------------------------------------------------------------------------------------------
// The database server restarted in the middle of a run.

function spareSkip(kind: SpareKind): { skip?: string } {
  const reason = spareUnavailableReason(kind);
  return reason && process.env.CI !== 'true' ? { skip: reason } : {};
}

/** db_sync on `db` of the spare server, interrupted by `disrupt` once step `after` is done. */
async function restartTrial(
  server: SpareServer,
  db: string,
  after: number,
  disrupt: (p: ReturnType<typeof startHeat>) => Promise<void>,
): Promise<string[]> {
  await server.query(`CREATE DATABASE ${db}`);
  const url = server.url(db);
  await atFirstStep(url); // from 28 the steps run one by one
  const p = startHeat(['db_sync'], { url, env: RUN_ENV, timeoutMs: 120_000 });
  const problems: string[] = [];
  try {
    await p.waitFor(new RegExp(`-> 0${after} .*done`), 60_000);
    await disrupt(p);
    const r = await p.done;
    if (r.code !== 1) problems.push(`the interrupted run should exit 1: ${describeRun(r)}`);
    const lines = plainLines(r.stderr);
    if (lines.length !== 1 || !/^ERROR: .*(connection|server closed|terminat|ECONNRESET)/i.test(lines[0]!)) {
      problems.push(`the interrupted run should print one clear ERROR line about the lost connection, printed: ${JSON.stringify(lines)}`);
    }
  } finally {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await p.done;
  }
  if (!server.running) await server.start();
  const again = await runHeat(['db_sync'], { url, env: RUN_ENV, timeoutMs: 150_000 });
  if (again.code !== 0 || finalVersion(again.stderr) !== 71) return [...problems, `the next db_sync did not converge: ${describeRun(again)}`];
  const [v] = await server.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'", [], db);
  if (Number(v?.version) !== 71) problems.push(`migrate_version is ${String(v?.version)}`);
  const log = await stepLog((sql, params) => server.query(sql, params, db));
  problems.push(...exactlyOnceProblems(log));
  problems.push(...dumpDifferences(server.kind === 'mariadb' ? 'mysql' : 'postgresql', await dumpSpare(server, db)));
  return problems;
}

describe('the database server restarted in the middle of a run', { concurrency: true }, () => {
  test('MariaDB (a private server): paused restarts at three steps, a live restart, a crash', { ...spareSkip('mariadb'), timeout: 300_000 }, async (t) => {
    const server = await createSpareServer('mariadb');
    try {
      await server.start();
      const problems: string[] = [];
      const paused = async (p: ReturnType<typeof startHeat>) => {
        p.kill('SIGSTOP'); // mid-run for sure: it holds the lock and has steps left
        await server.restart();
        p.kill('SIGCONT');
      };
      for (const [i, step] of [33, 44, 56].entries()) {
        problems.push(...(await restartTrial(server, `heat_paused${i}`, step, paused)).map((x) => `paused at ${step}: ${x}`));
      }
      problems.push(...(await restartTrial(server, 'heat_live', 31, () => server.restart())).map((x) => `live restart: ${x}`));
      problems.push(
        ...(await restartTrial(server, 'heat_crash', 40, async () => {
          await server.crash();
          await server.start();
        })).map((x) => `crash: ${x}`),
      );
      t.diagnostic('MariaDB: 5 server restarts mid-run, each followed by a converging db_sync');
      assert.deepEqual(problems, []);
    } finally {
      await server.destroy();
    }
  });

  test('PostgreSQL (a private server): paused restarts at two steps, a live restart', { ...spareSkip('postgresql'), timeout: 300_000 }, async () => {
    const server = await createSpareServer('postgresql');
    try {
      await server.start();
      const problems: string[] = [];
      for (const [i, step] of [36, 52].entries()) {
        problems.push(
          ...(await restartTrial(server, `heat_paused${i}`, step, async (p) => {
            p.kill('SIGSTOP');
            await server.restart();
            p.kill('SIGCONT');
          })).map((x) => `paused at ${step}: ${x}`),
        );
      }
      problems.push(...(await restartTrial(server, 'heat_live', 31, () => server.restart())).map((x) => `live restart: ${x}`));
      assert.deepEqual(problems, []);
    } finally {
      await server.destroy();
    }
  });
});
