/**
 * CLI commands against a real database, on each backend (SPEC §2, §5.3, §6, §10.2, §11):
 * per-dialect .sql precedence over a module script and the `default` fallback, .sql execution
 * (comments, quoted semicolons, BEGIN/COMMIT skipped with a warning, ROLLBACK refused, a failing
 * statement), preview_sql (prints SQL, executes nothing), preview_py, the `test` command's five
 * lines, `manage` launchers with baked defaults, and timestamp-numbered repositories.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import {
  lines,
  removeDir,
  runMigrate,
  runNode,
  show,
  snapshot,
  sqlModule,
  tableNames,
  tempDir,
  putUnderControl,
  versionRows,
  writeRepo,
  type CliResult,
} from '../support/cli.js';
import { withCliDb } from '../support/cli.js';

interface Ctx {
  db: TestDatabase;
  dir: string;
  migrate: (...args: string[]) => Promise<CliResult>;
}

function withDb(t: TestContext, d: TestDialect, fn: (c: Ctx) => Promise<void>): Promise<void> {
  return withCliDb(t, d, 'migrate-clidb-', (db, dir) => fn({ db, dir, migrate: (...args) => runMigrate(args, { cwd: dir }) }));
}

async function vc(c: Ctx, repo: string, v?: string): Promise<void> {
  await putUnderControl(c.db.url, repo, v === undefined ? undefined : Number(v));
}

const OTHER: Record<TestDialect, TestDialect> = { mysql: 'postgresql', postgresql: 'sqlite', sqlite: 'mysql' };

for (const d of ALL_DIALECTS) {
  describe(`CLI on ${d}`, { concurrency: true }, () => {
    test('-d: DEBUG lines on stdout show the SQL sent; the result stays the last line; -q keeps the result', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: { '001_a.mjs': sqlModule(['CREATE TABLE dbg1 (id INTEGER)']) } });
        await vc(c, repo);
        const r = await c.migrate('db_version', c.db.url, repo, '-d');
        assert.equal(r.code, 0, show(r));
        const out = lines(r.stdout);
        assert.equal(out.at(-1), '0', show(r));
        assert.ok(out.length > 1, `debug lines on stdout (SPEC §1.3):\n${show(r)}`);
        assert.ok(out.some((l) => /SELECT .*migrate_version/i.test(l)), `the statement on the version table is shown:\n${show(r)}`);
        const up = await c.migrate('upgrade', c.db.url, repo, '--debug');
        assert.equal(up.code, 0, show(up));
        assert.ok(lines(up.stdout).some((l) => /CREATE TABLE dbg1/.test(l)), `the script's statement is shown:\n${show(up)}`);
        assert.ok(up.stdout.includes('0 -> 1... \n') && up.stdout.includes('done\n'), show(up));
        const q = await c.migrate('db_version', c.db.url, repo, '-q');
        assert.deepEqual([q.code, q.stdout, q.stderr], [0, '1\n', '']);
      }));

    test('-- then --name=value words: still parameters, as in sqlalchemy-migrate (its test_main: version -- --repository=R)', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: { '001_a.mjs': sqlModule(['CREATE TABLE dd1 (id INTEGER)']) } });
        const v = await c.migrate('version', '--', `--repository=${repo}`);
        assert.deepEqual([v.code, v.stdout], [0, '1\n'], show(v));
        const w = await c.migrate('version', '--', repo, '--foo');
        assert.deepEqual([w.code, w.stdout], [0, '1\n'], show(w));
        await vc(c, repo);
        const up = await c.migrate('upgrade', '--', `--url=${c.db.url}`, `--repository=${repo}`);
        assert.equal(up.code, 0, show(up));
        const r = await c.migrate('db_version', '--', c.db.url, `--repository=${repo}`, '--disable_logging');
        assert.deepEqual([r.code, r.stdout], [0, '1\n'], show(r));
        assert.ok((await tableNames(c.db)).includes('dd1'));
      }));

    test('script selection: the backend\'s .sql wins over the module, then default .sql, then the module', (t) =>
      withDb(t, d, async (c) => {
        const mark = (name: string) => `CREATE TABLE ${name} (id INTEGER);\n`;
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: {
            '001_a.mjs': sqlModule(['CREATE TABLE v1_module (id INTEGER)'], ['DROP TABLE v1_module_down_ran_but_should_not']),
            [`001_a_${d}_upgrade.sql`]: mark('v1_dialect'),
            '001_a_default_upgrade.sql': mark('v1_default'),
            [`001_a_${d}_downgrade.sql`]: 'DROP TABLE v1_dialect;\n',
            '002_b.mjs': sqlModule(['CREATE TABLE v2_module (id INTEGER)'], ['DROP TABLE v2_default']),
            '002_b_default_upgrade.sql': mark('v2_default'),
            [`002_b_${OTHER[d]}_upgrade.sql`]: mark('v2_other'),
            '003_c.mjs': sqlModule(['CREATE TABLE v3_module (id INTEGER)'], ['DROP TABLE v3_module']),
            [`003_c_${OTHER[d]}_upgrade.sql`]: mark('v3_other'),
          },
        });
        await vc(c, repo);
        const up = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(up.stdout, '0 -> 1... \ndone\n1 -> 2... \ndone\n2 -> 3... \ndone\n', show(up));
        assert.equal(up.code, 0, show(up));
        const user = (await tableNames(c.db)).filter((x) => !x.startsWith('migrate_'));
        assert.deepEqual(user, ['v1_dialect', 'v2_default', 'v3_module']);
        // Down: 3 by its module, 2 by its module (no default downgrade), 1 by the backend's .sql.
        const down = await c.migrate('downgrade', c.db.url, repo, '0');
        assert.equal(down.code, 0, show(down));
        assert.equal(down.stdout, '3 -> 2... \ndone\n2 -> 1... \ndone\n1 -> 0... \ndone\n');
        assert.deepEqual((await tableNames(c.db)).filter((x) => !x.startsWith('migrate_')), []);
      }));

    test('.sql scripts: comments stripped, quoted semicolons kept, several statements, an empty file is a no-op', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: {
            '001_s_default_upgrade.sql':
              '-- a comment; with a semicolon\nCREATE TABLE a1 (id INTEGER, s VARCHAR(40));\n/* block; comment */\n' +
              "INSERT INTO a1 (id, s) VALUES (1, 'a;b');\nINSERT INTO a1 (id, s) VALUES (2, 'it''s -- not a comment');\n",
            '002_empty_default_upgrade.sql': '',
          },
        });
        await vc(c, repo);
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, '0 -> 1... \ndone\n1 -> 2... \ndone\n');
        assert.deepEqual(
          (await c.db.query('SELECT id, s FROM a1 ORDER BY id')).map((x) => [Number(x.id), x.s]),
          [[1, 'a;b'], [2, "it's -- not a comment"]],
        );
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
      }));

    test('BEGIN/END/COMMIT in a .sql script are skipped with a warning on stderr', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_s_default_upgrade.sql': 'BEGIN;\nCREATE TABLE b1 (id INTEGER);\nINSERT INTO b1 (id) VALUES (7);\nCOMMIT;\n' },
        });
        await vc(c, repo);
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, '0 -> 1... \ndone\n');
        assert.deepEqual(lines(r.stderr), ['"BEGIN;" found in SQL script; ignoring', '"COMMIT;" found in SQL script; ignoring']);
        assert.deepEqual((await c.db.query('SELECT id FROM b1')).map((x) => Number(x.id)), [7]);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
      }));

    test('ROLLBACK in a .sql script is refused before anything runs (SPEC §12.9)', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_s_default_upgrade.sql': 'CREATE TABLE r1 (id INTEGER);\nROLLBACK;\n' },
        });
        await vc(c, repo);
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 1, show(r));
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /ROLLBACK/);
        assert.match(r.stderr, /001_s_default_upgrade\.sql/);
        assert.ok(!r.stdout.includes('done'));
        assert.ok(!(await tableNames(c.db)).includes('r1'));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
        if (d !== 'mysql') {
          const after = await snapshot(c.db);
          delete after.migrate_log; // a failed attempt may be logged
          assert.deepEqual(after, before);
        }
      }));

    test('a failing .sql statement: one line naming the script and the database error; version unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_s_default_upgrade.sql': 'CREATE TABLE e1 (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n' },
        });
        await vc(c, repo);
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 1, show(r));
        assert.equal(r.stdout, '0 -> 1... \n');
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /versions\/001_s_default_upgrade\.sql/);
        assert.match(r.stderr, /no_such_table/);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
        // PostgreSQL and SQLite undo the whole script; MySQL keeps the DDL before the failure (SPEC §10.2).
        assert.equal((await tableNames(c.db)).includes('e1'), d === 'mysql');
      }));

    test('--preview_sql prints each step\'s SQL and executes nothing', (t) =>
      withDb(t, d, async (c) => {
        const sqlText = '-- step two, verbatim\nCREATE TABLE p2 (id INTEGER);\n';
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: {
            '001_p1.mjs': sqlModule(['CREATE TABLE p1 (id INTEGER, name VARCHAR(10))', "INSERT INTO p1 (id, name) VALUES (1, 'x')"], ['DROP TABLE p1']),
            '002_p2_default_upgrade.sql': sqlText,
            '003_p3.mjs': `export async function upgrade(e) {
  await e.queryRunner.createTable(new e.Table({ name: 'p3', columns: [{ name: 'id', type: 'integer', isPrimary: true }] }));
}\n`,
          },
        });
        await vc(c, repo);
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo, '--preview_sql');
        assert.equal(r.code, 0, show(r));
        assert.ok(!r.stdout.includes('done'), show(r));
        const i1 = r.stdout.indexOf('0 -> 1... \n');
        const i2 = r.stdout.indexOf('1 -> 2... \n');
        const i3 = r.stdout.indexOf('2 -> 3... \n');
        assert.ok(i1 === 0 && i2 > i1 && i3 > i2, show(r));
        const s1 = r.stdout.slice(i1, i2);
        assert.match(s1, /CREATE TABLE p1 \(id INTEGER, name VARCHAR\(10\)\)/);
        assert.match(s1, /INSERT INTO p1/);
        assert.ok(r.stdout.slice(i2, i3).includes(sqlText), 'the .sql source verbatim, comments included');
        assert.match(r.stdout.slice(i3), /CREATE TABLE\s+["`]?p3["`]?/i);
        assert.deepEqual(await snapshot(c.db), before, 'nothing executed, version untouched');
        // --preview_sql=0 still previews (any value is "on").
        const r0 = await c.migrate('upgrade', c.db.url, repo, '1', '--preview_sql=0');
        assert.equal(r0.code, 0, show(r0));
        assert.match(r0.stdout, /^0 -> 1\.\.\. \n/);
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('--preview_sql of a downgrade', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_p1.mjs': sqlModule(['CREATE TABLE p1 (id INTEGER)'], ['DROP TABLE p1']) },
        });
        await vc(c, repo);
        assert.equal((await c.migrate('upgrade', c.db.url, repo)).code, 0);
        const before = await snapshot(c.db);
        const r = await c.migrate('downgrade', c.db.url, repo, '0', '--preview_sql');
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /^1 -> 0\.\.\. \n/);
        assert.match(r.stdout, /DROP TABLE p1/);
        assert.ok(!r.stdout.includes('done'));
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('--preview_py prints each step\'s source; on a .sql step it is a usage error (exit 2)', (t) =>
      withDb(t, d, async (c) => {
        const src = sqlModule(['CREATE TABLE y1 (id INTEGER)'], ['DROP TABLE y1']);
        const repo = writeRepo(join(c.dir, 'repo'), { files: { '001_y.mjs': src, '002_z_default_upgrade.sql': 'SELECT 1;\n' } });
        await vc(c, repo);
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo, '1', '--preview_py');
        assert.equal(r.code, 0, show(r));
        assert.ok(r.stdout.startsWith('0 -> 1... \n'), show(r));
        assert.ok(r.stdout.includes('CREATE TABLE y1'), show(r));
        const bad = await c.migrate('upgrade', c.db.url, repo, '--preview_py');
        assert.equal(bad.code, 2, show(bad));
        assert.ok(bad.stdout.includes('1 -> 2... \n'), show(bad));
        assert.match(lines(bad.stderr).at(-1)!, /^migrate: error: .*only.*(module|python)/i);
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('test URL REPO: the five lines; runs only the latest script, up then down; no version table', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: {
            '001_never.mjs': sqlModule(['CREATE TABLE never1 (id INTEGER)']),
            '002_latest.mjs': `export async function upgrade(e) {
  await e.execute('CREATE TABLE tt (id INTEGER)');
  await e.execute('CREATE TABLE tt_up_ran (id INTEGER)');
}
export async function downgrade(e) {
  await e.execute('DROP TABLE tt');
}\n`,
          },
        });
        const r = await c.migrate('test', c.db.url, repo);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, 'Upgrading...\ndone\nDowngrading...\ndone\nSuccess\n');
        assert.equal(r.stderr, '');
        // Only the latest script ran (up, then down); nothing touched the version table.
        assert.deepEqual(await tableNames(c.db), ['tt_up_ran']);
      }));

    test('test URL REPO with a latest script that fails: no Success, exit 1', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_needs_books.mjs': sqlModule(['ALTER TABLE books ADD isbn INTEGER']) },
        });
        const r = await c.migrate('test', c.db.url, repo);
        assert.equal(r.code, 1, show(r));
        assert.equal(r.stdout, 'Upgrading...\n');
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /books/);
      }));

    test('manage FILE --repository=R --url=URL: the launcher works without arguments; --url= overrides', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_m.mjs': sqlModule(['CREATE TABLE m1 (id INTEGER)'], ['DROP TABLE m1']) },
        });
        const file = join(c.dir, 'mymanage.js');
        const w = await c.migrate('manage', file, `--repository=${repo}`, `--url=${c.db.url}`);
        assert.deepEqual([w.code, w.stdout, w.stderr], [0, '', ''], show(w));
        const m = (...args: string[]) => runNode([file, ...args], { cwd: c.dir });
        assert.deepEqual([(await m('version_control')).code], [0]);
        assert.equal((await m('db_version')).stdout, '0\n');
        const up = await m('upgrade');
        assert.equal(up.stdout, '0 -> 1... \ndone\n', show(up));
        assert.equal((await m('db_version')).stdout, '1\n');
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
        // The baked URL is a default only.
        const other = await createTestDatabase(d);
        try {
          const o = await m('db_version', `--url=${other.url}`);
          assert.equal(o.code, 1, show(o));
          assert.match(o.stderr, /not under version control/);
        } finally {
          await other.drop();
        }
      }));

    test('timestamp numbering: upgrade and downgrade walk the versions that exist (SPEC §5.3)', (t) =>
      withDb(t, d, async (c) => {
        // Versions up to 2^31-1 fit the INTEGER column on every backend; a real clock stamp
        // (%Y%m%d%H%M%S) does not on MySQL/PostgreSQL, see the next test.
        const repo = writeRepo(join(c.dir, 'repo'), {
          timestampNumbering: true,
          files: {
            '1801010000_a.mjs': sqlModule(['CREATE TABLE ts1 (id INTEGER)'], ['DROP TABLE ts1']),
            '1801020000_b.mjs': sqlModule(['CREATE TABLE ts2 (id INTEGER)'], ['DROP TABLE ts2']),
          },
        });
        await vc(c, repo);
        const up = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(up.code, 0, show(up));
        assert.equal(up.stdout, '0 -> 1801010000... \ndone\n1801010000 -> 1801020000... \ndone\n');
        assert.equal((await c.migrate('db_version', c.db.url, repo)).stdout, '1801020000\n');
        const down = await c.migrate('downgrade', c.db.url, repo, '0');
        assert.equal(down.stdout, '1801020000 -> 1801010000... \ndone\n1801010000 -> 0... \ndone\n', show(down));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
      }));

    test('timestamp numbering with real %Y%m%d%H%M%S stamps: works, or refuses before running anything', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          timestampNumbering: true,
          files: {
            '20260101120000_a.mjs': sqlModule(['CREATE TABLE tsa (id INTEGER)'], ['DROP TABLE tsa']),
            '20260102120000_b.mjs': sqlModule(['CREATE TABLE tsb (id INTEGER)'], ['DROP TABLE tsb']),
          },
        });
        await vc(c, repo);
        const before = await snapshot(c.db);
        const up = await c.migrate('upgrade', c.db.url, repo);
        if (up.code === 0) {
          assert.equal(up.stdout, '0 -> 20260101120000... \ndone\n20260101120000 -> 20260102120000... \ndone\n');
          assert.deepEqual(await versionRows(c.db), [['sample', repo, 20260102120000]]);
          return;
        }
        // migrate_version.version is INTEGER (SPEC §8.1): on MySQL/PostgreSQL such a version cannot
        // be stored. Then the engine must say so before running any script.
        assert.equal(lines(up.stderr).length, 1, show(up));
        assert.equal(up.stdout, '', `refused before any step started:\n${show(up)}`);
        assert.match(up.stderr, /20260101120000/);
        const after = await snapshot(c.db);
        delete after.migrate_log;
        assert.deepEqual(after, before, 'nothing applied');
      }));

    test('a sequential repository switched to timestamp numbering: upgrade walks to the next existing version', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), {
          files: { '001_a.mjs': sqlModule(['CREATE TABLE w1 (id INTEGER)']), '002_b.mjs': sqlModule(['CREATE TABLE w2 (id INTEGER)']) },
        });
        await vc(c, repo);
        assert.equal((await c.migrate('upgrade', c.db.url, repo)).code, 0);
        writeFileSync(join(repo, 'migrate.cfg'), '[db_settings]\nrepository_id=sample\nversion_table=migrate_version\nuse_timestamp_numbering=True\n');
        writeFileSync(join(repo, 'versions', '1801010000_c.mjs'), sqlModule(['CREATE TABLE w3 (id INTEGER)']));
        const up = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(up.code, 0, show(up));
        assert.equal(up.stdout, '2 -> 1801010000... \ndone\n');
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1801010000]]);
      }));
  });
}
