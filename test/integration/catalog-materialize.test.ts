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

/** A schema no Heat version has: two tables referencing each other, a self reference, a composite key, named constraints, defaults. */
const CYCLE: Record<TestDatabase['dialect'], string[]> = {
  mysql: [
    "CREATE TABLE a (id INT NOT NULL AUTO_INCREMENT, b_id INT NULL, parent INT NULL, name VARCHAR(20) NOT NULL DEFAULT 'x', n TINYINT(1) DEFAULT 0, PRIMARY KEY (id), UNIQUE KEY uq_a_name (name), KEY ix_b (b_id), KEY parent (parent), CONSTRAINT a_parent FOREIGN KEY (parent) REFERENCES a (id) ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3",
    'CREATE TABLE b (id INT NOT NULL, k VARCHAR(10) NOT NULL, a_id INT NULL, PRIMARY KEY (id, k), KEY a_id (a_id), CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE SET NULL ON UPDATE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    'ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b (id)',
  ],
  postgresql: [
    "CREATE TABLE a (id SERIAL NOT NULL, b_id INTEGER, parent INTEGER, name VARCHAR(20) NOT NULL DEFAULT 'x', n BOOLEAN DEFAULT false, CONSTRAINT a_pkey PRIMARY KEY (id), CONSTRAINT uq_a_name UNIQUE (name), CONSTRAINT a_parent FOREIGN KEY (parent) REFERENCES a (id) ON DELETE CASCADE, CONSTRAINT a_n CHECK (n IS NOT NULL))",
    'CREATE SEQUENCE b_seq',
    "CREATE TABLE b (id INTEGER NOT NULL DEFAULT nextval('b_seq'), k VARCHAR(10) NOT NULL, a_id INTEGER NOT NULL, CONSTRAINT b_pkey PRIMARY KEY (id), CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) ON DELETE SET NULL)",
    'ALTER SEQUENCE b_seq OWNED BY b.id',
    'CREATE SEQUENCE loose',
    'CREATE INDEX ix_b_k ON b (k, a_id)',
    'ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b (id)',
  ],
  sqlite: [
    "CREATE TABLE a (id INTEGER NOT NULL, b_id INTEGER, parent INTEGER, name VARCHAR(20) NOT NULL DEFAULT 'x', n BOOLEAN DEFAULT 0, PRIMARY KEY (id), UNIQUE (name), CONSTRAINT a_parent FOREIGN KEY(parent) REFERENCES a (id) ON DELETE CASCADE, FOREIGN KEY(b_id) REFERENCES b (k), CONSTRAINT a_n CHECK (n IN (0, 1)))",
    'CREATE TABLE b (id VARCHAR(36) NOT NULL, k VARCHAR(10) NOT NULL, a_id INTEGER NOT NULL, UNIQUE (k), PRIMARY KEY (id, k), CONSTRAINT b_a FOREIGN KEY(a_id) REFERENCES a (id))',
    'CREATE INDEX ix_b_k ON b (k, a_id)',
  ],
};

await forEachDialect('materialize', (dialect) => {
  const schemas = expectedSchemas(repo);
  const versions = schemas.versions(dialect);

  test('catalog 071 is real Heat 6.0.0 target at 71', () => {
    assert.deepEqual(diff(targetCatalog(dialect, FIXTURES, `${dialect}-71`), schemas.get(dialect, 71)!).map(describeDifference), []);
  });

  test('foreign keys in a cycle, a self reference, composite and named keys, defaults: read, written out, read back the same', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      for (const sql of CYCLE[dialect]) await db.query(sql);
      const want = await introspect(asQueryable(db));
      assert.ok(want.facts.length > 10, 'the hand-made schema was read');
      await empty(db);
      const m = materialize(want);
      if (dialect !== 'sqlite') assert.ok(m.statements.some((s) => /^ALTER TABLE .* ADD CONSTRAINT/.test(s)), 'the foreign key closing the cycle comes after the tables');
      for (const sql of m.statements) await db.query(sql);
      assert.deepEqual(diff(want, await introspect(asQueryable(db))).map(describeDifference), []);
    });
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
