/**
 * `heat-manage db_sync` on an empty database creates the target version's schema directly from
 * Heat's catalog (migrate/fresh.ts), on MariaDB, PostgreSQL and SQLite:
 *
 *  - to 71: one step `027 -> 071 (schema/<d>/071)`, one journal row, version 71, and the schema is
 *    real Heat 6.0.0's target (test/fixtures/heat-schema) fact for fact and dump for dump;
 *  - to an intermediate N (50): exactly the schema the replay of 028..050 produces (and catalog
 *    050); then `db_sync` replays 051..071 step by step onto it and ends at the target; the replay
 *    inserts no row into an empty database (so a schema-only install loses nothing);
 *  - interrupted after k statements (the engine's crash hook) and killed with SIGKILL after a
 *    CREATE TABLE: the next `db_sync` converges (MariaDB: finishes the tables the interrupted run
 *    did not create; PostgreSQL/SQLite: the transaction rolled back, it starts over), version
 *    recorded once;
 *  - the generic `migrate upgrade` still replays every step (heat-schema.test.ts counts 44).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableOfFact, type Catalog } from '../../migrate/catalog/catalog.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { describeDifference, diff } from '../../migrate/catalog/diff.js';
import { loadRepository } from '../../migrate/repository.js';
import { expectedSchemas } from '../../migrate/schemas.js';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { describeRun, dumpDifferences, exactlyOnceProblems, finalVersion, logLines, runHeat, sqlOf, startHeat, stepLog } from '../support/heat-cli.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { dumpOf, heatVersion, withDb } from '../support/faults.js';
import { asQueryable, targetCatalog } from '../support/targets.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');
const LABEL: Record<TestDialect, string> = { mysql: 'MariaDB', postgresql: 'PostgreSQL', sqlite: 'SQLite' };
const STEP = /^(\d{3}) -> (\d{3}) \(([^)]+)\) \.\.\. done in \d+ ms$/;
const repo = loadRepository(HEAT_REPO);

/** The step lines of a run: [from, to, name]. */
const stepLines = (stderr: string) =>
  logLines(stderr)
    .map((l) => STEP.exec(l.msg))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), Number(m[2]), m[3]!] as const);

/** A catalog without the version table (its definition is the tool's, not the application's). */
const withoutVersionTable = (c: Catalog) => c.filter((f) => tableOfFact(c.dialect, f) !== 'migrate_version');

/** The live schema without the version table. */
async function appSchema(db: TestDatabase): Promise<Catalog> {
  return withoutVersionTable(await introspect(asQueryable(db)));
}

