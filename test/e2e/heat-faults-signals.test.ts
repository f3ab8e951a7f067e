/**
 * Fault matrix, part 4: signals (issue 9). SIGTERM/SIGINT at random moments of a db_sync, with
 * heat-manage as an ordinary child and as PID 1 of a PID namespace (a container's command without
 * an init: `unshare --pid --fork --kill-child --mount-proc`), and through deploy/'s entrypoint.
 *
 * Each case asserts: the run ends within a few seconds of the signal with exit 143 (SIGTERM) or
 * 130 (SIGINT) and one ERROR line naming the signal; the log says which step was interrupted and
 * that the next run resumes it; nothing of ours is left running on the server (no statement, no
 * migration lock); and the next db_sync converges to the exact schema, each step applied once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_DIALECTS, createTestDatabase, serverQuery, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { HEAT_MANAGE, describeRun, exactlyOnceProblems, plainLines, runHeat, startHeat, stepLog, type HeatProcess, type HeatResult } from '../support/heat-cli.js';
import { PID1_WRAP, assertConverged, assertOk, atFirstStep, childOf, errorLine, hasLog, pidNamespaceUnavailable, scratchDir } from '../support/faults.js';

const TIMEOUT = 240_000;
const ENTRYPOINT = fileURLToPath(new URL('../../../deploy/entrypoint.sh', import.meta.url));
/** "Promptly": the run must be over this long after the signal. */
const PROMPT_MS = 5_000;
const EXIT: Record<'SIGTERM' | 'SIGINT', number> = { SIGTERM: 143, SIGINT: 130 };
const pid1Skip = pidNamespaceUnavailable();

