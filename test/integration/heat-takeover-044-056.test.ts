/**
 * Steps 044..056 against states the real-Heat crash fixtures (heat-takeover.test.ts) do not hold,
 * on every backend (SQLite included: its steps are never half applied by our run, but a database
 * another tool left is): a half-applied step that db_check names and db_sync finishes with the
 * seed's data; the one state of these steps whose data is gone (056: stack.parameters dropped before
 * its copy), refused with the reason; a state no run of the step makes (055's columns out of Heat's
 * order), refused. A refusal changes nothing. And `--preview_sql` over several steps, where the
 * live catalog is that of the first step's start, still shows each step's full SQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';
import { runMigrate } from '../support/cli.js';
import { runHeat } from '../support/heat-cli.js';
import { heatUpgrade, heatVersionControl, HEAT_REPO } from '../support/heat-run.js';
import { seededAt, stateOf } from '../support/heat-gate.js';
import { checkSeedAt71 } from '../support/heat-seed.js';

/** db_sync refuses with exactly one ERROR line matching `re`, and leaves the database as it was. */
async function refused(db: TestDatabase, re: RegExp): Promise<void> {
  const before = await stateOf(db);
  const r = await runHeat(['db_sync'], { url: db.url });
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('ERROR: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, re);
  assert.equal(await stateOf(db), before);
}

await forEachDialect('takeover of steps 044..056', (dialect) => {
  test("047 half applied as real Heat leaves it (column added, depths back-filled 0): db_check names it, db_sync finishes to 71 with the data", async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 46);
      await db.query('ALTER TABLE stack ADD COLUMN nested_depth INTEGER');
      await db.query('UPDATE stack SET nested_depth = 0');
      const c = await runHeat(['db_check'], { url: db.url });
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stdout, /^schema differs from version 046's /);
      assert.match(c.stdout, /step 047 \(047_stack_nested_depth\.js\) is half applied: its schema changes are all applied; stack\.nested_depth added, 0 stacks not yet back-filled .*`heat-manage db_sync` will finish it\n$/);
      const r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /step 047 .*half applied.*finishing it/);
      await checkSeedAt71(db);
    });
  });

  test('056: stack.parameters dropped before its copy to raw_template.environment: refused with the reason, unchanged', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 55);
      await db.query('ALTER TABLE stack DROP COLUMN parameters');
      await refused(db, /step 056 .*cannot finish: stack\.parameters was dropped before it was copied to raw_template\.environment .*restore the database from a backup taken before step 056/);
    });
  });

  test("055: a column of the step without the one Heat adds before it: not a state of the step, refused, unchanged", async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 54);
      await db.query('ALTER TABLE stack ADD COLUMN current_traversal VARCHAR(36)');
      await refused(db, /step 055 .*cannot start: .*stack\.current_traversal is there but stack\.prev_raw_template_id \(added before it\) is not.*Restore the database from a backup/);
    });
  });

  test('--preview_sql 43 -> 56 shows the statements of steps whose work the live catalog (at 43) does not show', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 43);
      const r = await runMigrate(['upgrade', db.url, HEAT_REPO, '56', '--preview_sql']);
      assert.equal(r.code, 0, r.stderr);
      const step = (to: number) => r.stdout.split(/^\d+ -> /m).find((x) => x.startsWith(`${to}...`)) ?? '';
      assert.match(step(54), /ALTER TABLE stack DROP COLUMN tags;\nCREATE TABLE stack_tag /);
      assert.match(step(56), /ALTER TABLE stack DROP COLUMN parameters;/);
      assert.match(step(55), /prev_raw_template_id/);
      assert.equal((await db.query('SELECT version FROM migrate_version'))[0]!.version, 43);
    });
  });
});
