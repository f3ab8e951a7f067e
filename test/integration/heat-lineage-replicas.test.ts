/**
 * `heat-manage db_sync head` as the entrypoint of many replicas at once (HEAT_REPLICAS, default 16),
 * on a database at 71 holding the seed, on MariaDB, PostgreSQL and SQLite: every process exits 0;
 * each of Train's steps 072..086 has exactly one `done` row in migrate_log (one process applied
 * it); the stamp and each revision happened once (alembic_version holds exactly the head; every
 * snapshot has one action); the schema is exactly the upgraded head catalog; the seed is intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, describeDifference } from '../../migrate/catalog/diff.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { loadRepository } from '../../migrate/repository.js';
import { revisionSchema } from '../../migrate/revisions.js';
import { forEachDialect, withTestDatabase } from '../support/db.js';
import { describeRun, startHeat, stepLog } from '../support/heat-cli.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { checkSeedAt71, seedAt28 } from '../support/heat-seed.js';
import { asQueryable } from '../support/targets.js';

const REPLICAS = Number(process.env.HEAT_REPLICAS ?? 16);
const repo = loadRepository(HEAT_REPO);
const HEAD = '97b2a986f922';

await forEachDialect(`${REPLICAS} replicas: db_sync head at once`, (dialect) => {
  test(`${REPLICAS} db_sync head processes on a seeded database at 71`, { timeout: 600_000 }, async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 28);
      await seedAt28(db);
      await heatUpgrade(db.url, 71);
      const procs = Array.from({ length: REPLICAS }, () => startHeat(['db_sync', 'head'], { url: db.url, timeoutMs: 500_000 }));
      const results = await Promise.all(procs.map((p) => p.done));
      const failed = results.filter((r) => r.code !== 0);
      assert.deepEqual(failed.map(describeRun), []);
      const log = await stepLog((sql, p) => db.query(sql, p));
      const problems: string[] = [];
      for (let n = 72; n <= 86; n++) {
        const k = log.filter((r) => r.status === 'done' && r.from === n - 1 && r.to === n).length;
        if (k !== 1) problems.push(`step ${n - 1} -> ${n}: ${k} done rows`);
      }
      assert.deepEqual(problems, []);
      assert.deepEqual((await db.query('SELECT version_num FROM alembic_version')).map((x) => x.version_num), [HEAD]);
      const stamped = results.filter((r) => /stamping c6214ca60943/.test(r.stderr)).length;
      assert.equal(stamped, 1, 'one process stamped');
      const d = diff(revisionSchema(repo, dialect, HEAD)!, await introspect(asQueryable(db))).map(describeDifference);
      assert.deepEqual(d, []);
      await checkSeedAt71(db);
    });
  });
});
