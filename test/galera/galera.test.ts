/**
 * heat-manage db_sync on a real 3-node MariaDB Galera cluster (test/galera/cluster.ts starts and
 * stops it). Not part of `npm test`: run `scripts/galera-test.sh` (docs/GALERA.md).
 *
 *  - GET_LOCK is node-local on Galera (why the engine uses a row lock there), and the row lock
 *    (migrate/dialect/row-lock.ts) lets exactly one of two takers on different nodes in;
 *  - 12 db_sync processes, 4 through each node, at once on an empty database: all succeed, every
 *    step is applied exactly once, version 71 and the target schema on all three nodes;
 *  - a holder killed with SIGKILL: after its lease (MIGRATE_LOCK_LEASE=3) one of two waiters on
 *    the other nodes takes the lock over and the database converges to 71;
 *  - a node cut off from the cluster (gmcast.isolate=1) answers 1047: db_sync through it retries
 *    ([database] max_retries / retry_interval) and succeeds once the node rejoins; with
 *    max_retries = 0 it gives up with a clear message;
 *  - a node dropping out just as db_sync starts through it (1205 for ~6 s, then 1047): db_sync
 *    retries (row-lock.ts treats 1047/1205 while taking the lock as "node not ready") and succeeds.
 *
 * Skipped (with the reason) when galera-4/mariadb-server/rsync are missing, unless CI=true.
 * Reads that check results use causal reads (wsrep_sync_wait = 1) on every node. With env
 * GALERA_TEST_LOGS=<dir>, every db_sync's output is kept there as <database>-node<n>-pid<pid>.log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LockTimeoutError } from '../../migrate/errors.js';
import { openSession } from '../../migrate/session.js';
import { RowLock } from '../../migrate/dialect/row-lock.js';
import type { Logger } from '../../migrate/script/contract.js';
import { logLines as heatLogLines, type LogLine } from '../support/heat-cli.js';
import { recordOutput } from '../support/secrets.js';
import { galeraMissing, startCluster, type GaleraCluster } from './cluster.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/galera
const HEAT_MANAGE = resolve(here, '../../bin/heat-manage.js');
const DUMP_NODE = join(here, 'dump-node.js');
const FIXTURES = resolve(here, '../../../test/fixtures/heat-schema');
const FIRST = 27;
const LATEST = 71;

const missing = galeraMissing();
const skip = missing && process.env.CI !== 'true' ? missing : false;
const silent: Logger = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let cluster: GaleraCluster;
let work: string;
let emptyConf: string;

interface Run {
  readonly node: number;
  readonly pid: number;
  readonly child: import('node:child_process').ChildProcess;
  stdout: string;
  stderr: string;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts `heat-manage db_sync` through node `i` (0-based) on database `db`. */
