/**
 * Crash safety of Train's steps 072..086 and of the Alembic revisions: a run interrupted after any
 * statement of a step or revision, then run again, ends in exactly that version's (revision's)
 * schema with the seed's data intact (test/support/heat-seed.ts; 086 discards only the watch rows).
 *
 * The interruption is the engine's hook MIGRATE_TEST_ABORT=<to>:<k> (throw after the k-th statement
 * of the step that goes to <to>; a revision runs as a step to 86, so on a database already at 86 it
 * hits the revision being run). On MariaDB DDL commits by itself: the work done so far stays, the
 * version is not bumped, and the next run resumes the step (its script finds what is there; the
 * gate first checks the state is one the step's `assess` knows). On PostgreSQL and SQLite a step and
 * a revision are one transaction each: the interruption leaves nothing, checked by the rerun.
 *
 * Every (step, k) on MariaDB; on PostgreSQL and SQLite the first statement of each multi-statement
 * step and revision. The statement counts are those of our scripts (introspection through
 * migrate_engine.schema is not a statement).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, describeDifference } from '../../migrate/catalog/diff.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { loadRepository } from '../../migrate/repository.js';
import { revisionSchema } from '../../migrate/revisions.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import { forEachDialect, withTestDatabase, type TestDatabase } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { checkSeedAt71, seedAt28 } from '../support/heat-seed.js';
import { asQueryable } from '../support/targets.js';

const repo = loadRepository(HEAT_REPO);
/** Statements of each multi-statement step of ours (MariaDB). */
const STEPS: ReadonlyArray<[to: number, statements: number]> = [[72, 3], [73, 2], [79, 5], [80, 2], [86, 4]];
/** Revisions: [target, the one before it, statements on MariaDB]. */
const REVISIONS: ReadonlyArray<[rev: string, statements: number]> = [['88be64598c0f', 3], ['97b2a986f922', 2]];

async function seededAt(db: TestDatabase, v: number): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 28);
  await seedAt28(db);
  await heatUpgrade(db.url, v);
  await db.query("INSERT INTO snapshot (id, stack_id, name, status, status_reason, data, tenant, created_at) SELECT 'snap-1', id, 'one', 'COMPLETE', '', NULL, 'tenant-1', created_at FROM stack WHERE id = 's-root'");
}

async function same(db: TestDatabase, want: ReturnType<typeof revisionSchema>): Promise<string[]> {
  assert.ok(want);
  return diff(want, await introspect(asQueryable(db))).map(describeDifference);
}

await forEachDialect('interrupted Train steps and revisions converge', (dialect) => {
  const ks = (n: number) => (dialect === 'mysql' ? Array.from({ length: n }, (_, i) => i + 1) : [1]);
  for (const [to, n] of STEPS) {
    test(`step ${to} interrupted after each statement, then run again`, async (t) => {
      const problems: string[] = [];
      for (const k of ks(n)) {
        await withTestDatabase(t, dialect, async (db) => {
          await seededAt(db, to - 1);
          await assert.rejects(heatUpgrade(db.url, to, { MIGRATE_TEST_ABORT: `${to}:${k}` }), /test abort/);
          const v = Number((await db.query('SELECT version FROM migrate_version'))[0]!.version);
          if (v !== to - 1) problems.push(`${to}:${k}: version ${v} after the interruption`);
          await heatUpgrade(db.url, to);
          const d = await same(db, expectedSchemas(repo).get(dialect, to));
          if (d.length) problems.push(`${to}:${k}: ${d.join('; ')}`);
          await db.query('DELETE FROM snapshot');
          await checkSeedAt71(db);
        });
      }
      assert.deepEqual(problems, []);
    });
  }

  for (const [rev, n] of REVISIONS) {
    test(`revision ${rev} interrupted after each statement, then db_sync head`, async (t) => {
      const problems: string[] = [];
      for (const k of ks(n)) {
        await withTestDatabase(t, dialect, async (db) => {
          await seededAt(db, 86);
          const i = ['c6214ca60943', 'd2db381e3324', '88be64598c0f', '97b2a986f922'].indexOf(rev);
          let r = await runHeat(['db_sync', ['c6214ca60943', 'd2db381e3324', '88be64598c0f'][i - 1]!], { url: db.url });
          assert.equal(r.code, 0, r.stderr);
          r = await runHeat(['db_sync', rev], { url: db.url, env: { MIGRATE_TEST_ABORT: `86:${k}` } });
          if (r.code === 0) problems.push(`${rev}:${k}: not interrupted`);
          r = await runHeat(['db_sync', 'head'], { url: db.url });
          if (r.code !== 0) problems.push(`${rev}:${k}: the rerun failed: ${r.stderr.trim().split('\n').pop()}`);
          const d = await same(db, revisionSchema(repo, dialect, '97b2a986f922'));
          if (d.length) problems.push(`${rev}:${k}: ${d.join('; ')}`);
          const actions = (await db.query('SELECT action FROM snapshot')).map((x) => x.action);
          if (JSON.stringify(actions) !== '["CREATE"]') problems.push(`${rev}:${k}: snapshot actions ${JSON.stringify(actions)}`);
          await db.query('DELETE FROM snapshot');
          await checkSeedAt71(db);
        });
      }
      assert.deepEqual(problems, []);
    });
  }
});
