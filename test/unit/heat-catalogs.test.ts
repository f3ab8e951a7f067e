/**
 * Heat's per-version schema catalogs (migrate_repo/schema/<dialect>/NNN.tsv, docs/CATALOG.md), made by
 * real Heat 6.0.0 (scripts/heat-harness/README.md), checked without a database:
 * - every version 027..071 has a catalog for each backend, and there is nothing else;
 * - each is well formed: the `#catalog v1 <dialect> <NNN>` header, then unique fact lines of the
 *   dialect's kinds, sorted by code point;
 * - catalog 071 projects byte for byte onto test/fixtures/heat-schema/*-71-* (copies of the shared
 *   targets, ../shared/heat-schema), and its extra facts (MySQL table engine/collation, SQLite
 *   constraint names) agree with the targets' SHOW CREATE TABLE / .schema texts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codePointCompare, isEngineTable } from '../support/dump.js';
import {
  CATALOG_DIR,
  CATALOG_VERSIONS,
  catalogFacts,
  projectCatalog,
  readCatalog,
  sqliteNamedFacts,
  type CatalogDialect,
} from '../support/heat-catalog.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const DIALECTS: readonly CatalogDialect[] = ['mysql', 'postgresql', 'sqlite'];
const KINDS: Record<CatalogDialect, readonly string[]> = {
  mysql: ['table', 'column', 'index', 'fk'],
  postgresql: ['column', 'constraint', 'index', 'sequence'],
  sqlite: ['column', 'index', 'fk', 'named'],
};

for (const dialect of DIALECTS) {
  describe(`Heat catalogs on ${dialect}`, () => {
    test('one catalog per version 027..071 (the later ones: heat-lineage-catalogs.test.ts)', () => {
      const files = readdirSync(join(CATALOG_DIR, dialect)).filter((f) => /^0[2-7]\d\.tsv$/.test(f) && Number(f.slice(0, 3)) <= 71).sort();
      assert.deepEqual(files, CATALOG_VERSIONS.map((v) => `${String(v).padStart(3, '0')}.tsv`));
    });

    test('every catalog is well formed: header, known kinds, unique lines sorted by code point', () => {
      for (const v of CATALOG_VERSIONS) {
        const text = readCatalog(dialect, v);
        const name = `${dialect}/${String(v).padStart(3, '0')}.tsv`;
        assert.equal(text.split('\n')[0], `#catalog\tv1\t${dialect}\t${String(v).padStart(3, '0')}`, `${name} header`);
        assert.ok(text.endsWith('\n'), `${name} ends with a newline`);
        const facts = catalogFacts(text);
        assert.equal(facts.length, text.split('\n').length - 2, `${name}: only the first line is a header`);
        const sorted = [...new Set(facts)].sort(codePointCompare);
        assert.deepEqual(facts, sorted, `${name}: unique lines sorted by code point`);
        const kinds = new Set(facts.map((l) => l.split('\t')[0]));
        for (const k of kinds) assert.ok(KINDS[dialect].includes(k!), `${name}: unknown kind ${k}`);
        assert.ok(facts.some((l) => l.startsWith('column\tmigrate_version\t')), `${name} has migrate_version`);
        const tableOf = (l: string) => l.split('\t')[dialect === 'mysql' && l.startsWith('fk\t') ? 2 : 1]!;
        assert.deepEqual(facts.filter((l) => isEngineTable(tableOf(l))), [], `${name} holds no engine table`);
      }
    });

    test('catalog 071 projects byte for byte onto the shared targets', () => {
      const p = projectCatalog(dialect, readCatalog(dialect, 71));
      if (dialect === 'mysql') {
        for (const f of ['columns', 'indexes', 'indexes-ext', 'fks']) assert.equal(p[f], fixture(`mysql-71-${f}.tsv`), f);
      } else {
        assert.equal(p.catalog, fixture(`${dialect}-71-catalog.tsv`));
      }
    });
  });
}

test('mysql 071: table facts = the target SHOW CREATE TABLE (tables, ENGINE, COLLATE)', () => {
  const want: string[] = [];
  const sql = fixture('mysql-71.sql');
  for (const m of sql.matchAll(/CREATE TABLE `(\w+)` \([\s\S]*?\n\) ENGINE=(\w+) DEFAULT CHARSET=(\w+) COLLATE=(\w+);/g)) {
    want.push(['table', m[1], m[2], m[4]].join('\t'));
  }
  assert.equal(want.length, 16, 'the target has 16 tables');
  const got = catalogFacts(readCatalog('mysql', 71)).filter((l) => l.startsWith('table\t'));
  assert.deepEqual(got, want.sort(codePointCompare));
});

test('sqlite 071: named facts = the constraint names of the target .schema', () => {
  const want: string[] = [];
  for (const m of fixture('sqlite-71.sql').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?(\w+)"? \(([\s\S]*?)\n\);/g)) {
    want.push(...sqliteNamedFacts(m[1]!, `CREATE TABLE ${m[1]} (${m[2]})`));
  }
  assert.equal(want.length, 3, 'fk_stack_id, prev_raw_template_ref, current_template_fkey_ref');
  const got = catalogFacts(readCatalog('sqlite', 71)).filter((l) => l.startsWith('named\t'));
  assert.deepEqual(got, want.sort(codePointCompare));
});

test('named facts: table-level and column-level constraint names are the same fact', () => {
  const table = sqliteNamedFacts('stack', 'CREATE TABLE stack (id INTEGER, p INTEGER, CONSTRAINT prev_ref FOREIGN KEY(p) REFERENCES raw_template (id))');
  const column = sqliteNamedFacts('stack', 'CREATE TABLE "stack" (id INTEGER, p INTEGER CONSTRAINT prev_ref REFERENCES raw_template (id), PRIMARY KEY (id))');
  assert.deepEqual(table, ['named\tstack\tprev_ref\t\tFOREIGN KEY\tp\t']);
  assert.deepEqual(column, table);
});

test('projection puts back the dumper order (numeric ordinals), not the catalog order', () => {
  const text = '#catalog\tv1\tmysql\t999\ncolumn\tt\ta\t10\tint(11)\tYES\t\tNULL\t\ncolumn\tt\tb\t9\tint(11)\tYES\t\tNULL\t\n';
  const cols = projectCatalog('mysql', text).columns!.split('\n');
  assert.deepEqual(cols.slice(1, 3).map((l) => l.split('\t')[1]), ['b', 'a']);
});