function dbSync(i: number, db: string, env: Record<string, string> = {}, version?: number): Run {
  const t0 = performance.now();
  const child = spawn(process.execPath, [HEAT_MANAGE, '--config-file', emptyConf, 'db_sync', ...(version === undefined ? [] : [String(version)])], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: work,
      OS_DATABASE__CONNECTION: `mysql+pymysql://root@127.0.0.1:${cluster.nodes[i]!.port}/${db}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = {
    node: i,
    pid: child.pid!,
    child,
    stdout: '',
    stderr: '',
    done: new Promise((res) =>
      child.on('close', (code, signal) => {
        recordOutput(run.stdout, run.stderr);
        if (process.env.GALERA_TEST_LOGS) {
          mkdirSync(process.env.GALERA_TEST_LOGS, { recursive: true });
          writeFileSync(join(process.env.GALERA_TEST_LOGS, `${db}-node${i + 1}-pid${run.pid}.log`), `${run.stdout}${run.stderr}exit ${code ?? signal}\n`);
        }
        res({ code, signal, ms: performance.now() - t0 });
      }),
    ),
  };
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  return run;
}

/** The log lines of a run (oslo.log lines: heat-cli.ts's parser). */
function logLines(r: Run): LogLine[] {
  return heatLogLines(r.stderr);
}

const describeRun = (r: Run) => `db_sync pid ${r.pid} via node${r.node + 1}:\n${r.stderr.slice(-3000)}`;

/** Creates a database on node1 and waits until every node has it. */
async function createDatabase(name: string): Promise<void> {
  await cluster.query(0, `CREATE DATABASE \`${name}\``);
  for (let i = 0; i < cluster.nodes.length; i++) {
    const rows = await cluster.queryCausal(i, 'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    assert.equal(rows.length, 1, `database ${name} replicated to node${i + 1}`);
  }
}

/** Dumps `db` on node `i` with test/support/dump.ts (in a child: its server comes from env). */
async function dumpNode(i: number, db: string): Promise<Record<string, string>> {
  // A causal read first: the node has applied everything the cluster committed before it.
  await cluster.queryCausal(i, 'SELECT version FROM migrate_version', [], db);
  const child = spawn(process.execPath, [DUMP_NODE, db], {
    env: { PATH: process.env.PATH ?? '', TEST_MYSQL_URL: cluster.nodes[i]!.server },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, `dump of ${db} on node${i + 1} failed: ${err}`);
  return JSON.parse(out) as Record<string, string>;
}

/**
 * Version 71, exactly one 'done' migrate_log row per step, none failed, no step left running (but
 * at most one of `killed`, a process killed mid-step), and the target schema, on every node.
 */
async function assertConverged(db: string, pids: readonly number[], killed?: number): Promise<void> {
  const target = {
    columns: readFileSync(join(FIXTURES, 'mysql-71-columns.tsv'), 'utf8'),
    indexes: readFileSync(join(FIXTURES, 'mysql-71-indexes.tsv'), 'utf8'),
    indexesExt: readFileSync(join(FIXTURES, 'mysql-71-indexes-ext.tsv'), 'utf8'),
    fks: readFileSync(join(FIXTURES, 'mysql-71-fks.tsv'), 'utf8'),
  };
  for (let i = 0; i < cluster.nodes.length; i++) {
    const node = `node${i + 1}`;
    const v = await cluster.queryCausal(i, "SELECT version FROM migrate_version WHERE repository_id = 'heat'", [], db);
    assert.deepEqual(v.map((r) => Number(r.version)), [LATEST], `version on ${node}`);
    const done = await cluster.queryCausal(
      i,
      "SELECT version_from, version_to, COUNT(*) AS n FROM migrate_log WHERE status = 'done' AND direction = 'upgrade' GROUP BY version_from, version_to ORDER BY version_from",
      [],
      db,
    );
    // A chain FIRST -> ... -> LATEST, each link once: steps, or a fresh install 27 -> N (migrate/fresh.ts).
    const chain = done.map((r) => ({ from: Number(r.version_from), to: Number(r.version_to), n: Number(r.n) }));
    assert.ok(
      chain.length > 0 && chain[0]!.from === FIRST && chain.at(-1)!.to === LATEST && chain.every((c, k) => c.n === 1 && (k === 0 || c.from === chain[k - 1]!.to)),
      `each version reached exactly once (migrate_log on ${node}): ${JSON.stringify(chain)}`,
    );
    const strangers = await cluster.queryCausal(i, "SELECT DISTINCT pid FROM migrate_log WHERE status = 'done'", [], db);
    for (const r of strangers) assert.ok(pids.includes(Number(r.pid)), `done rows come from our db_sync processes (pid ${String(r.pid)})`);
    const failed = await cluster.queryCausal(i, "SELECT COUNT(*) AS n FROM migrate_log WHERE status = 'failed'", [], db);
    assert.equal(Number(failed[0]!.n), 0, `no failed step on ${node}`);
    const running = await cluster.queryCausal(i, "SELECT pid FROM migrate_log WHERE status = 'running'", [], db);
    assert.ok(
      running.length === 0 || (running.length === 1 && Number(running[0]!.pid) === killed),
      `no step left running but the killed holder's (${node}: ${JSON.stringify(running)})`,
    );
    const lock = await cluster.queryCausal(i, 'SELECT COUNT(*) AS n FROM migrate_lock', [], db);
    assert.equal(Number(lock[0]!.n), 0, `the lock row was released (${node})`);
    const dump = await dumpNode(i, db);
    for (const k of ['columns', 'indexes', 'indexesExt', 'fks'] as const) {
      assert.equal(dump[k], target[k], `${k} of ${db} on ${node} equal test/fixtures/heat-schema/mysql-71-*`);
    }
  }
}

describe('heat-manage db_sync on a 3-node MariaDB Galera cluster', { skip, timeout: 900_000 }, () => {
  before(
    async () => {
      cluster = await startCluster({ log: (s) => process.stderr.write(`# ${s}\n`) });
      // Inside the cluster's dir: removed with it, even when this process is killed.
      work = join(cluster.dir, 'work');
      mkdirSync(work);
      emptyConf = join(work, 'heat.conf');
      writeFileSync(emptyConf, '[DEFAULT]\n', { mode: 0o600 });
      const t = cluster.timings;
      process.stderr.write(
        `# galera timings: install ${(t.installMs / 1000).toFixed(1)} s, bootstrap ${(t.bootstrapMs / 1000).toFixed(1)} s, joins ${t.joinMs.map((m) => (m / 1000).toFixed(1)).join(' + ')} s, total ${(t.totalMs / 1000).toFixed(1)} s\n`,
      );
    },
    { timeout: 300_000 },
  );
  after(async () => {
    await cluster?.stop();
  });

  test('GET_LOCK is node-local: node1 and node2 both get the same lock at once', async () => {
    const mysql = await import('mysql2/promise');
    const open = (i: number) => mysql.createConnection({ host: '127.0.0.1', port: cluster.nodes[i]!.port, user: 'root' });
    const [a, a2, b] = await Promise.all([open(0), open(0), open(1)]);
    try {
      const got = async (c: typeof a) => Number(((await c.query("SELECT GET_LOCK('migrate:galera-probe', 0) AS g"))[0] as { g: unknown }[])[0]!.g);
      assert.equal(await got(a), 1, 'node1 takes the lock');
      assert.equal(await got(a2), 0, 'a second session on node1 does not (the lock is real, locally)');
      assert.equal(await got(b), 1, 'node2 takes it too while node1 holds it: GET_LOCK does not span the cluster');
    } finally {
      await Promise.all([a.end(), a2.end(), b.end()]);
    }
  });

  test('row lock: of two takers on node1 and node2 at once, exactly one gets in (10 rounds)', async () => {
    const db = 'galera_rowlock';
    await createDatabase(db);
    const urls = [0, 1].map((i) => `mysql://root@127.0.0.1:${cluster.nodes[i]!.port}/${db}`);
    const [s1, s2] = await Promise.all(urls.map((u) => openSession(u)));
    try {
      for (let round = 0; round < 10; round++) {
        const key = `probe:${round}`;
        const locks = urls.map((u) => new RowLock(key, { leaseS: 30, logger: silent, openAux: () => openSession(u) }));
        const res = await Promise.allSettled([locks[0]!.tryTake(s1!, 700), locks[1]!.tryTake(s2!, 700)]);
        const failed = res.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.deepEqual(failed.map((f) => String(f.reason)), [], `round ${round}: neither taker fails`);
        const taken = res.map((r) => r.status === 'fulfilled' && r.value);
        assert.equal(taken.filter(Boolean).length, 1, `round ${round}: exactly one taker holds the lock; the other one timed out waiting (${taken.join(', ')})`);
        const w = taken[0] ? 0 : 1;
        assert.equal(await locks[w]!.release(w === 0 ? s1! : s2!), true, `round ${round}: the winner releases its own row`);
      }
    } finally {
      await Promise.all([s1!.close(), s2!.close()]);
      await cluster.query(0, `DROP DATABASE \`${db}\``);
    }
  });

  test('12 db_sync processes, 4 through each node, at once on an empty database', { timeout: 600_000 }, async () => {
    const db = 'galera_sync12';
    await createDatabase(db);
    const t0 = performance.now();
    const runs: Run[] = [];
    for (let k = 0; k < 12; k++) runs.push(dbSync(k % 3, db));
    const results = await Promise.all(runs.map((r) => r.done));
    const wallMs = performance.now() - t0;
    results.forEach((res, k) => assert.equal(res.code, 0, `exit code of ${describeRun(runs[k]!)}`));
    await assertConverged(
      db,
      runs.map((r) => r.pid),
    );
    const doers = await cluster.queryCausal(0, "SELECT pid, COUNT(*) AS n FROM migrate_log WHERE status = 'done' GROUP BY pid", [], db);
    // The race was real: processes on other nodes than a step-applier's waited for the row lock.
    const applierNodes = new Set(doers.map((d) => runs.find((r) => r.pid === Number(d.pid))!.node));
    const waiters = runs.filter((r) => logLines(r).some((l) => /waiting up to .* \(cluster row lock\)/.test(l.msg)));
    assert.ok(
      waiters.some((w) => !applierNodes.has(w.node)),
      `some process on another node waited for the cluster row lock (waiters: ${waiters.map((w) => `node${w.node + 1}`).join(', ') || 'none'})`,
    );
    process.stderr.write(
      `# 12 x db_sync: ${(wallMs / 1000).toFixed(1)} s wall; ${waiters.length} waited for the row lock; steps applied by ${doers.map((d) => `pid ${String(d.pid)} (node${runs.find((r) => r.pid === Number(d.pid))!.node + 1}): ${String(d.n)}`).join(', ')}; per process ${results.map((r) => (r.ms / 1000).toFixed(1)).join(' ')} s\n`,
    );
    await cluster.query(0, `DROP DATABASE \`${db}\``);
  });

  test('a holder killed with SIGKILL: a waiter on another node takes the lock over after the lease and converges', { timeout: 600_000 }, async () => {
    const db = 'galera_takeover';
    await createDatabase(db);
    const env = { MIGRATE_LOCK_LEASE: '3' };
    // From 28 the steps run one by one (an empty database gets 71 in one step): a holder killed a few steps in.
    const first = dbSync(0, db, env, 28);
    assert.equal((await first.done).code, 0);
    const holder = dbSync(0, db, env);
    // Kill it while it holds the lock, a few steps in.
    let progressed = 0;
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const [r] = await cluster.query(0, "SELECT COUNT(*) AS n FROM migrate_log WHERE status = 'done'", [], db);
        progressed = Number(r!.n);
      } catch {
        /* migrate_log not created yet */
      }
      if (progressed >= 7) break;
      if (Date.now() > deadline) assert.fail(`the holder made no progress: ${describeRun(holder)}`);
      await sleep(20);
    }
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    const hres = await holder.done;
    assert.equal(hres.signal, 'SIGKILL');
    const readAt = Date.now();
    const [lockRow] = await cluster.queryCausal(1, 'SELECT pid, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), expires_at) AS left_us FROM migrate_lock', [], db);
    assert.equal(Number(lockRow?.pid), holder.pid, 'the killed process still holds the lock row');
    // Nobody renews it any more: the lease runs out at this (Node clock) time.
    const expiresAt = readAt + Number(lockRow!.left_us) / 1000;
    const [vk] = await cluster.queryCausal(1, 'SELECT version FROM migrate_version', [], db);
    const versionAtKill = Number(vk!.version);
    assert.ok(versionAtKill < LATEST, `killed midway (at version ${versionAtKill})`);

    // Two waiters, on node2 and node3: exactly one takes the expired lease over.
    const waiters = [dbSync(1, db, env), dbSync(2, db, env)];
    const wres = await Promise.all(waiters.map((w) => w.done));
    wres.forEach((r, k) => assert.equal(r.code, 0, `exit code of ${describeRun(waiters[k]!)}`));
    const takeovers = waiters.flatMap((w) => logLines(w).filter((l) => /took over the migration lock/.test(l.msg)).map((l) => ({ w, l })));
    assert.equal(takeovers.length, 1, `exactly one waiter took the lock over:\n${waiters.map(describeRun).join('\n')}`);
    const waitedMs = takeovers[0]!.l.time - killedAt;
    // Not before the lease ran out (100 ms for the round trip of the read), and soon after.
    assert.ok(takeovers[0]!.l.time >= expiresAt - 100, `the lease was respected: taken over ${Math.round(takeovers[0]!.l.time - expiresAt)} ms after it ran out`);
    assert.ok(takeovers[0]!.l.time < expiresAt + 30_000, `taken over soon after the lease ran out (${Math.round(takeovers[0]!.l.time - expiresAt)} ms)`);
    await assertConverged(db, [first.pid, holder.pid, ...waiters.map((w) => w.pid)], holder.pid);
    process.stderr.write(
      `# takeover: killed at version ${versionAtKill} after ${progressed} steps; taken over by node${takeovers[0]!.w.node + 1} ${waitedMs} ms after the kill (lease ran out ${Math.round(expiresAt - killedAt)} ms after it); waiters ran ${wres.map((r) => (r.ms / 1000).toFixed(1)).join(' and ')} s\n`,
    );
    await cluster.query(0, `DROP DATABASE \`${db}\``);
  });

  test('a node cut off from the cluster (1047): db_sync through it retries and succeeds once it rejoins', { timeout: 600_000 }, async () => {
    const db = 'galera_isolated';
    await createDatabase(db);
    const t0 = performance.now();
    await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
    let healed = false;
    try {
      // Wait until node3 knows it is alone: table access then fails with 1047.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = await cluster.status(2);
        if (s.wsrep_ready === 'OFF') break;
        if (Date.now() > deadline) assert.fail(`node3 still ready after isolation: ${JSON.stringify(s)}`);
        await sleep(200);
      }
      const isolatedMs = performance.now() - t0;
      await assert.rejects(cluster.query(2, 'CREATE TABLE probe (id INT PRIMARY KEY)', [], db), (e: { errno?: number }) => e.errno === 1047, 'node3 answers 1047');

      // max_retries = 0: one attempt, a clear error.
      const once = dbSync(2, db, { OS_DATABASE__MAX_RETRIES: '0', OS_DATABASE__RETRY_INTERVAL: '1' });
      const ores = await once.done;
      assert.equal(ores.code, 1, `with max_retries = 0 it gives up: ${describeRun(once)}`);
      assert.match(once.stderr, /ERROR: .*not ready.*gave up after 1 attempts/, describeRun(once));

      // max_retries = 60: it keeps retrying; heal node3 after it has retried twice.
      const run = dbSync(2, db, { OS_DATABASE__MAX_RETRIES: '60', OS_DATABASE__RETRY_INTERVAL: '1' });
      const retryDeadline = Date.now() + 60_000;
      while (logLines(run).filter((l) => /not ready/.test(l.msg) && /retrying/.test(l.msg)).length < 2) {
        if (Date.now() > retryDeadline || run.child.exitCode !== null) assert.fail(`db_sync did not retry on 1047: ${describeRun(run)}`);
        await sleep(100);
      }
      const th = performance.now();
      await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
      healed = true;
      const res = await run.done;
      const afterHealMs = performance.now() - th;
      assert.equal(res.code, 0, `exit code of ${describeRun(run)}`);
      await cluster.waitSynced(2);
      const retries = logLines(run).filter((l) => /retrying/.test(l.msg)).length;
      await assertConverged(db, [run.pid]);
      process.stderr.write(
        `# 1047: node3 not ready ${(isolatedMs / 1000).toFixed(1)} s after isolation; db_sync retried ${retries} times and finished ${(afterHealMs / 1000).toFixed(1)} s after the heal\n`,
      );
    } finally {
      if (!healed) await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'").catch(() => undefined);
      await cluster.waitSynced(2).catch(() => undefined);
    }
    await cluster.query(0, `DROP DATABASE \`${db}\``);
  });

  // A node cut off from its peers does not know it for ~5-6 s (evs.suspect_timeout): meanwhile
  // its reads work, but DDL, commits and causal reads block and then fail with 1205, not 1047.
  test(
    'a node dropping out as db_sync starts through it (1205, then 1047): db_sync retries and succeeds once it rejoins',
    { timeout: 600_000 },
    async () => {
      const db = 'galera_dropping';
      await createDatabase(db);
      await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
      let healed = false;
      try {
        const run = dbSync(2, db, { OS_DATABASE__MAX_RETRIES: '60', OS_DATABASE__RETRY_INTERVAL: '1' });
        const retryDeadline = Date.now() + 60_000;
        while (logLines(run).filter((l) => /not ready/.test(l.msg) && /retrying/.test(l.msg)).length < 2) {
          if (run.child.exitCode !== null) assert.fail(`db_sync gave up instead of retrying: ${describeRun(run)}`);
          if (Date.now() > retryDeadline) assert.fail(`db_sync did not retry: ${describeRun(run)}`);
          await sleep(100);
        }
        await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
        healed = true;
        const res = await run.done;
        assert.equal(res.code, 0, `exit code of ${describeRun(run)}`);
        const first = logLines(run).find((l) => /retrying/.test(l.msg));
        assert.match(first!.msg, /error 1205/, `the first failure was the dropping-out node's 1205: ${first!.msg}`);
        await cluster.waitSynced(2);
        await assertConverged(db, [run.pid]);
      } finally {
        if (!healed) await cluster.query(2, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'").catch(() => undefined);
        await cluster.waitSynced(2).catch(() => undefined);
      }
      await cluster.query(0, `DROP DATABASE \`${db}\``);
    },
  );
});
