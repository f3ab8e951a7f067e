/**
 * Crash safety of Heat's migrations on MariaDB, where DDL commits by itself: a step interrupted
 * after any of its statements must, when the upgrade is simply run again, end in exactly the target
 * schema and the same data as an uninterrupted run.
 *
 * Each case: a seeded database (test/support/heat-seed.ts) at version s-1; `upgrade` with the
 * engine's hook MIGRATE_TEST_ABORT=<s>:<k> (throw after the k-th statement of step s) fails and
 * leaves the version at s-1; a second `upgrade` (the engine now marks the step as resumed) reaches
 * 71; the dumps must equal the target files and the data the seed's expected values.
 *
 * The number of statements of each step is measured first (from the engine's SQL log, without the
 * engine's own bookkeeping statements). By default a representative subset runs: every step with
 * more than one statement, interrupted after its first and after its last-but-one statement, and
 * every step interrupted after its last statement (work done, version not bumped) for the steps
 * with data. HEAT_CRASH_FULL=1 runs every (step, k). HEAT_CRASH_CONCURRENCY (default 3) databases
 * run at once. Measured here (2 cores, shared servers): subset 43 cases in 14 s, full matrix 77 cases
 * in 20 s at load ~3 (16 s and 68 s while other test suites loaded the machine).
 *
 * On PostgreSQL and SQLite a step is one transaction; a few mid-step interruptions check that it
 * leaves the schema untouched and that the next run completes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../../migrate/api.js';
import type { Logger } from '../../migrate/script/contract.js';
import { createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { dumpMysql, dumpPg, dumpSqlite, mysqlTableOptions } from '../support/dump.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { checkSeedAt71, seedAt28 } from '../support/heat-seed.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const FULL = process.env.HEAT_CRASH_FULL === '1';
const CONCURRENCY = Number(process.env.HEAT_CRASH_CONCURRENCY ?? 3);
/** Steps whose scripts change data (their last statement matters most). */
const DATA_STEPS = new Set([29, 32, 34, 35, 37, 41, 43, 45, 47, 52, 56, 57, 63, 65]);

/**
 * Engine statements (version table, step log, lock, transactions, and the schema catalog reads of
 * the run's checks: migrate/dialect/*-catalog.ts) are not the script's.
 */
const ENGINE_SQL =
  /migrate_|^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SELECT (GET|RELEASE)_LOCK)|information_schema\.|\bpg_(attribute|constraint|index|class)\b|^\s*PRAGMA (table_info|index_list|index_info|foreign_key_list)\(|FROM sqlite_master WHERE type = 'table'|^\s*SHOW CREATE TABLE/i;

/** A database at version `at` (seeded at 28 when `at` >= 28). */
async function prepared(at: number, dialect: TestDialect = 'mysql'): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  await heatVersionControl(db.url);
  if (at >= 28) {
    await heatUpgrade(db.url, 28);
    await seedAt28(db);
    if (at > 28) await heatUpgrade(db.url, at);
  }
  return db;
}

/** Statements each step sends through migrate_engine, on the seeded database. */
async function statementCounts(): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  let step: number | null = null;
  const logger = {
    info() {}, warn() {}, error() {},
    debug(o: unknown, msg?: string) {
      const sql = (o as { sql?: string }).sql;
      if (msg === 'SQL' && step !== null && sql && !ENGINE_SQL.test(sql)) counts.set(step, (counts.get(step) ?? 0) + 1);
    },
  } as unknown as Logger;
  const onStep = (e: api.StepEvent) => {
    step = e.type === 'start' ? e.to : null;
  };
  const run = async (db: TestDatabase, to: number) => {
    await api.upgrade(db.url, HEAT_REPO, to, { logger, logSql: true, onStep });
  };
  const empty = await prepared(27);
  try {
    await run(empty, 28); // 028 runs on an empty database
  } finally {
    await empty.drop();
  }
  const seeded = await prepared(28);
  try {
    await run(seeded, 71);
  } finally {
    await seeded.drop();
  }
  return counts;
}

