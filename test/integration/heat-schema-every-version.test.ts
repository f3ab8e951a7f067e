/**
 * Our db_sync produces exactly real Heat's schema at EVERY version, not only at 71: on each
 * backend, a database under version control at 27 is upgraded one version at a time, and after
 * each step its live catalog (migrate/catalog/introspect.ts) must equal the repository's expected
 * schema of that version (migrate_repo/schema/<dialect>/NNN.tsv, produced by real Heat 6.0.0's own
 * runs: docs/CATALOG.md, scripts/heat-harness/README.md), and the schema report (`db_check`'s
 * engine call) must say `exact`. Every version 027..071 must have an expected schema on every backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../../migrate/api.js';
import { describeDifference, diff } from '../../migrate/catalog/diff.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { loadRepository } from '../../migrate/repository.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import type { Logger } from '../../migrate/script/contract.js';
import { ALL_DIALECTS, forEachDialect, withTestDatabase } from '../support/db.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { asQueryable } from '../support/targets.js';

const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;
const repo = loadRepository(HEAT_REPO);
const schemas = expectedSchemas(repo);

test('every version 027..071 has an expected schema on every backend', () => {
  for (const d of ALL_DIALECTS) {
    const want = Array.from({ length: 71 - 27 + 1 }, (_, i) => 27 + i);
    assert.deepEqual(schemas.versions(d).filter((v) => v <= 71), want, d);
  }
});

await forEachDialect('db_sync one version at a time', (dialect) => {
  test('the live schema equals real Heat 6.0.0 at every version 27..71, and the report says exact', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      const q = asQueryable(db);
      const mismatches: string[] = [];
      for (let v = 27; v <= 71; v++) {
        if (v > 27) await heatUpgrade(db.url, v);
        const live = await introspect(q);
        const d = diff(schemas.get(dialect, v)!, live);
        if (d.length) mismatches.push(`${v}: ${d.map(describeDifference).join('; ')}`);
        const r = await api.examine(db.url, repo, { logger: silent });
        if (r.examination?.state !== 'exact') mismatches.push(`${v}: db_check says ${r.examination?.state}`);
      }
      assert.deepEqual(mismatches, []);
    });
  });
});
