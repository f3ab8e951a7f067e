/**
 * Train's steps 072..086 (migrate_repo/versions): on each backend a database at 71 (our 028..071) is
 * taken one version at a time to 86; after each step the live catalog must equal the catalog real
 * Heat 13.0.0 left at that version (migrate_repo/schema/<dialect>/NNN.tsv, gen_lineage.py) and
 * db_check's engine call must say `exact`. A second database goes 71 -> 86 in one call, with rows
 * in watch_rule/watch_data (discarded, as Heat does) and in every table 086 keeps (kept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../../migrate/api.js';
import { describeDifference, diff } from '../../migrate/catalog/diff.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { loadRepository } from '../../migrate/repository.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import type { Logger } from '../../migrate/script/contract.js';
import { forEachDialect, withTestDatabase } from '../support/db.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { asQueryable } from '../support/targets.js';

const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;
const repo = loadRepository(HEAT_REPO);
const schemas = expectedSchemas(repo);

await forEachDialect('Train steps 072..086', (dialect) => {
  test('the live schema equals real Heat 13.0.0 at every version 72..86, and db_check says exact', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 71);
      const q = asQueryable(db);
      const mismatches: string[] = [];
      for (let v = 72; v <= 86; v++) {
        await heatUpgrade(db.url, v);
        const want = schemas.get(dialect, v);
        assert.ok(want, `catalog ${v}`);
        const d = diff(want, await introspect(q));
        if (d.length) mismatches.push(`${v}: ${d.map(describeDifference).join('; ')}`);
        const r = await api.examine(db.url, repo, { logger: silent });
        if (r.examination?.state !== 'exact') mismatches.push(`${v}: db_check says ${r.examination?.state}`);
      }
      assert.deepEqual(mismatches, []);
    });
  });
});