function cases(counts: Map<number, number>): Array<[step: number, k: number]> {
  const out: Array<[number, number]> = [];
  for (let s = 28; s <= 71; s++) {
    const n = counts.get(s) ?? 0;
    const ks = new Set<number>();
    for (let k = 1; k <= n; k++) {
      if (FULL || (n > 1 && (k === 1 || k === n - 1)) || (k === n && DATA_STEPS.has(s))) ks.add(k);
    }
    for (const k of ks) out.push([s, k]);
  }
  return out;
}

describe('Heat crash safety on MariaDB', { concurrency: CONCURRENCY }, async () => {
  const opts = await skipUnlessReachable('mysql');
  if (opts.skip) {
    test('interrupted steps converge', opts, () => {});
    return;
  }
  const t0 = Date.now();
  const counts = await statementCounts();
  assert.ok((counts.get(28) ?? 0) >= 8, `028 issues at least 8 statements (counted ${counts.get(28)})`);
  assert.ok((counts.get(57) ?? 0) >= 5, `057 issues several statements (counted ${counts.get(57)})`);
  const list = cases(counts);
  const started = Date.now();
  process.on('exit', () => {
    process.stderr.write(
      `heat-crash: ${list.length} cases (${FULL ? 'full matrix' : 'subset; HEAT_CRASH_FULL=1 for all'}), ` +
        `counting ${started - t0} ms, cases ${Date.now() - started} ms at concurrency ${CONCURRENCY}\n`,
    );
  });

  for (const [s, k] of list) {
    test(`step ${s} interrupted after statement ${k} of ${counts.get(s)}, then run again`, async () => {
      const db = await prepared(s - 1);
      try {
        await assert.rejects(heatUpgrade(db.url, 71, { MIGRATE_TEST_ABORT: `${s}:${k}` }), /abort/i);
        const version = Number((await db.query('SELECT version FROM migrate_version'))[0]!.version);
        assert.equal(version, s - 1);
        const result = await heatUpgrade(db.url, 71);
        assert.equal(result.to, 71);
        const d = await dumpMysql(db.name);
        assert.equal(d.columns, fixture('mysql-71-columns.tsv'));
        assert.equal(d.indexesExt, fixture('mysql-71-indexes-ext.tsv'));
        assert.equal(d.fks, fixture('mysql-71-fks.tsv'));
        for (const o of await mysqlTableOptions(db.name)) {
          if (o.table !== 'migrate_version') assert.deepEqual([o.table, o.engine, o.collation], [o.table, 'InnoDB', 'utf8mb3_general_ci']);
        }
        if (s > 28) await checkSeedAt71(db);
      } finally {
        await db.drop();
      }
    });
  }
});

/**
 * PostgreSQL and SQLite run a step in one transaction: an interrupted step leaves nothing behind
 * (the version stays, and the scripts do nothing outside the transaction), and the next run
 * completes it. A few multi-statement steps, interrupted in the middle, on a seeded database.
 */
for (const dialect of ['postgresql', 'sqlite'] as const) {
  describe(`Heat interrupted steps on ${dialect}`, async () => {
    const opts = await skipUnlessReachable(dialect);
    for (const [s, k] of [[35, 2], [37, 2], [56, 3], [57, 4], [61, 2], [65, 3]] as const) {
      test(`step ${s} interrupted after statement ${k} rolls back, then completes`, opts, async () => {
        const db = await prepared(s - 1, dialect);
        try {
          const before = dialect === 'postgresql' ? await dumpPg(db.name) : await dumpSqlite(db.file!);
          await assert.rejects(heatUpgrade(db.url, 71, { MIGRATE_TEST_ABORT: `${s}:${k}` }), /abort/i);
          assert.equal(Number((await db.query('SELECT version FROM migrate_version'))[0]!.version), s - 1);
          assert.equal(dialect === 'postgresql' ? await dumpPg(db.name) : await dumpSqlite(db.file!), before);
          await heatUpgrade(db.url, 71);
          if (dialect === 'postgresql') assert.equal(await dumpPg(db.name), fixture('postgresql-71-catalog.tsv'));
          else assert.equal(await dumpSqlite(db.file!), fixture('sqlite-71-catalog.tsv'));
          await checkSeedAt71(db);
        } finally {
          await db.drop();
        }
      });
    }
  });
}
