/**
 * The run's gate and step 057's takeover (issue 16): before its first write, db_sync checks that the
 * database is exactly the schema of its recorded version or a partial state of the next step that
 * the step finishes; anything else is refused with one line and nothing changed.
 *
 * - The MariaDB data-loss case of issue 16: real Heat's 057 finished but the version was not bumped
 *   (its run was killed between the last ALTER and the UPDATE of migrate_version). Heat's run keeps
 *   no step log, so the state is made by our own 057 (whose schema at 57 is real Heat's: the
 *   every-version test) with the version set back to 56 and our log dropped. db_sync must finish
 *   to 71 with the seed's data intact (before the gate, our 057 renamed resource_data.resource_id
 *   back to a varchar and destroyed the mapping).
 * - A partial state whose data is gone (resource.id dropped before every row got its new id): refused
 *   with the reason, the database unchanged.
 * - Drift (a column nobody's step adds): refused before any write, the database unchanged; db_check
 *   names the difference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, withTestDatabase } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { seededAt, stateOf as snapshot } from '../support/heat-gate.js';
import { checkSeedAt71 } from '../support/heat-seed.js';

await forEachDialect('takeover of step 057', (dialect) => {
  if (dialect !== 'sqlite') {
    test("real Heat's 057 complete but the version not bumped: db_sync finishes to 71 with the data", async (t) => {
      await withTestDatabase(t, dialect, async (db) => {
        await seededAt(db, 57);
        await db.query("UPDATE migrate_version SET version = 56 WHERE repository_id = 'heat'");
        await db.query('DROP TABLE migrate_log');
        const r = await runHeat(['db_sync'], { url: db.url });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /step 057 .*half applied: its schema changes are all applied/);
        await checkSeedAt71(db);
      });
    });

    test('resource.id dropped before every resource got its new id: refused with the reason, unchanged', async (t) => {
      await withTestDatabase(t, dialect, async (db) => {
        await seededAt(db, 56);
        await db.query('ALTER TABLE resource ADD COLUMN uuid VARCHAR(36)');
        await db.query('ALTER TABLE resource ADD COLUMN tmp_id INTEGER');
        await db.query('UPDATE resource SET uuid = id');
        const one = String((await db.query('SELECT id FROM resource ORDER BY created_at LIMIT 1'))[0]!.id);
        await db.query('UPDATE resource SET tmp_id = 1 WHERE id = ?', [one]);
        if (dialect === 'mysql') await db.query('ALTER TABLE resource_data DROP FOREIGN KEY resource_data_ibfk_1');
        else await db.query('ALTER TABLE resource_data DROP CONSTRAINT resource_data_resource_id_fkey');
        await db.query('ALTER TABLE resource DROP COLUMN id');
        const before = await snapshot(db);
        const r = await runHeat(['db_sync'], { url: db.url });
        assert.equal(r.code, 1, r.stderr);
        const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('ERROR: '));
        assert.equal(line.length, 1, r.stderr);
        assert.match(line[0]!, /step 057 .*cannot finish: resource\.id \(the old string ids\) was dropped before \d+ resources got their new integer id.*restore the database from a backup/);
        assert.equal(await snapshot(db), before);
      });
    });
  }

  test('drift (a column no step adds) is refused before any write; db_check names it', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 50);
      await db.query('ALTER TABLE stack ADD COLUMN hand_made INTEGER');
      const before = await snapshot(db);
      const r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /ERROR: step 051 \(051_service\.js\) cannot start: the schema is not version 050's.*column stack\.hand_made: not expected \(extra\).*heat-manage db_check/);
      assert.equal(await snapshot(db), before);
      const c = await runHeat(['db_check'], { url: db.url });
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stdout, /^schema differs from version 050's .*\n  column stack\.hand_made: not expected \(extra\)\n/);
    });
  });
});
