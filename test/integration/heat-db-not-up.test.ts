/**
 * heat-manage started before its database (a container entrypoint racing the database container):
 * oslo.db's `[database] max_retries` (default 10, -1 = forever) and `retry_interval` (default 10 s),
 * set here through OS_DATABASE__MAX_RETRIES / OS_DATABASE__RETRY_INTERVAL.
 *
 *  - For real: `db_sync` against a private MariaDB and a private PostgreSQL on a spare loopback port
 *    (test/support/spare-server.ts) that the test starts ~3 s later; it logs each refused attempt,
 *    then succeeds: version 71 and the target schema.
 *  - Retries spent: exit 1 with exactly one `ERROR:` line saying it gave up after how many attempts;
 *    one warning per retry. max_retries = 0: no retry at all.
 *  - Not retried: an authentication error (unknown user) and an unknown database, on the shared
 *    servers: exit 1 at once, no retry warning, one clear line, no password in the output.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MYSQL_SERVER, PG_SERVER, skipUnlessReachable } from '../support/db.js';
import { describeRun, dumpDifferences, finalVersion, logLines, plainLines, startHeat, runHeat, type HeatResult } from '../support/heat-cli.js';
import { WRONG_PASSWORD } from '../support/secrets.js';
import { createSpareServer, dumpSpare, freePort, spareUnavailableReason, type SpareKind } from '../support/spare-server.js';

const LABEL: Record<SpareKind, string> = { mariadb: 'MariaDB', postgresql: 'PostgreSQL' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A spare server can run here; under CI=true a missing one fails instead of skipping. */
function spareSkip(kind: SpareKind): { skip?: string } {
  const reason = spareUnavailableReason(kind);
  return reason && process.env.CI !== 'true' ? { skip: reason } : {};
}

