/**
 * Heat's catalogs after 71 (docs/CATALOG.md "After Mitaka"), made by real Heat 13.0.0 and master
 * (scripts/heat-harness/README.md §3, gen_lineage.py), checked without a database:
 * - each backend has 072..086, one upgraded catalog per Alembic revision (<rev>.tsv) and one fresh
 *   catalog per revision (fresh/<rev>.tsv), and nothing else after 071;
 * - each is well formed (header naming its version or revision, known kinds, unique sorted lines);
 * - 086 and the upgraded and fresh head project byte for byte onto ../shared/heat-lineage's targets
 *   (copied to test/fixtures/heat-lineage/), MariaDB's table options agree with the targets'
 *   SHOW CREATE TABLE (but the version tables', which follow the database default, and
 *   resource_snapshot's on the utf8mb4 database: SPEC A5.3);
 * - the lineage's data (migrate_repo/heat/lineage.ts) names exactly these versions and revisions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codePointCompare } from '../support/dump.js';
import { CATALOG_DIR, catalogFacts, projectCatalog, type CatalogDialect } from '../support/heat-catalog.js';
import { HEAT_LINEAGE } from '../../migrate_repo/heat/lineage.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-lineage');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const DIALECTS: readonly CatalogDialect[] = ['mysql', 'postgresql', 'sqlite'];
const LEGACY = Array.from({ length: 15 }, (_, i) => String(72 + i).padStart(3, '0'));
const REVISIONS = HEAT_LINEAGE.revisions.map((r) => r.id);
const HEAD = REVISIONS[REVISIONS.length - 1]!;
const read = (d: CatalogDialect, name: string) => readFileSync(join(CATALOG_DIR, d, `${name}.tsv`), 'utf8');

test('the lineage data: legacy 072..086 after Mitaka\'s 071, then the four revisions of Heat master', () => {
  assert.equal(HEAT_LINEAGE.mitaka, 71);
  assert.equal(HEAT_LINEAGE.train, 86);
  assert.deepEqual(REVISIONS, ['c6214ca60943', 'd2db381e3324', '88be64598c0f', '97b2a986f922']);
  assert.deepEqual(HEAT_LINEAGE.revisions.map((r) => r.down ?? null), [null, 'c6214ca60943', 'd2db381e3324', '88be64598c0f']);
});

for (const dialect of DIALECTS) {
  describe(`Heat lineage catalogs on ${dialect}`, () => {
    test('072..086, one upgraded and one fresh catalog per revision, nothing else', () => {
      const files = readdirSync(join(CATALOG_DIR, dialect)).filter((f) => !/^0[2-6]\d\.tsv$|^07[01]\.tsv$/.test(f)).sort();
      assert.deepEqual(files, [...LEGACY.map((v) => `${v}.tsv`), ...[...REVISIONS].sort().map((r) => `${r}.tsv`), 'fresh'].sort());
      assert.deepEqual(readdirSync(join(CATALOG_DIR, dialect, 'fresh')).sort(), [...REVISIONS].sort().map((r) => `${r}.tsv`));
    });

    test('every catalog is well formed: header, unique lines sorted by code point', () => {
      for (const name of [...LEGACY, ...REVISIONS, ...REVISIONS.map((r) => `fresh/${r}`)]) {
        const text = read(dialect, name);
        assert.equal(text.split('\n')[0], `#catalog\tv1\t${dialect}\t${name.replace('fresh/', '')}`, `${dialect}/${name} header`);
        const facts = catalogFacts(text);
        assert.deepEqual(facts, [...new Set(facts)].sort(codePointCompare), `${dialect}/${name}: unique sorted lines`);
        assert.equal(facts.some((l) => l.startsWith('column\tmigrate_version\t')), !name.startsWith('fresh/'), `${dialect}/${name}: migrate_version only when upgraded`);
        assert.equal(facts.some((l) => l.startsWith('column\talembic_version\t')), !/^\d+$/.test(name), `${dialect}/${name}: alembic_version only under Alembic`);
      }
    });

    for (const [name, target] of [['086', '86-upgraded'], [HEAD, 'head-upgraded'], [`fresh/${HEAD}`, 'head-fresh']] as const) {
      test(`${name} projects byte for byte onto the shared target ${dialect}-${target}`, () => {
        const p = projectCatalog(dialect, read(dialect, name));
        if (dialect === 'mysql') {
          for (const f of ['columns', 'indexes', 'indexes-ext', 'fks']) assert.equal(p[f], fixture(`mysql-${target}-${f}.tsv`), f);
        } else {
          assert.equal(p.catalog, fixture(`${dialect}-${target}-catalog.tsv`));
        }
      });
    }
  });
}

for (const [name, target] of [['086', '86-upgraded'], [HEAD, 'head-upgraded'], [`fresh/${HEAD}`, 'head-fresh']] as const) {
  test(`mysql ${name}: table facts = the target SHOW CREATE TABLE but the version tables (database default)`, () => {
    const want: string[] = [];
    for (const m of fixture(`mysql-${target}.sql`).matchAll(/CREATE TABLE `(\w+)` \([\s\S]*?\n\) ENGINE=(\w+) DEFAULT CHARSET=(\w+) COLLATE=(\w+);/g)) {
      if (m[1] === 'migrate_version' || m[1] === 'alembic_version') continue;
      // The targets' database default was utf8 (README); ours are on utf8mb4, where a fresh install's tables follow it.
      const collation = target === 'head-fresh' ? 'utf8mb4_general_ci' : m[4]!;
      want.push(['table', m[1], m[2], collation].join('\t'));
    }
    assert.ok(want.length >= 15);
    const got = catalogFacts(read('mysql', name)).filter((l) => l.startsWith('table\t') && !/^table\t(migrate|alembic)_version\t/.test(l));
    assert.deepEqual(got, want.sort(codePointCompare));
  });
}
