/**
 * heat-manage db_sync / db_version across Heat's lineage (SPEC A5, A6; issue 17 point 2), end to end
 * through the CLI on MariaDB, PostgreSQL and SQLite:
 * - `db_sync` without VERSION still means 71; `db_sync 86` stops at Train; `db_sync head` stamps
 *   c6214ca60943 on the database at 86 and runs the three revisions: the schema is exactly the
 *   upgraded head catalog (real master's, gen_lineage.py), `alembic_version` holds head,
 *   `migrate_version` keeps (heat, 86); the seed written at 28 is intact (its 71 values), 086
 *   dropped the watch tables and every snapshot got action 'CREATE';
 * - a database further along is never taken lower: `db_sync` (no VERSION) at 86 and at head does
 *   nothing and says so, exit 0; `db_sync 85` at 86 is refused; digits under Alembic are refused with
 *   master's words; `db_sync c6214ca60943` at head is a no-op;
 * - db_version prints 86 at 86 and the revision id under Alembic;
 * - never a blind stamp: a migrate_version that says 86 over a 71 schema is refused (by `db_sync` and
 *   `db_sync head`), nothing changed; a database real master stamped blindly at 71 (its revisions run
 *   on it) is recognised and completed to exactly the upgraded head, its data kept;
 * - the management commands at 86 stop with one line naming `db_sync head`.
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
const HEAD = '97b2a986f922';

async function seededAt(db: TestDatabase, v: number): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 28);
  await seedAt28(db);
  await heatUpgrade(db.url, v);
}

async function differences(db: TestDatabase, want: ReturnType<typeof revisionSchema>): Promise<string[]> {
  assert.ok(want, 'an expected catalog');
  return diff(want, await introspect(asQueryable(db))).map(describeDifference);
}

/** What "unchanged" compares: the catalog, every table's row count, both version tables. */
async function snapshot(db: TestDatabase): Promise<string> {
  const c = await introspect(asQueryable(db));
  const counts: string[] = [];
  for (const t of c.tables().filter((x) => x !== '')) counts.push(`${t}=${String((await db.query(`SELECT COUNT(*) AS n FROM ${t}`))[0]!.n)}`);
  return [c.serialize(), counts.join(' ')].join('\n');
}

const errorLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('ERROR: '));