/** The warnings db_sync logs before each retry, with their attempt numbers. */
function retryWarnings(r: HeatResult): { attempt: number; msg: string }[] {
  return logLines(r.stderr)
    .filter((l) => /^database not reachable \(attempt \d+/.test(l.msg))
    .map((l) => ({ attempt: Number(/attempt (\d+)/.exec(l.msg)![1]), msg: l.msg }));
}

/** Exactly one human line on stderr, `ERROR: ...`, and no stack trace. */
function theErrorLine(r: HeatResult): string {
  const lines = plainLines(r.stderr);
  assert.equal(lines.length, 1, `exactly one plain line on stderr (besides JSON log lines): ${JSON.stringify(lines)}`);
  assert.match(lines[0]!, /^ERROR: \S/);
  return lines[0]!;
}

for (const kind of ['mariadb', 'postgresql'] as const) {
  const forever = kind === 'postgresql'; // -1 on one server, a finite budget on the other
  test(`${LABEL[kind]}: db_sync started before the server, which comes up ~3 s later, succeeds (max_retries ${forever ? '-1' : '30'}, retry_interval 1)`, { ...spareSkip(kind), timeout: 180_000 }, async (t) => {
    const server = await createSpareServer(kind);
    let heat: ReturnType<typeof startHeat> | undefined;
    try {
      // The database must exist (an unknown database is not retried): create it, then stop the server.
      await server.start();
      await server.query('CREATE DATABASE heat');
      await server.stop();

      const t0 = performance.now();
      heat = startHeat(['db_sync'], {
        url: server.url('heat'),
        env: { OS_DATABASE__MAX_RETRIES: forever ? '-1' : '30', OS_DATABASE__RETRY_INTERVAL: '1' },
        timeoutMs: 150_000,
      });
      await heat.waitFor(/database not reachable \(attempt 2\b/, 60_000); // two refusals at least, however slow the start
      await sleep(Math.max(0, 3000 - (performance.now() - t0)));
      const startedAfter = performance.now() - t0;
      await server.start();
      const r = await heat.done;

      assert.equal(r.code, 0, `db_sync exits 0 once the server is up: ${describeRun(r)}`);
      assert.equal(finalVersion(r.stderr), 71);
      const warnings = retryWarnings(r);
      assert.ok(warnings.length >= 2, `each refused attempt is logged (${warnings.length} warnings, server started after ${Math.round(startedAfter)} ms)`);
      assert.deepEqual(warnings.map((w) => w.attempt), warnings.map((_, i) => i + 1), 'attempts numbered 1, 2, 3, ...');
      for (const w of warnings) {
        assert.match(w.msg, /retrying in 1 s/);
        assert.match(w.msg, /ECONNREFUSED|refused/i, 'says why: the connection was refused');
        if (forever) assert.doesNotMatch(w.msg, /attempt \d+ of/, 'max_retries -1: no attempt budget to announce');
        else assert.match(w.msg, /attempt \d+ of 31\b/, 'max_retries 30: 31 attempts in all');
      }
      const [v] = await server.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'", [], 'heat');
      assert.equal(Number(v?.version), 71);
      assert.deepEqual(dumpDifferences(kind === 'mariadb' ? 'mysql' : 'postgresql', await dumpSpare(server, 'heat')), [], 'the schema equals the target dumps');
      t.diagnostic(`${LABEL[kind]}: server started ${Math.round(startedAfter)} ms after heat-manage; ${warnings.length} refused attempts logged; db_sync done after ${Math.round(r.ms)} ms`);
    } finally {
      heat?.kill('SIGKILL');
      await heat?.done;
      await server.destroy();
    }
  });
}

describe('retries spent', () => {
  for (const scheme of ['mysql+pymysql', 'postgresql'] as const) {
    test(`${scheme}: nothing listening, max_retries 2, retry_interval 1 -> 3 attempts, exit 1, one clear line`, { timeout: 60_000 }, async () => {
      const port = await freePort();
      const r = await runHeat(['db_sync'], {
        url: `${scheme}://root@127.0.0.1:${port}/heat`,
        env: { OS_DATABASE__MAX_RETRIES: '2', OS_DATABASE__RETRY_INTERVAL: '1' },
        timeoutMs: 50_000,
      });
      assert.equal(r.code, 1, describeRun(r));
      const line = theErrorLine(r);
      assert.match(line, /gave up after 3 attempts/);
      assert.match(line, /max_retries = 2, retry_interval = 1 s/);
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${port}`), 'names the server it could not reach');
      assert.deepEqual(retryWarnings(r).map((w) => w.attempt), [1, 2], 'one warning per retry');
      assert.ok(r.ms >= 2000, `it waited retry_interval between attempts (${Math.round(r.ms)} ms)`);
    });
  }

  test("oslo.db's defaults: max_retries 10 (11 attempts), retry_interval 10 s", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = startHeat(['db_sync'], { url: `postgresql://postgres@127.0.0.1:${port}/heat`, timeoutMs: 50_000 });
    try {
      const line = await p.waitFor(/database not reachable \(attempt 1\b/, 40_000);
      assert.match(line, /attempt 1 of 11\b/);
      assert.match(line, /retrying in 10 s/);
    } finally {
      p.kill('SIGKILL'); // not waiting 100 s for the budget to run out
      await p.done;
    }
  });

  test('max_retries 0: one attempt, no retry', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const r = await runHeat(['db_sync'], {
      url: `mysql+pymysql://root@127.0.0.1:${port}/heat`,
      env: { OS_DATABASE__MAX_RETRIES: '0', OS_DATABASE__RETRY_INTERVAL: '5' },
      timeoutMs: 50_000,
    });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(theErrorLine(r), /gave up after 1 attempts?\b/);
    assert.deepEqual(retryWarnings(r), []);
  });
});

describe('not retried: authentication errors and unknown databases', () => {
  const env = { OS_DATABASE__MAX_RETRIES: '5', OS_DATABASE__RETRY_INTERVAL: '5' };
  const cases = [
    { dialect: 'mysql', server: MYSQL_SERVER, what: 'an unknown user' },
    { dialect: 'postgresql', server: PG_SERVER, what: 'an unknown user' },
    { dialect: 'mysql', server: MYSQL_SERVER, what: 'an unknown database' },
    { dialect: 'postgresql', server: PG_SERVER, what: 'an unknown database' },
  ] as const;
  for (const c of cases) {
    test(`${c.dialect}: ${c.what} -> exit 1 at once, no retry`, async (t) => {
      const skip = await skipUnlessReachable(c.dialect);
      if (skip.skip) return t.skip(skip.skip);
      const u = new URL(c.server.replace(/^[a-z0-9+]+:/, 'http:'));
      const hostPort = `${u.hostname}:${u.port || (c.dialect === 'mysql' ? 3306 : 5432)}`;
      const scheme = c.dialect === 'mysql' ? 'mysql+pymysql' : 'postgresql';
      const missingDb = `heat_no_such_db_${randomBytes(4).toString('hex')}`;
      const url =
        c.what === 'an unknown user'
          ? `${scheme}://heat_no_such_user:${encodeURIComponent(WRONG_PASSWORD)}@${hostPort}/heat`
          : `${scheme}://${u.username || (c.dialect === 'mysql' ? 'root' : 'postgres')}${u.password ? `:${u.password}` : ''}@${hostPort}/${missingDb}`;
      const r = await runHeat(['db_sync'], { url, env, timeoutMs: 60_000 });
      assert.equal(r.code, 1, describeRun(r));
      assert.deepEqual(retryWarnings(r), [], 'not retried');
      const line = theErrorLine(r);
      if (c.what === 'an unknown user') {
        assert.match(line, /heat_no_such_user|Access denied|role/i);
        assert.match(line, /user name and password/, 'says what to check');
      } else {
        assert.match(line, new RegExp(missingDb), 'names the missing database');
        assert.match(line, /create the database first/, 'says what to do');
      }
      assert.ok(!r.stderr.includes(WRONG_PASSWORD) && !r.stdout.includes(WRONG_PASSWORD), 'no password in the output');
    });
  }
});
