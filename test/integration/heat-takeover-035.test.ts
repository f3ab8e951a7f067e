/**
 * Step 035's takeover (issue 16) beyond the replayed crash points of real Heat
 * (heat-takeover.test.ts covers every one of those):
 *
 * - A state no step log explains (the columns added, the version at 34, no migrate_log): db_sync
 *   says the step is half applied, finishes it and the rest, and the seed's events come out at 71
 *   as from a clean run.
 * - A form of the moved columns no run of the step leaves (tmp_id as a string): not a state of the
 *   step, so the run cannot start; one line, the database unchanged.
 * - A state whose data is gone (event.id, the old string ids, dropped before every event got its
 *   uuid and new id): refused with the reason, one line, the database unchanged (catalog and rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { checkSeedAt71, seedAt28 } from '../support/heat-seed.js';
import { snapshot } from '../support/heat-takeover.js';

/** Real Heat's first statements of 035: uuid added (and back-filled with a function's repr), tmp_id added. */
async function columnsAdded(db: TestDatabase, tmpId = 'INTEGER'): Promise<void> {
  await db.query('ALTER TABLE event ADD COLUMN uuid VARCHAR(36)');
  await db.query('UPDATE event SET uuid = ?', ['<function uuid4 at 0x7f0000000000>']);
  if (db.dialect === 'postgresql') await db.query('CREATE SEQUENCE evt START WITH 1');
  await db.query(`ALTER TABLE event ADD COLUMN tmp_id ${tmpId}${db.dialect === 'postgresql' && tmpId === 'INTEGER' ? " DEFAULT nextval('evt')" : ''}`);
}

/** One line on stderr starting ERROR:, the exit code 1, and the database as it was. */
async function refused(db: TestDatabase, pattern: RegExp): Promise<void> {
  const before = await snapshot(db);
  const r = await runHeat(['db_sync'], { url: db.url });
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('ERROR: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, pattern);
  assert.equal(await snapshot(db), before);
}

async function seededAt34(db: TestDatabase): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 28);
  await seedAt28(db);
  await heatUpgrade(db.url, 34);
  await db.query('DROP TABLE migrate_log'); // what real Heat's database has: no step log of ours
}

await forEachDialect('takeover of step 035', (dialect) => {
  if (dialect === 'sqlite') return; // one transaction there: no partial state

  test('uuid and tmp_id added, nothing renumbered, no step log: db_sync finishes 035 and the rest', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt34(db);
      await columnsAdded(db);
      const r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /step 035 .*half applied: .*event ids not yet renumbered/);
      await checkSeedAt71(db);
    });
  });

  test('tmp_id in a form no run leaves (a string): the step cannot start, unchanged', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt34(db);
      await columnsAdded(db, 'VARCHAR(36)');
      await refused(db, /step 035 .*cannot start: .*column event\.tmp_id/);
    });
  });

  test('event.id dropped before every event got its uuid and new id: refused with the reason, unchanged', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt34(db);
      await columnsAdded(db);
      const first = String((await db.query('SELECT id FROM event ORDER BY created_at, id LIMIT 1'))[0]!.id);
      await db.query('UPDATE event SET uuid = id, tmp_id = 1 WHERE id = ?', [first]);
      await db.query('ALTER TABLE event DROP COLUMN id');
      await refused(
        db,
        /step 035 .*cannot finish: event\.id \(the old string ids\) was dropped before [1-9]\d* events got their uuid and new integer id; restore the database from a backup/,
      );
    });
  });
});
