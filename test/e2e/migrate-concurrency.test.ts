/**
 * 8 `migrate upgrade` processes started at once against one freshly version-controlled database,
 * on each backend (issue; SPEC §12.1: the Python tool ran every script twice). Every process must
 * exit 0, every step must run exactly once (the scripts count their runs in `step_runs`; the
 * engine's `migrate_log` must hold one `done` row per step), each step line is printed by exactly
 * one process, and the final version is the latest.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable } from '../support/db.js';
import { removeDir, runMigrate, show, startMigrate, tableNames, tempDir, versionRows, writeRepo } from '../support/cli.js';

const PROCESSES = 8;
const STEPS = 3;

/** Step k: records its run, creates table ck; step 1 also waits a little to widen the race. */
function countingScript(k: number): string {
  return `export async function upgrade(migrate_engine) {
  await migrate_engine.execute('INSERT INTO step_runs (step, pid) VALUES (?, ?)', [${k}, process.pid]);
  ${k === 1 ? 'await new Promise((r) => setTimeout(r, 300));' : ''}
  await migrate_engine.execute('CREATE TABLE c${k} (id INTEGER)');
}
export async function downgrade(migrate_engine) {
  await migrate_engine.execute('DROP TABLE c${k}');
}
`;
}

describe(`${PROCESSES} concurrent upgrades`, () => {
  for (const d of ALL_DIALECTS) {
    test(d, async (t) => {
      const skip = await skipUnlessReachable(d);
      if (skip.skip) return t.skip(skip.skip);
      const db = await createTestDatabase(d);
      const dir = tempDir('migrate-conc-');
      try {
        const files: Record<string, string> = {};
        for (let k = 1; k <= STEPS; k++) files[`00${k}_step${k}.mjs`] = countingScript(k);
        const repo = writeRepo(join(dir, 'repo'), { files });
        await db.query('CREATE TABLE step_runs (step INTEGER NOT NULL, pid INTEGER NOT NULL)');
        const vc = await runMigrate(['version_control', db.url, repo]);
        assert.equal(vc.code, 0, show(vc));

        const started = Array.from({ length: PROCESSES }, () => startMigrate(['upgrade', db.url, repo], { timeoutMs: 120_000 }));
        const results = await Promise.all(started.map((s) => s.done));

        for (const r of results) {
          assert.equal(r.code, 0, show(r));
          assert.equal(r.stderr, '', show(r));
        }
        const runs = await db.query('SELECT step, COUNT(*) AS n FROM step_runs GROUP BY step ORDER BY step');
        assert.deepEqual(
          runs.map((r) => [Number(r.step), Number(r.n)]),
          Array.from({ length: STEPS }, (_, i) => [i + 1, 1]),
          'each step ran exactly once',
        );
        assert.deepEqual(await versionRows(db), [['sample', repo, STEPS]]);
        const done = await db.query("SELECT version_from, version_to, COUNT(*) AS n FROM migrate_log WHERE status = 'done' GROUP BY version_from, version_to ORDER BY version_from");
        assert.deepEqual(
          done.map((r) => [Number(r.version_from), Number(r.version_to), Number(r.n)]),
          Array.from({ length: STEPS }, (_, i) => [i, i + 1, 1]),
          'one done row per step in migrate_log',
        );
        const tables = await tableNames(db);
        for (let k = 1; k <= STEPS; k++) assert.ok(tables.includes(`c${k}`));
        // Each step line is printed once in all, always followed by done in the same process.
        const all = results.map((r) => r.stdout).join('');
        for (let k = 1; k <= STEPS; k++) {
          assert.equal(all.split(`${k - 1} -> ${k}... \n`).length - 1, 1, `"${k - 1} -> ${k}... " printed once:\n${all}`);
        }
        for (const r of results) {
          const lines = r.stdout.split('\n').filter(Boolean);
          for (let i = 0; i < lines.length; i += 2) {
            assert.match(lines[i]!, /^\d+ -> \d+\.\.\. $/, r.stdout);
            assert.equal(lines[i + 1], 'done', r.stdout);
          }
        }
      } finally {
        removeDir(dir);
        await db.drop();
      }
    });
  }
});
