/**
 * Ours on databases real Heat left after 71 (issue 17 point 2), on MariaDB, PostgreSQL and SQLite.
 * The databases are rebuilt from what real Heat sent (test/support/heat-lineage-replay.ts: the
 * statement logs of ../shared/heat-lineage/sql, made by Heat 13.0.0 and master on a 6.0.0 database
 * at 71, replayed on our 71, which equals real 6.0.0's — heat-schema-every-version.test.ts):
 * - real 13.0.0 stopped at 80: the catalog is exactly 080's; our `db_sync head` finishes 81..86,
 *   stamps and runs the revisions: exactly the upgraded head;
 * - real 13.0.0 at 86, then real master's db_sync (MariaDB, utf8mb4 database: master failed at
 *   88be64598c0f, alembic_version d2db381e3324, no resource_snapshot — SPEC A5.3): our db_version
 *   prints master's revision; our `db_sync head` continues (MariaDB: 88be64598c0f fixed) and ends
 *   exactly at the upgraded head, or (PostgreSQL, SQLite: head already) does nothing;
 * - real master's blind stamp on the 80 database (legacy/<b>-master-on-80.sql): recognised,
 *   081..086 applied, exactly the upgraded head, migrate_version 86.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diff, describeDifference } from '../../migrate/catalog/diff.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { loadRepository } from '../../migrate/repository.js';
import { revisionSchema } from '../../migrate/revisions.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import { forEachDialect, withTestDatabase, type TestDatabase, type TestDialect } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { parseHeatSql, replayHeatSql } from '../support/heat-lineage-replay.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { asQueryable } from '../support/targets.js';

const SQL = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-lineage/sql');
const repo = loadRepository(HEAT_REPO);
const HEAD = '97b2a986f922';
const REVS = ['c6214ca60943', 'd2db381e3324', '88be64598c0f', '97b2a986f922'];

const file = (name: string) => readFileSync(join(SQL, name), 'utf8');
async function realHeat(db: TestDatabase, d: TestDialect, names: readonly string[]): Promise<void> {
  for (const n of names) await replayHeatSql(db, parseHeatSql(file(n), d));
}
const legacy = (d: TestDialect, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${d}-${from + i}.sql`);

async function differences(db: TestDatabase, want: ReturnType<typeof revisionSchema>): Promise<string[]> {
  assert.ok(want);
  return diff(want, await introspect(asQueryable(db))).map(describeDifference);
}

async function at71(db: TestDatabase): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 71);
}

await forEachDialect('ours after real Heat', (dialect) => {
  test('real Heat 13.0.0 stopped at 80: exactly 080; our db_sync head ends exactly at the upgraded head', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await at71(db);
      await realHeat(db, dialect, legacy(dialect, 72, 80));
      assert.deepEqual(await differences(db, expectedSchemas(repo).get(dialect, 80)), []);
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, '80\n');
      const r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
    });
  });

  test("real 13.0.0 to 86 then real master's db_sync: our db_version prints master's revision; db_sync head ends exactly at the upgraded head", async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await at71(db);
      await realHeat(db, dialect, legacy(dialect, 72, 86));
      assert.deepEqual(await differences(db, expectedSchemas(repo).get(dialect, 86)), []);
      const revs = dialect === 'mysql' ? REVS.slice(0, 3) : REVS; // utf8mb4 MariaDB: master's 88be64598c0f failed
      await realHeat(db, dialect, revs.map((r, i) => `${dialect}-alembic-${i}-${r}.sql`));
      const left = dialect === 'mysql' ? 'd2db381e3324' : HEAD;
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, `${left}\n`);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, left)), []);
      const r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      if (dialect === 'mysql') assert.match(r.stderr, /Running upgrade d2db381e3324 -> 88be64598c0f/);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
      const c = await runHeat(['db_check'], { url: db.url });
      assert.equal(c.stdout, `schema matches revision ${HEAD}\n`);
    });
  });

  test("real master's blind stamp on a database at 80: recognised, completed to exactly the upgraded head", async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await at71(db);
      await realHeat(db, dialect, [...legacy(dialect, 72, 80), `${dialect}-master-on-80.sql`]);
      const left = (await db.query('SELECT version_num FROM alembic_version'))[0]!.version_num as string;
      const r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`stamped ${left} \\(Heat master\\) while its legacy version is 80`));
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
      assert.deepEqual((await db.query('SELECT version FROM migrate_version')).map((x) => Number(x.version)), [86]);
    });
  });
});
