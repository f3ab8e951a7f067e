/**
 * Fault matrix, part 3: states of the version table that operators find (issue 9), on each backend:
 * a NULL version, a version newer than this release, another project's row only, two rows for
 * heat (a hand-made table without its primary key), and an empty table left by a crashed stamp.
 * Each case runs db_sync and db_version and asserts the exit code, the one ERROR line (or the
 * printed version) and that a refused database is unchanged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_DIALECTS, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { describeRun, runHeat } from '../support/heat-cli.js';
import { assertConverged, assertOk, errorLine, stateOf, withDb } from '../support/faults.js';

const TIMEOUT = 180_000;

/** sqlalchemy-migrate's table; `primaryKey: false` for a hand-made copy without it. */
async function versionTable(db: TestDatabase, rows: [string, number | null][], primaryKey = true): Promise<void> {
  await db.query(
    `CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, repository_path TEXT, version INTEGER${primaryKey ? ', PRIMARY KEY (repository_id)' : ''})`,
  );
  for (const [id, v] of rows) {
    await db.query('INSERT INTO migrate_version (repository_id, repository_path, version) VALUES (?, ?, ?)', [
      id,
      `/usr/lib/python3/dist-packages/${id}/db/sqlalchemy/migrate_repo`,
      v,
    ]);
  }
}

/** A Heat table of the havana schema, so the database is not "empty". */
async function someHeatTable(db: TestDatabase): Promise<void> {
  await db.query('CREATE TABLE raw_template (id INTEGER NOT NULL PRIMARY KEY, template TEXT)');
  await db.query("INSERT INTO raw_template (id, template) VALUES (1, '{}')");
}

async function refusedUnchanged(db: TestDatabase, pattern: RegExp, commands: string[][] = [['db_sync'], ['db_version']]): Promise<string[]> {
  const before = await stateOf(db);
  const lines: string[] = [];
  for (const args of commands) {
    const r = await runHeat(args, { url: db.url });
    lines.push(errorLine(r, pattern));
    assert.equal(await stateOf(db), before, `${args.join(' ')} changed nothing`);
  }
  return lines;
}

for (const dialect of ALL_DIALECTS) {
  describe(`fault matrix: version-table states on ${dialect}`, { ...(await skipUnlessReachable(dialect)), concurrency: 4, timeout: TIMEOUT }, () => {
    test(`V1 ${dialect}: a database at 99 (a Heat newer than any legacy version we know, 86): db_sync refuses, one line, unchanged; db_version prints 99`, async () => {
      await withDb(dialect, async (db) => {
        await versionTable(db, [['heat', 99]]);
        await someHeatTable(db);
        await refusedUnchanged(db, /version 99 is newer than this heat-manage \(its newest legacy version is 86\)/, [['db_sync']]);
        const v = await runHeat(['db_version'], { url: db.url });
        assert.equal(v.code, 0, describeRun(v));
        assert.equal(v.stdout, '99\n');
      });
    });

    test(`V2 ${dialect}: migrate_version holding only another project's row (nova at 216) and tables: refused by both commands, unchanged`, async () => {
      await withDb(dialect, async (db) => {
        await versionTable(db, [['nova', 216]]);
        await someHeatTable(db);
        await refusedUnchanged(db, /not under version control, but has tables.*migrate_version has no row for repository 'heat'/);
      });
    });

    test(`V4 ${dialect}: heat's version is NULL: both commands refuse with one line naming migrate_version and the fix, unchanged (was: "version 1 doesn't exist" / prints 0)`, async () => {
      await withDb(dialect, async (db) => {
        await versionTable(db, [['heat', null]]);
        await someHeatTable(db);
        const [line] = await refusedUnchanged(db, /^ERROR: migrate_version\.version is NULL for repository 'heat'/);
        assert.match(line!, /UPDATE migrate_version SET version = N WHERE repository_id = 'heat'/);
      });
    });

    test(`V5 ${dialect}: two rows for heat (a hand-made table without its primary key): refused by both commands, unchanged (was: the first row used)`, async () => {
      await withDb(dialect, async (db) => {
        await versionTable(db, [['heat', 40], ['heat', 28]], false);
        await someHeatTable(db);
        await refusedUnchanged(db, /^ERROR: migrate_version has 2 rows for repository 'heat' \(versions (40, 28|28, 40)\).*PRIMARY KEY/);
      });
    });

    test(`V3 ${dialect}: an empty migrate_version alone (a stamp that crashed between CREATE and INSERT): db_sync finishes the stamp and converges`, async () => {
      await withDb(dialect, async (db) => {
        await versionTable(db, []);
        assertOk(await runHeat(['db_sync'], { url: db.url }));
        await assertConverged(db);
      });
    });
  });
}


