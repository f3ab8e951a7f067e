/**
 * `heat-manage db_check` (issue 16 point 4), the built CLI on the three backends: exact at 71 (exit 0,
 * `schema matches version 71`); each kind of drift named (a dropped index, a widened column, a missing
 * foreign key, an extra table, ON DELETE changed), exit 1, also in `--json`; a half-applied step named
 * with what db_sync will do; a database not under version control described (empty, or exactly some
 * version's schema without its migrate_version row); nothing written (no table created, a SQLite file
 * never created); a MariaDB user with SELECT only and a PostgreSQL role that may read migrate_version
 * only get the same report. Exactness at every version 27..71 is test/integration/heat-schema-every-version.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDialect, serverQuery, skipUnlessReachable, withTestDatabase, type TestDatabase, type TestDialect } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { heatUpgrade, heatVersionControl } from '../support/heat-run.js';

const PASSWORD = 'S3cret-heat-pw'; // one of secrets.ts's: the suite checks it never shows
const uniqueUser = () => `dc_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;

async function at71(db: TestDatabase): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 71);
}

/** SQLite has no ALTER for types, constraints or rules: the table is rebuilt from its CREATE TABLE text with `from` replaced by `to`. */
async function sqliteSchemaEdit(db: TestDatabase, table: string, from: RegExp, to: string): Promise<void> {
  const Database = (await import('better-sqlite3')).default;
  const c = new Database(db.file!);
  try {
    const sql = (c.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
    assert.match(sql, from, `${table}'s CREATE TABLE`);
    const indexes = (c.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as { sql: string }[]).map((r) => r.sql);
    c.pragma('foreign_keys = OFF');
    c.pragma('legacy_alter_table = ON'); // other tables' references stay on the name
    c.exec(`ALTER TABLE "${table}" RENAME TO "${table}__old"`);
    c.exec(sql.replace(from, to));
    c.exec(`INSERT INTO "${table}" SELECT * FROM "${table}__old"`);
    c.exec(`DROP TABLE "${table}__old"`);
    for (const i of indexes) c.exec(i);
  } finally {
    c.close();
  }
}

interface Drift {
  readonly what: string;
  /** The line db_check prints for it. */
  readonly line: RegExp;
  /** The JSON difference it gives. */
  readonly json: { kind: string; table: string; change: string };
  /** The only difference (otherwise others may come with it: MariaDB re-creates a key's index under another name). */
  readonly one?: boolean;
  apply(db: TestDatabase): Promise<void>;
}

const DRIFTS = (d: TestDialect): Drift[] => [
  {
    what: 'a dropped index',
    line: /^ {2}index stack\.ix_stack_name: missing$/m,
    one: true,
    json: { kind: 'index', table: 'stack', change: 'missing' },
    apply: (db) => db.query(d === 'mysql' ? 'DROP INDEX ix_stack_name ON stack' : 'DROP INDEX ix_stack_name').then(() => undefined),
  },
  {
    what: 'a widened column',
    line: /^ {2}column service\.topic: type (varchar\(512\)|character varying\(512\)|VARCHAR\(512\)), expected (varchar\(255\)|character varying\(255\)|VARCHAR\(255\))$/m,
    one: true,
    json: { kind: 'column', table: 'service', change: 'differs' },
    apply: (db) =>
      d === 'mysql'
        ? db.query('ALTER TABLE service MODIFY topic VARCHAR(512) NOT NULL').then(() => undefined)
        : d === 'postgresql'
          ? db.query('ALTER TABLE service ALTER COLUMN topic TYPE VARCHAR(512)').then(() => undefined)
          : sqliteSchemaEdit(db, 'service', /topic VARCHAR\(255\)/, 'topic VARCHAR(512)'),
  },
  {
    what: 'a missing foreign key',
    line: /^ {2}foreign key event\.(event_ibfk_1|event_stack_id_fkey|\(stack_id\) -> stack\(id\)): missing$/m,
    json: { kind: 'foreign key', table: 'event', change: 'missing' },
    apply: (db) =>
      d === 'mysql'
        ? db.query('ALTER TABLE event DROP FOREIGN KEY event_ibfk_1').then(() => undefined)
        : d === 'postgresql'
          ? db.query('ALTER TABLE event DROP CONSTRAINT event_stack_id_fkey').then(() => undefined)
          : sqliteSchemaEdit(db, 'event', /,\s*FOREIGN KEY\s*\(stack_id\) REFERENCES "?stack"? \(id\)/, ''),
  },
  {
    what: 'an extra table',
    line: /^ {2}table hand_made: not expected \(extra\)$/m,
    one: true,
    json: { kind: 'table', table: 'hand_made', change: 'unexpected' },
    apply: (db) => db.query('CREATE TABLE hand_made (id INTEGER)').then(() => undefined),
  },
  {
    what: 'ON DELETE changed',
    line: /^ {2}foreign key event\.(event_ibfk_1|event_stack_id_fkey|\(stack_id\) -> stack\(id\)): (.*; )?on delete (CASCADE|ON DELETE CASCADE), expected (RESTRICT|ON DELETE NO ACTION)$/m,
    json: { kind: 'foreign key', table: 'event', change: 'differs' },
    apply: async (db) => {
      if (d === 'sqlite') return sqliteSchemaEdit(db, 'event', /(FOREIGN KEY\s*\(stack_id\) REFERENCES "?stack"? \(id\))/, '$1 ON DELETE CASCADE');
      const fk = d === 'mysql' ? 'event_ibfk_1' : 'event_stack_id_fkey';
      await db.query(d === 'mysql' ? `ALTER TABLE event DROP FOREIGN KEY ${fk}` : `ALTER TABLE event DROP CONSTRAINT ${fk}`);
      await db.query(`ALTER TABLE event ADD CONSTRAINT ${fk} FOREIGN KEY (stack_id) REFERENCES stack (id) ON DELETE CASCADE`);
    },
  },
];

await forEachDialect('heat-manage db_check', (dialect) => {
  test('at 71: "schema matches version 71", exit 0; --json says matches', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await at71(db);
      const r = await runHeat(['db_check'], { url: db.url });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'schema matches version 71\n');
      const j = await runHeat(['db_check', '--json'], { url: db.url });
      assert.equal(j.code, 0, j.stderr);
      const doc = JSON.parse(j.stdout) as { version: number; state: string; matches: boolean; differences: unknown[] };
      assert.deepEqual([doc.version, doc.state, doc.matches, doc.differences], [71, 'exact', true, []]);
    });
  });

  for (const drift of DRIFTS(dialect)) {
    test(`${drift.what} is named, exit 1 (text and --json)`, async (t) => {
      await withTestDatabase(t, dialect, async (db) => {
        await at71(db);
        await drift.apply(db);
        const r = await runHeat(['db_check'], { url: db.url });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stdout, drift.one ? /^schema differs from version 071's \(\w+, 1 difference\):\n/ : /^schema differs from version 071's \(\w+, \d+ differences?\):\n/);
        assert.match(r.stdout, drift.line);
        const j = await runHeat(['db_check', '--json'], { url: db.url });
        assert.equal(j.code, 1);
        const doc = JSON.parse(j.stdout) as { matches: boolean; differences: { kind: string; table: string; change: string }[] };
        assert.equal(doc.matches, false);
        const got = doc.differences.map(({ kind, table, change }) => ({ kind, table, change }));
        if (drift.one) assert.deepEqual(got, [drift.json]);
        else assert.ok(got.some((x) => JSON.stringify(x) === JSON.stringify(drift.json)), JSON.stringify(got));
      });
    });
  }

  if (dialect !== 'sqlite') {
    test('a half-applied step is named with what db_sync will do; db_sync then finishes it', async (t) => {
      await withTestDatabase(t, dialect, async (db) => {
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 57);
        await db.query("UPDATE migrate_version SET version = 56 WHERE repository_id = 'heat'");
        const r = await runHeat(['db_check'], { url: db.url });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stdout, /^step 057 \(057_resource_uuid_to_id\.js\) is half applied: its schema changes are all applied; .*; `heat-manage db_sync` will finish it$/m);
        const j = JSON.parse((await runHeat(['db_check', '--json'], { url: db.url })).stdout) as { state: string; next: { step: number; state: string } };
        assert.deepEqual([j.state, j.next.step, j.next.state], ['partial', 57, 'partial']);
        assert.equal((await runHeat(['db_sync', '57'], { url: db.url })).code, 0);
        assert.equal((await runHeat(['db_check'], { url: db.url })).stdout, 'schema matches version 57\n');
      });
    });
  }

  test('not under version control: an empty database is said so and left empty', async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      if (dialect === 'sqlite') await db.query('CREATE TABLE x (id INTEGER)').then(() => db.query('DROP TABLE x')); // an existing, empty file
      const r = await runHeat(['db_check'], { url: db.url });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, 'the database is not under version control (no migrate_version table) and has no tables: `heat-manage db_sync` creates the schema\n');
      const tables =
        dialect === 'mysql'
          ? await db.query('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()')
          : dialect === 'postgresql'
            ? await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            : await db.query("SELECT name FROM sqlite_master WHERE type = 'table'");
      assert.deepEqual(tables, []);
    });
  });

  test("not under version control: a schema that is exactly 71's without its migrate_version row is recognised", async (t) => {
    await withTestDatabase(t, dialect, async (db) => {
      await at71(db);
      await db.query('DROP TABLE migrate_version');
      const r = await runHeat(['db_check'], { url: db.url });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /not under version control \(no migrate_version table\); its schema is exactly that of version 71: record that version/);
    });
  });
});

