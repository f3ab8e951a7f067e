/**
 * migrate/catalog/materialize.ts: the statements written from a catalog create exactly that
 * schema. For every version whose catalog Heat's repository carries (real Heat 6.0.0's schema at
 * 27..71, and any later one), on each backend: an empty database, the catalog's statements, then
 * the live catalog (introspect.ts) equals the catalog fact for fact; and the catalog at 71 equals
 * real Heat's target dumps (test/fixtures/heat-schema), so the round trip ends at real Heat's schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { introspect } from '../../migrate/catalog/introspect.js';
import { describeDifference, diff } from '../../migrate/catalog/diff.js';
import { materialize } from '../../migrate/catalog/materialize.js';
import { loadRepository } from '../../migrate/repository.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import { forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';
import { HEAT_REPO } from '../support/heat-run.js';
import { asQueryable, targetCatalog } from '../support/targets.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');
const repo = loadRepository(HEAT_REPO);

/** Drops every table (and PostgreSQL sequence) of the test database. */
async function empty(db: TestDatabase): Promise<void> {
  if (db.dialect === 'postgresql') return void (await db.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public'));
  if (db.dialect === 'mysql') {
    const names = (await db.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")).map((r) => `\`${String(r.t)}\``);
    if (names.length) await db.query(`SET FOREIGN_KEY_CHECKS = 0; DROP TABLE ${names.join(', ')}`);
    return;
  }
  for (const r of await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")) await db.query(`DROP TABLE "${String(r.name)}"`);
}

await forEachDialect('materialize', (dialect) => {
  const schemas = expectedSchemas(repo);
  const versions = schemas.versions(dialect);

  test('catalog 071 is real Heat 6.0.0 target at 71', () => {
    assert.deepEqual(diff(targetCatalog(dialect, FIXTURES, `${dialect}-71`), schemas.get(dialect, 71)!).map(describeDifference), []);
  });

  test(`every catalog (${versions[0]}..${versions.at(-1)}) written out and read back is itself`, async (t) => {
    assert.ok(versions.length >= 45, `catalogs found: ${versions.length}`);
    await withTestDatabase(t, dialect, async (db) => {
      for (const v of versions) {
        const want = schemas.get(dialect, v)!;
        const m = materialize(want);
        // One round trip where the driver takes several statements (MySQL, PostgreSQL): the test's
        // connections are per call, and this runs 45 versions.
        if (dialect === 'sqlite') for (const sql of m.statements) await db.query(sql);
        else await db.query(m.statements.join(';\n'));
        const live = await introspect(asQueryable(db));
        assert.deepEqual(diff(want, live).map(describeDifference), [], `version ${v}`);
        assert.ok(live.equals(want), `version ${v}`);
        // Few statements: one CREATE TABLE per table, plus indexes where they cannot be inline.
        assert.equal(m.tables.length, want.tables().filter((x) => x !== '').length, `version ${v}: one unit per table`);
        assert.equal(m.statements.filter((s) => /^CREATE TABLE/.test(s)).length, m.tables.length);
        await empty(db);
      }
    });
  });
});