/** Our sessions still on the server for this database (statements, sleeping connections). */
async function ourSessions(db: TestDatabase): Promise<string[]> {
  if (db.dialect === 'mysql') {
    const rows = await serverQuery('mysql', 'SELECT ID, COMMAND, STATE, INFO FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [db.name]);
    return rows.map((r) => JSON.stringify(r));
  }
  if (db.dialect === 'postgresql') {
    const rows = await serverQuery('postgresql', 'SELECT pid, state, query FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()', [db.name]);
    return rows.map((r) => JSON.stringify(r));
  }
  return [];
}

/** Sessions disappear a moment after the client's socket closes: wait for that (bounded). */
async function noSessionsLeft(db: TestDatabase): Promise<void> {
  let left: string[] = [];
  for (let i = 0; i < 50; i++) {
    left = await ourSessions(db);
    if (!left.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(left, [], 'nothing of ours left on the server');
}

/** The interrupted run: exit 128+n within PROMPT_MS, one ERROR line, the step and "resume" logged. */
function assertInterrupted(r: HeatResult, sig: 'SIGTERM' | 'SIGINT', sentAt: number): void {
  assert.ok(performance.now() - sentAt < PROMPT_MS, `ended within ${PROMPT_MS} ms of ${sig}\n${describeRun(r)}`);
  errorLine(r, new RegExp(`interrupted by ${sig}`), EXIT[sig]);
  assert.ok(hasLog(r, new RegExp(`${sig}.*(step \\d{3} -> \\d{3}|before the first step|waiting)`), 40), `logs where it was interrupted\n${describeRun(r)}`);
}

/** Converged after the interruption, every step applied exactly once. */
async function nextRunConverges(db: TestDatabase): Promise<void> {
  await noSessionsLeft(db);
  const again = await runHeat(['db_sync'], { url: db.url });
  assertOk(again);
  await assertConverged(db);
  if (db.dialect !== 'sqlite') assert.deepEqual(exactlyOnceProblems(await stepLog(db.query)), []);
}

/**
 * db_sync on a fresh database, `sig` sent at a random moment between the first step and the end
 * (after a random step's done line; a trial whose run finished first is repeated, up to 5 times). `pid1`: run as PID 1.
 */
async function signalTrial(dialect: TestDialect, sig: 'SIGTERM' | 'SIGINT', pid1: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const db = await createTestDatabase(dialect);
    try {
      await atFirstStep(db.url); // an empty database would get 71 in one step: the signal is aimed inside the steps
      const p = startHeat(['db_sync'], { url: db.url, wrap: pid1 ? PID1_WRAP : undefined });
      const target = pid1 ? await childOf(p.pid) : p.pid;
      // A random moment inside the run whatever the machine's speed (a whole db_sync takes ~0.4 s on
      // an idle machine and many seconds under load): right after a random step 028..065, plus a
      // little random time, so that the signal lands inside a step or between two.
      const after = 28 + Math.floor(Math.random() * 38);
      await p.waitFor(new RegExp(`-> ${String(after).padStart(3, '0')} .*done`));
      await new Promise((r) => setTimeout(r, Math.random() * 15));
      const sentAt = performance.now();
      try {
        process.kill(target, sig);
      } catch {
        // already exited: the run finished before the signal
      }
      const r = await p.done;
      if (r.code === 0 && attempt < 5) continue; // finished before the signal: not a trial
      assertInterrupted(r, sig, sentAt);
      await nextRunConverges(db);
      return;
    } finally {
      await db.drop();
    }
  }
}

for (const dialect of ALL_DIALECTS) {
  describe(`fault matrix: signals on ${dialect}`, { ...(await skipUnlessReachable(dialect)), concurrency: 2, timeout: TIMEOUT }, () => {
    test(`G1 ${dialect}: SIGTERM at a random moment: exit 143 within 5 s, step logged, nothing left on the server; the next run converges`, () =>
      signalTrial(dialect, 'SIGTERM', false));

    test(`G2 ${dialect}: SIGTERM at a random moment with heat-manage as PID 1 (was: ignored until the end)`, { skip: pid1Skip ?? undefined }, () =>
      signalTrial(dialect, 'SIGTERM', true));

    test(`G3 ${dialect}: SIGINT (Ctrl-C) at a random moment: exit 130`, () => signalTrial(dialect, 'SIGINT', false));
  });
}

describe('fault matrix: signals while waiting', { concurrency: 3, timeout: TIMEOUT }, () => {
  test('G4 SIGTERM as PID 1 while waiting for a database that is not up (retry sleep): exit 143 at once', { skip: pid1Skip ?? undefined }, async () => {
    const p = startHeat(['db_sync'], {
      url: 'mysql+pymysql://heat@127.0.0.1:1/heat',
      env: { OS_DATABASE__MAX_RETRIES: '-1', OS_DATABASE__RETRY_INTERVAL: '30' },
      wrap: PID1_WRAP,
    });
    const target = await childOf(p.pid);
    await p.waitFor(/database not reachable/);
    const sentAt = performance.now();
    process.kill(target, 'SIGTERM');
    const r = await p.done;
    assert.ok(performance.now() - sentAt < PROMPT_MS, describeRun(r));
    errorLine(r, /interrupted by SIGTERM/, 143);
  });

  test('G5 MariaDB, SIGTERM as PID 1 while waiting for another db_sync\'s migration lock: exit 143 at once, its GET_LOCK wait cancelled on the server', async (t) => {
    if (pid1Skip) return t.skip(pid1Skip);
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const db = await createTestDatabase('mysql');
    const mysql = await import('mysql2/promise');
    const holder = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: db.name });
    try {
      await holder.query('SELECT GET_LOCK(?, 0)', [`migrate:${db.name}:migrate_version:heat`]);
      const p = startHeat(['db_sync'], { url: db.url, wrap: PID1_WRAP });
      const target = await childOf(p.pid);
      await p.waitFor(/waiting up to 120 s for the migration lock/);
      const sentAt = performance.now();
      process.kill(target, 'SIGTERM');
      const r = await p.done;
      assert.ok(performance.now() - sentAt < PROMPT_MS, describeRun(r));
      errorLine(r, /interrupted by SIGTERM/, 143);
      const waiting = await serverQuery('mysql', "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK%' AND DB = ?", [db.name]);
      assert.deepEqual(waiting, [], 'no GET_LOCK of ours left waiting');
    } finally {
      await holder.end();
      await db.drop();
    }
  });

  test('G7 SQLite, SIGTERM as PID 1 while waiting for the write lock another process holds: exit 143 at once (was: blocked in the driver)', async (t) => {
    if (pid1Skip) return t.skip(pid1Skip);
    const db = await createTestDatabase('sqlite');
    try {
      assertOk(await runHeat(['db_sync', '40'], { url: db.url }));
      const Database = (await import('better-sqlite3')).default;
      const holder = new Database(db.file!);
      holder.exec('BEGIN IMMEDIATE');
      try {
        const p = startHeat(['db_sync'], { url: db.url, wrap: PID1_WRAP, env: { OS_DATABASE__MIGRATION_LOCK_TIMEOUT: '60' } });
        const target = await childOf(p.pid);
        await p.waitFor(/waiting \d+ s for the SQLite write lock/, 30_000);
        const sentAt = performance.now();
        process.kill(target, 'SIGTERM');
        const r = await p.done;
        assert.ok(performance.now() - sentAt < PROMPT_MS, describeRun(r));
        errorLine(r, /interrupted by SIGTERM while waiting for the migration lock; nothing was applied/, 143);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      await nextRunConverges(db);
    } finally {
      await db.drop();
    }
  });

  test("G6 deploy/'s entrypoint as PID 1: SIGTERM mid-sync reaches heat-manage; exit 143, the command is not started; the next run converges", async (t) => {
    if (pid1Skip) return t.skip(pid1Skip);
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const bin = scratchDir('heat-faults-bin-');
    chmodSync(bin, 0o755);
    writeFileSync(join(bin, 'heat-manage'), `#!/bin/sh\nexec "${process.execPath}" "${HEAT_MANAGE}" "$@"\n`, { mode: 0o755 });
    const db = await createTestDatabase('mysql');
    try {
      const marker = join(bin, 'started');
      await atFirstStep(db.url);
      const p: HeatProcess = startHeat([], {
        bare: true,
        url: db.url,
        env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
        // unshare ... sh entrypoint.sh COMMAND, COMMAND = `sh -c 'touch "$0"' MARKER` (startHeat appends
        // node and heat-manage.js: arguments the command ignores)
        wrap: [...PID1_WRAP, 'sh', ENTRYPOINT, 'sh', '-c', 'touch "$0"', marker],
      });
      const shell = await childOf(p.pid);
      await p.waitFor(/-> 030 .*done/);
      const sentAt = performance.now();
      process.kill(shell, 'SIGTERM');
      const r = await p.done;
      assert.ok(performance.now() - sentAt < PROMPT_MS, describeRun(r));
      assert.equal(r.code, 143, describeRun(r));
      assert.ok(plainLines(r.stderr).some((l) => /interrupted by SIGTERM/.test(l)), describeRun(r));
      assert.ok(plainLines(r.stderr).some((l) => /^heat-entrypoint: heat-manage db_sync failed \(exit 143\)/.test(l)), describeRun(r));
      assert.ok(!existsSync(marker), 'the command was not started');
      await nextRunConverges(db);
    } finally {
      await db.drop();
    }
  });
});