describe('heat-manage db_check writes nothing and needs only read access', () => {
  test('SQLite: a database file that is not there is not created', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dbcheck-')), 'heat.sqlite');
    const r = await runHeat(['db_check'], { url: `sqlite:///${file}` });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ERROR: .*unable to open database file/);
    assert.equal(existsSync(file), false);
  });

  test('MariaDB: a user with SELECT only gets the same report', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    await withTestDatabase(t, 'mysql', async (db) => {
      await at71(db);
      const user = uniqueUser();
      await serverQuery('mysql', `CREATE USER '${user}'@'%' IDENTIFIED BY ?`, [PASSWORD]);
      try {
        await serverQuery('mysql', `GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'%'`);
        const r = await runHeat(['db_check'], { url: `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:3306/${db.name}` });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'schema matches version 71\n');
      } finally {
        await serverQuery('mysql', `DROP USER IF EXISTS '${user}'@'%'`);
      }
    });
  });

  test('PostgreSQL: a role that may read migrate_version only gets the same report', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    await withTestDatabase(t, 'postgresql', async (db) => {
      await at71(db);
      const role = uniqueUser();
      await serverQuery('postgresql', `CREATE ROLE "${role}" LOGIN PASSWORD '${PASSWORD}'`);
      try {
        await serverQuery('postgresql', `GRANT USAGE ON SCHEMA public TO "${role}"`, [], db.name);
        await serverQuery('postgresql', `GRANT SELECT ON migrate_version TO "${role}"`, [], db.name);
        const r = await runHeat(['db_check'], { url: `postgresql://${role}:${PASSWORD}@127.0.0.1:5432/${db.name}` });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'schema matches version 71\n');
      } finally {
        await serverQuery('postgresql', `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "${role}"`, [], db.name).catch(() => undefined);
        await serverQuery('postgresql', `REVOKE ALL ON SCHEMA public FROM "${role}"`, [], db.name).catch(() => undefined);
        await db.drop();
        await serverQuery('postgresql', `DROP ROLE IF EXISTS "${role}"`);
      }
    });
  });
});
