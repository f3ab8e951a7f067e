/**
 * Real Heat on databases our heat-manage made (issue 17 point 2), replayed from the record
 * test/fixtures/heat-lineage/real-heat-on-ours.json. It was made where the Python stack runs (CI has
 * none) by scripts/heat-harness/cross_check.py: ours `db_sync head` on an empty database, then real
 * Heat master's `db_version`, `db_sync`, `db_sync head` and real Heat 13.0.0's `db_version`,
 * `db_sync`, each in its own process, the catalog compared before and after each; and ours
 * `db_sync 86` then real master's `db_sync` and ours `db_check`. The record must say:
 * - master accepts our head as-is: db_version prints the head revision, both db_sync calls succeed
 *   and change nothing (schema, migrate_version 86, alembic_version head);
 * - 13.0.0 reads our head as 86 (SPEC A6.1) and its db_sync changes nothing;
 * - on our 86, real master stamps and runs its revisions (PostgreSQL, SQLite: to head); on the
 *   utf8mb4 MariaDB database it fails at 88be64598c0f with errno 150 — real master's bug (SPEC A5.3),
 *   not ours — and our db_check then finds exactly revision d2db381e3324's schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-lineage/real-heat-on-ours.json');
type Call = { result: { ok: boolean; result?: unknown; error?: string }; 'schema unchanged'?: boolean; versions: Record<string, string[] | null> };
const record = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, Call & { code?: number; stdout?: string }>>;
const HEAD = '97b2a986f922';

for (const dialect of ['mysql', 'postgresql', 'sqlite']) {
  test(`${dialect}: real master and real 13.0.0 accept our head as-is`, () => {
    const r = record[dialect]!;
    assert.equal(r['ours db_sync head']!.code, 0);
    for (const [label, want] of [
      ['real master db_version on our head', HEAD],
      ['real master db_sync on our head', null],
      ['real master db_sync head on our head', null],
      ['real 13 db_version on our head', 86],
      ['real 13 db_sync on our head', null],
    ] as const) {
      const c = r[label]!;
      assert.equal(c.result.ok, true, `${label}: ${c.result.error}`);
      assert.equal(c.result.result, want, label);
      assert.equal(c['schema unchanged'], true, `${label}: schema unchanged`);
      assert.deepEqual(c.versions, { migrate_version: ['86'], alembic_version: [HEAD] }, label);
    }
  });

  test(`${dialect}: real master on our 86`, () => {
    const r = record[dialect]!;
    assert.equal(r['ours db_sync 86']!.code, 0);
    const m = r['real master db_sync on our 86']!;
    if (dialect === 'mysql') {
      assert.equal(m.result.ok, false);
      assert.match(m.result.error!, /errno: 150 "Foreign key constraint is incorrectly formed"/);
      assert.deepEqual(m.versions, { migrate_version: ['86'], alembic_version: ['d2db381e3324'] });
      assert.equal(r['ours db_check after it']!.stdout, 'schema matches revision d2db381e3324\n');
    } else {
      assert.equal(m.result.ok, true, m.result.error);
      assert.deepEqual(m.versions, { migrate_version: ['86'], alembic_version: [HEAD] });
      assert.equal(r['ours db_check after it']!.stdout, `schema matches revision ${HEAD}\n`);
    }
    assert.equal(r['ours db_check after it']!.code, 0);
  });
}