await forEachDialect('db_sync across the lineage', (dialect) => {
  test('71 -> 86 -> head with the seed: exact schemas, versions, data; nothing lower, nothing twice', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 71);
      await db.query("INSERT INTO snapshot (id, stack_id, name, status, status_reason, data, tenant, created_at) SELECT 'snap-1', id, 'one', 'FAILED', '', NULL, 'tenant-1', created_at FROM stack WHERE id = 's-root'");
      let r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, '71\n');

      r = await runHeat(['db_sync', '86'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await differences(db, expectedSchemas(repo).get(dialect, 86)), []);
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, '86\n');

      r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /database is at version 86 \(past version 71, which db_sync without VERSION means\); nothing to do/);
      r = await runHeat(['db_sync', '85'], { url: db.url });
      assert.equal(r.code, 1);
      assert.deepEqual(errorLines(r.stderr), ['ERROR: Cannot migrate to lower schema version.']);
      r = await runHeat(['purge_deleted'], { url: db.url });
      assert.equal(r.code, 1);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(errorLines(r.stderr)[0]!, /run heat-manage db_sync head/);

      r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stamping c6214ca60943/);
      assert.match(r.stderr, /Running upgrade 88be64598c0f -> 97b2a986f922, make snapshot state aware/);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
      assert.deepEqual((await db.query('SELECT version_num FROM alembic_version')).map((x) => x.version_num), [HEAD]);
      assert.deepEqual((await db.query('SELECT repository_id, version FROM migrate_version')).map((x) => [x.repository_id, Number(x.version)]), [['heat', 86]]);
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, `${HEAD}\n`);
      assert.deepEqual((await db.query('SELECT id, action FROM snapshot')).map((x) => [x.id, x.action]), [['snap-1', 'CREATE']]);
      await db.query('DELETE FROM snapshot');
      await checkSeedAt71(db);

      const before = await snapshot(db);
      r = await runHeat(['db_sync'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`database is at revision ${HEAD} .*nothing to do`));
      r = await runHeat(['db_sync', 'c6214ca60943'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      r = await runHeat(['db_sync', '86'], { url: db.url });
      assert.equal(r.code, 1);
      assert.deepEqual(errorLines(r.stderr), ['ERROR: You requested an sqlalchemy-migrate database version; this is no longer supported']);
      r = await runHeat(['db_sync', 'abcdef123456'], { url: db.url });
      assert.equal(r.code, 1);
      assert.deepEqual(errorLines(r.stderr), ["ERROR: Can't locate revision identified by 'abcdef123456'"]);
      assert.equal(await snapshot(db), before);
    });
  });

  test('one revision at a time: exact at each, db_version and db_check (exact, naming the revision) at each', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 86);
      for (const rev of ['c6214ca60943', 'd2db3', '88be64598c0f', 'head']) {
        const r = await runHeat(['db_sync', rev], { url: db.url });
        assert.equal(r.code, 0, r.stderr);
        const id = (await db.query('SELECT version_num FROM alembic_version'))[0]!.version_num as string;
        assert.ok(id.startsWith(rev === 'head' ? HEAD : rev), `${rev}: ${id}`);
        assert.deepEqual(await differences(db, revisionSchema(repo, dialect, id)), [], id);
        assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, `${id}\n`);
        const c = await runHeat(['db_check'], { url: db.url });
        assert.equal(c.code, 0, c.stdout + c.stderr);
        assert.equal(c.stdout, `schema matches revision ${id}\n`);
      }
      await db.query('ALTER TABLE snapshot DROP COLUMN action');
      const c = await runHeat(['db_check'], { url: db.url });
      assert.equal(c.code, 1);
      assert.match(c.stdout, new RegExp(`^schema differs from revision ${HEAD}'s`));
    });
  });

  test('28 -> head in one db_sync head call: the upgraded head, exactly', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 28);
      const r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
    });
  });

  test('never a blind stamp: 86 recorded over a 71 schema is refused, nothing changed', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await heatVersionControl(db.url);
      await heatUpgrade(db.url, 71);
      await db.query("UPDATE migrate_version SET version = 86 WHERE repository_id = 'heat'");
      const before = await snapshot(db);
      for (const args of [['db_sync'], ['db_sync', 'head']]) {
        const r = await runHeat(args, { url: db.url });
        assert.equal(r.code, 1, r.stderr);
        const lines = errorLines(r.stderr);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, /86.*not (that version's|version 86's).*nothing was changed/);
        assert.equal(await snapshot(db), before);
      }
    });
  });

  test('a database real master stamped blindly at 71 (and ran its revisions) is recognised and completed to the upgraded head', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await seededAt(db, 71);
      // What real master's db_sync sends on a 71 database (SPEC A4.2, A4.3, A4.4): the stamp, then the three revisions.
      const long = dialect === 'mysql' ? 'LONGTEXT' : 'TEXT';
      const ts = dialect === 'postgresql' ? 'TIMESTAMP WITHOUT TIME ZONE' : 'DATETIME';
      const charset = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8' : ''; // a utf8 database: the run that succeeds in real master
      await db.query('CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))');
      await db.query("INSERT INTO alembic_version (version_num) VALUES ('c6214ca60943')");
      await db.query(`ALTER TABLE sync_point ADD COLUMN extra_data ${long}`);
      await db.query(
        `CREATE TABLE resource_snapshot (id VARCHAR(36) NOT NULL, snapshot_id VARCHAR(36) NOT NULL, resource_name VARCHAR(255) NOT NULL, created_at ${ts}, ` +
          `updated_at ${ts}, data ${long}, PRIMARY KEY (id), FOREIGN KEY(snapshot_id) REFERENCES snapshot (id))${charset}`,
      );
      await db.query('CREATE INDEX ix_resource_snapshot_snapshot_id ON resource_snapshot (snapshot_id)');
      await db.query('ALTER TABLE snapshot ADD COLUMN action VARCHAR(255)');
      await db.query("UPDATE snapshot SET action='CREATE' WHERE snapshot.action IS NULL");
      await db.query(`UPDATE alembic_version SET version_num='${HEAD}' WHERE alembic_version.version_num = 'c6214ca60943'`);
      assert.equal((await runHeat(['db_version'], { url: db.url })).stdout, `${HEAD}\n`);

      const r = await runHeat(['db_sync', 'head'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stamped 97b2a986f922 \(Heat master\) while its legacy version is 71: versions 72\.\.86 were never applied; applying them now/);
      assert.deepEqual(await differences(db, revisionSchema(repo, dialect, HEAD)), []);
      assert.deepEqual((await db.query('SELECT version FROM migrate_version')).map((x) => Number(x.version)), [86]);
      assert.deepEqual((await db.query('SELECT version_num FROM alembic_version')).map((x) => x.version_num), [HEAD]);
      await checkSeedAt71(db);
    });
  });
});
