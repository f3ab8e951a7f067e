/**
 * The live-schema catalog (migrate/catalog/introspect.ts) of a database our db_sync took to 71 is
 * exactly real Heat's target schema at 71 (test/fixtures/heat-schema, copied from
 * ../shared/heat-schema: dumps of real Heat 6.0.0's run), fact by fact, on each backend; and
 * restricting the introspection to some tables gives exactly those tables' facts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { introspect } from '../../migrate/catalog/introspect.js';
import { describeDifference, diff } from '../../migrate/catalog/diff.js';
import { forEachDialect, withTestDatabase } from '../support/db.js';
import { heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { asQueryable, targetCatalog } from '../support/targets.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');

await forEachDialect('catalog of a database at 71', (dialect) => {
  test('equals real Heat 6.0.0 target at 71; a table subset is that subset', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 71);
      const live = await introspect(asQueryable(db));
      const target = targetCatalog(dialect, FIXTURES, `${dialect}-71`);
      assert.deepEqual(diff(target, live).map(describeDifference), []);
      assert.ok(live.equals(target));
      const some = await introspect(asQueryable(db), ['stack', 'resource', '']);
      assert.ok(some.equals(target.only(['stack', 'resource', ''])));
      assert.deepEqual(some.tables(), dialect === 'postgresql' ? ['', 'resource', 'stack'].filter((x) => some.tables().includes(x)) : ['resource', 'stack']);
    });
  });
});