async function rowCounts(db: TestDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const q = (t: string) => (db.dialect === 'mysql' ? `\`${t}\`` : `"${t}"`);
  for (const t of (await appSchema(db)).tables().filter((x) => x !== '')) out[t] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${q(t)}`))[0]!.n);
  return out;
}

/** Converged at 71: exit 0, version 71, the target dumps, every version reached once. */
async function assertConverged(db: TestDatabase, r: Awaited<ReturnType<typeof runHeat>>): Promise<void> {
  assert.equal(r.code, 0, describeRun(r));
  assert.equal(finalVersion(r.stderr), 71, describeRun(r));
  assert.equal(await heatVersion(db), 71);
  assert.deepEqual(dumpDifferences(db.dialect, await dumpOf(db)), []);
  assert.deepEqual(exactlyOnceProblems(await stepLog(db.query)), []);
}

for (const dialect of ALL_DIALECTS) {
  describe(`${LABEL[dialect]}: db_sync on an empty database installs the schema directly`, async () => {
    const skip = await skipUnlessReachable(dialect);

    test('to 71: one step from the catalog, real Heat 6.0.0 target schema, recorded once', skip, async () => {
      await withDb(dialect, async (db) => {
        const r = await runHeat(['db_sync'], { url: db.url });
        assert.equal(r.code, 0, describeRun(r));
        assert.deepEqual(stepLines(r.stderr), [[27, 71, `schema/${dialect}/071`]]);
        assert.equal(await heatVersion(db), 71);
        assert.deepEqual(dumpDifferences(dialect, await dumpOf(db)), []);
        const live = await introspect(asQueryable(db));
        assert.deepEqual(diff(targetCatalog(dialect, FIXTURES, `${dialect}-71`), live).map(describeDifference), []);
        const log = await stepLog(db.query);
        assert.deepEqual(log.map((x) => [x.from, x.to, x.status]), [[27, 71, 'done']]);
        const [row] = await db.query("SELECT script FROM migrate_log WHERE repository_id = 'heat'");
        assert.equal(row!.script, `schema/${dialect}/071.tsv`);
        const check = await runHeat(['db_check'], { url: db.url });
        assert.equal(check.code, 0, describeRun(check));
        const again = await runHeat(['db_sync'], { url: db.url });
        assert.equal(again.code, 0, describeRun(again));
        assert.deepEqual(stepLines(again.stderr), []);
      });
    });

    test('to 50: the replayed schema at 50 exactly; then the steps 051..071 replay onto it', skip, async () => {
      const replayed = await createTestDatabase(dialect);
      try {
        await heatVersionControl(replayed.url);
        await heatUpgrade(replayed.url, 50);
        const want = await appSchema(replayed);
        assert.deepEqual(diff(withoutVersionTable(expectedSchemas(repo).get(dialect, 50)!), want).map(describeDifference), [], 'the replay at 50 is catalog 050');
        assert.deepEqual(Object.values(await rowCounts(replayed)).filter((n) => n !== 0), [], 'the replay inserts no row into an empty database');
        await withDb(dialect, async (db) => {
          const r = await runHeat(['db_sync', '50'], { url: db.url });
          assert.equal(r.code, 0, describeRun(r));
          assert.deepEqual(stepLines(r.stderr), [[27, 50, `schema/${dialect}/050`]]);
          assert.equal(await heatVersion(db), 50);
          assert.deepEqual(diff(want, await appSchema(db)).map(describeDifference), []);
          const rest = await runHeat(['db_sync'], { url: db.url });
          assert.deepEqual(
            stepLines(rest.stderr).map(([a, b]) => [a, b]),
            Array.from({ length: 21 }, (_, i) => [50 + i, 51 + i]),
            'the remaining steps run one by one',
          );
          await assertConverged(db, rest);
        });
      } finally {
        await replayed.drop();
      }
    });

    test('interrupted after k statements (crash hook), then db_sync again: converges, recorded once', skip, async () => {
      const tables = expectedSchemas(repo).get(dialect, 71)!.tables().filter((t) => t !== '' && t !== 'migrate_version').length;
      for (const k of [1, Math.ceil(tables / 2), tables]) {
        await withDb(dialect, async (db) => {
          const first = await runHeat(['db_sync'], { url: db.url, env: { MIGRATE_TEST_ABORT: `71:${k}` } });
          assert.equal(first.code, 1, describeRun(first));
          assert.equal(await heatVersion(db), 27, 'not recorded');
          const left = (await appSchema(db)).tables().filter((t) => t !== '');
          // MariaDB's DDL is not transactional: the tables created before the abort stay.
          assert.equal(left.length, dialect === 'mysql' ? k : 0, `tables left after ${k} statements: ${left.join(', ')}`);
          const second = await runHeat(['db_sync'], { url: db.url });
          await assertConverged(db, second);
          if (dialect === 'mysql') {
            assert.ok(logLines(second.stderr).some((l) => /fresh install to 071 was interrupted \(\d+ tables created\): finishing it/.test(l.msg)), describeRun(second));
          }
        });
      }
    });

    test('killed (SIGKILL) after a CREATE TABLE, then db_sync again: converges', skip, async () => {
      await withDb(dialect, async (db) => {
        let seen = 0;
        const p = startHeat(['--debug', 'db_sync'], { url: db.url });
        const createsStack = (line: string) => /^CREATE TABLE [`"]stack[`"]/.test(sqlOf(line) ?? '') && ++seen === 1;
        await p.waitFor(createsStack, 60_000);
        p.kill('SIGKILL');
        const k = await p.done;
        assert.equal(k.signal, 'SIGKILL', describeRun(k));
        const second = await runHeat(['db_sync'], { url: db.url });
        await assertConverged(db, second);
      });
    });

    test('sequences (PostgreSQL) and AUTO_INCREMENT counters (MariaDB) as the replay leaves them on an empty database', skip, async (t) => {
      if (dialect === 'sqlite') return t.skip('SQLite has neither');
      const replayed = await createTestDatabase(dialect);
      try {
        await heatVersionControl(replayed.url);
        await heatUpgrade(replayed.url, 71);
        const state = (db: TestDatabase) =>
          db.query(
            dialect === 'postgresql'
              ? "SELECT sequencename, data_type, start_value, min_value, max_value, increment_by, cycle, last_value FROM pg_sequences WHERE sequencename NOT LIKE 'migrate%' ORDER BY 1"
              : "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'migrate%' ORDER BY 1",
          );
        const want = await state(replayed);
        if (dialect === 'postgresql') assert.ok(want.some((r) => r.sequencename === 'res') && want.some((r) => r.sequencename === 'evt'), JSON.stringify(want));
        await withDb(dialect, async (db) => {
          assert.equal((await runHeat(['db_sync'], { url: db.url })).code, 0);
          assert.deepEqual(await state(db), want);
        });
      } finally {
        await replayed.drop();
      }
    });

    test('a database with a table of its own at 27 is not installed over: the run is refused, unchanged', skip, async () => {
      await withDb(dialect, async (db) => {
        assert.equal((await runHeat(['db_version'], { url: db.url })).code, 0);
        await db.query('CREATE TABLE stack (id VARCHAR(36) NOT NULL PRIMARY KEY)');
        const r = await runHeat(['db_sync'], { url: db.url });
        assert.equal(r.code, 1, describeRun(r));
        assert.equal(await heatVersion(db), 27);
        assert.deepEqual((await appSchema(db)).tables(), ['stack']);
      });
    });
  });
}
