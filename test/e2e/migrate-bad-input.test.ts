/**
 * Bad input, each on each backend (issue "Bad input"; SPEC §7, §8.3, §9): the built CLI must print
 * a one-line error, exit with the right code, and leave the database as it was.
 *
 * Exit codes: 2 for usage errors and the Python tool's "known errors" (`PROG: error: ...`), 1 for
 * everything else. A usage error of the command line prints the command's usage before the error
 * line (SPEC §1.1.9); every other error is exactly one line on stderr.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ALL_DIALECTS, createTestDatabase, serverQuery, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import {
  lines,
  removeDir,
  runMigrate,
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
import { SPECIAL_PASSWORD, WRONG_PASSWORD } from '../support/secrets.js';

/** A one-line error on stderr with this exit code, matching `re`; nothing on stdout unless given. */
function expectError(r: CliResult, code: number, re: RegExp, o: { stdout?: string; usage?: boolean } = {}): void {
  assert.equal(r.code, code, show(r));
  assert.equal(r.stdout, o.stdout ?? '', show(r));
  const l = lines(r.stderr);
  if (!o.usage) assert.equal(l.length, 1, `one line on stderr\n${show(r)}`);
  assert.match(l.at(-1) ?? '', /^migrate: error: /, show(r));
  assert.match(l.at(-1) ?? '', re, show(r));
}

/** Two steps creating t1 and t2 (and dropping them going down). */
const TWO_STEPS = {
  '001_t1.mjs': sqlModule(['CREATE TABLE t1 (id INTEGER)'], ['DROP TABLE t1']),
  '002_t2.mjs': sqlModule(['CREATE TABLE t2 (id INTEGER)'], ['DROP TABLE t2']),
};

interface Ctx {
  db: TestDatabase;
  dir: string;
  migrate: (...args: string[]) => Promise<CliResult>;
}

/** Runs `fn` with a fresh database and temp dir, both removed afterwards; skips when unreachable. */
function withDb(t: TestContext, d: TestDialect, fn: (c: Ctx) => Promise<void>): Promise<void> {
  return withCliDb(t, d, 'migrate-bad-', (db, dir) => fn({ db, dir, migrate: (...args) => runMigrate(args, { cwd: dir }) }));
}

/** A repository in the context's dir, put under version control of the database at `at`. */
async function controlled(c: Ctx, files: Record<string, string>, at = 0, name = 'repo'): Promise<string> {
  const repo = writeRepo(join(c.dir, name), { files });
  await putUnderControl(c.db.url, repo, at);
  return repo;
}

/** host:port of a server URL such as mysql://root@127.0.0.1:3306/db. */
const hostPort = (url: string) => new URL(url.replace(/^[a-z+]+:/, 'http:')).host;

const UNREACHABLE: Record<TestDialect, (dir: string) => string> = {
  mysql: () => 'mysql://root@127.0.0.1:3399/nosuchdb',
  postgresql: () => 'postgresql://postgres@127.0.0.1:5499/nosuchdb',
  sqlite: (dir) => `sqlite:///${join(dir, 'no', 'such', 'dir', 'x.db')}`,
};

for (const d of ALL_DIALECTS) {
  describe(`bad input on ${d}`, { concurrency: true }, () => {
    test('unreachable host: "cannot connect", exit 1, for db_version, version_control and upgrade', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
        const url = UNREACHABLE[d](c.dir);
        for (const args of [['db_version', url, repo], ['version_control', url, repo], ['upgrade', url, repo]]) {
          const r = await c.migrate(...args);
          expectError(r, 1, /cannot connect/i);
          assert.doesNotMatch(r.stderr, /DatabaseNotControlledError/, 'a connection error is not "not controlled" (SPEC §9 BAD)');
        }
        if (d === 'sqlite') assert.ok(!existsSync(join(c.dir, 'no')), 'no directory created');
      }));

    test('unknown database: one-line error naming it, exit 1', async (t) => {
      if (d === 'sqlite') return t.skip('SQLite creates a missing database file');
      await withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
        const url = `${d}://${d === 'mysql' ? 'root' : 'postgres'}@${hostPort(c.db.url)}/nosuchdb_${c.db.name}`;
        const r = await c.migrate('db_version', url, repo);
        expectError(r, 1, new RegExp(`nosuchdb_${c.db.name}`));
        assert.match(r.stderr, /cannot connect|unknown database|does not exist/i);
      });
    });

    test('a password in the URL never appears in an error (wrong password / unknown database)', async (t) => {
      if (d === 'sqlite') return t.skip('SQLite URLs carry no password');
      await withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
        const user = d === 'mysql' ? 'root' : 'postgres';
        const cases: Array<[string, string, string[]]> = [
          [encodeURIComponent(WRONG_PASSWORD), c.db.name, ['db_version']],
          [WRONG_PASSWORD, `nosuchdb_${c.db.name}`, ['upgrade', '-d']],
        ];
        for (const [pw, db, [cmd, ...flags]] of cases) {
          const url = `${d}://${user}:${pw}@${hostPort(c.db.url)}/${db}`;
          const r = await c.migrate(cmd!, url, repo, ...flags);
          assert.equal(r.code, 1, show(r));
          const all = r.stdout + r.stderr;
          assert.ok(!all.includes(WRONG_PASSWORD) && !all.includes(encodeURIComponent(WRONG_PASSWORD)), 'password in the output');
        }
      });
    });

    test('wrong password: refused with a one-line error that does not contain it, exit 1', async (t) => {
      if (d === 'sqlite') return t.skip('SQLite has no passwords');
      await withDb(t, d, async (c) => {
        const user = `pw_${c.db.name}`.slice(0, 30);
        try {
          if (d === 'mysql') {
            await c.db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY ?`, [SPECIAL_PASSWORD]);
            await c.db.query(`GRANT ALL ON \`${c.db.name}\`.* TO '${user}'@'%'`);
          } else {
            await c.db.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${SPECIAL_PASSWORD.replace(/'/g, "''")}'`);
            await c.db.query(`GRANT ALL ON SCHEMA public TO "${user}"`);
          }
        } catch (e) {
          // The driver's error may carry the statement, password included: never print it.
          throw new Error(`creating test user ${user} failed: ${(e as { code?: string }).code ?? 'error'}`);
        }
        try {
          const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
          const good = `${d}://${user}:${encodeURIComponent(SPECIAL_PASSWORD)}@${hostPort(c.db.url)}/${c.db.name}`;
          // The right password, percent-encoded, works (special characters decoded).
          const vc = await c.migrate('version_control', good, repo);
          assert.equal(vc.code, 0, show(vc));
          const dv = await c.migrate('db_version', good, repo, '-d');
          assert.equal(dv.code, 0, show(dv));
          assert.equal(lines(dv.stdout).at(-1), '0');
          assert.ok(!(dv.stdout + dv.stderr).includes(SPECIAL_PASSWORD) && !(dv.stdout + dv.stderr).includes(encodeURIComponent(SPECIAL_PASSWORD)));
          const before = await snapshot(c.db);
          if (d === 'postgresql') {
            const [host, port] = hostPort(c.db.url).split(':');
            const probe = new pg.Client({ host, port: Number(port ?? 5432), user, password: WRONG_PASSWORD, database: c.db.name });
            const accepted = await probe.connect().then(
              () => true,
              () => false,
            );
            await probe.end().catch(() => undefined);
            if (accepted) return t.skip('this PostgreSQL server does not check passwords on 127.0.0.1 (pg_hba trust)');
          }
          const bad = `${d}://${user}:${encodeURIComponent(WRONG_PASSWORD)}@${hostPort(c.db.url)}/${c.db.name}`;
          for (const args of [['db_version', bad, repo], ['upgrade', bad, repo]]) {
            const r = await c.migrate(...args);
            expectError(r, 1, /access denied|password authentication failed|password/i);
            assert.ok(!r.stderr.includes(WRONG_PASSWORD) && !r.stderr.includes(encodeURIComponent(WRONG_PASSWORD)), 'no password in the error');
          }
          assert.deepEqual(await snapshot(c.db), before);
        } finally {
          if (d === 'mysql') await c.db.query(`DROP USER IF EXISTS '${user}'@'%'`);
          else {
            await c.db.query(`DROP OWNED BY "${user}"`).catch(() => undefined);
            await serverQuery('postgresql', `DROP ROLE IF EXISTS "${user}"`);
          }
        }
      });
    });

    test('missing repository path: InvalidRepositoryError with the path as given, exit 1, DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        await controlled(c, TWO_STEPS);
        const before = await snapshot(c.db);
        for (const cmd of ['upgrade', 'db_version', 'drop_version_control']) {
          const r = await c.migrate(cmd, c.db.url, 'no/such/repo');
          expectError(r, 1, /InvalidRepositoryError: no\/such\/repo\b/);
        }
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('a repository without migrate.cfg: InvalidRepositoryError, exit 1, DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        const before = await snapshot(c.db);
        rmSync(join(repo, 'migrate.cfg'));
        const r = await c.migrate('upgrade', c.db.url, repo);
        expectError(r, 1, /InvalidRepositoryError: .*migrate\.cfg/);
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('a corrupt migrate.cfg: one-line error, exit 1, DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        const before = await snapshot(c.db);
        for (const text of ['repository_id=repo\nversion_table=migrate_version\n', '[db_settings]\nrepository_id=x%y\nversion_table=migrate_version\n', '[db_settings]\nrepository_id=repo\n']) {
          writeFileSync(join(repo, 'migrate.cfg'), text);
          const r = await c.migrate('upgrade', c.db.url, repo);
          expectError(r, 1, /migrate\.cfg/);
        }
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('two module scripts for one version: ScriptError naming both, exit 1, DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        writeFileSync(join(repo, 'versions', '002_other.mjs'), sqlModule(['CREATE TABLE t3 (id INTEGER)']));
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo);
        expectError(r, 1, /ScriptError: .*per version.*002_other\.mjs|ScriptError: .*per version.*002_t2\.mjs/);
        assert.match(r.stderr, /002_other\.mjs/);
        assert.match(r.stderr, /002_t2\.mjs/);
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('a gap in the versions: nothing runs (not even version 1), exit 1', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, { '001_t1.mjs': TWO_STEPS['001_t1.mjs'], '003_t3.mjs': sqlModule(['CREATE TABLE t3 (id INTEGER)']) });
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo);
        expectError(r, 1, /VersionNotFoundError: .*"Database schema file with version 2 doesn't exist\."/);
        assert.deepEqual(await snapshot(c.db), before);
        assert.ok(!(await tableNames(c.db)).includes('t1'));
      }));

    test('a version above the latest: "version 3 doesn\'t exist", nothing runs, exit 1', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        const before = await snapshot(c.db);
        const r = await c.migrate('upgrade', c.db.url, repo, '5');
        expectError(r, 1, /VersionNotFoundError: .*version 3 doesn't exist/);
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('non-numeric and negative versions: usage errors (exit 2), DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        const before = await snapshot(c.db);
        expectError(await c.migrate('upgrade', c.db.url, repo, 'abc'), 2, /'abc'/);
        expectError(await c.migrate('upgrade', c.db.url, repo, '1.5'), 2, /'1\.5'/);
        expectError(await c.migrate('upgrade', c.db.url, repo, '--', '-1'), 2, /negative/);
        expectError(await c.migrate('downgrade', c.db.url, repo, '--version=-1'), 2, /negative/);
        expectError(await c.migrate('upgrade', c.db.url, repo, '-1'), 2, /no such option: -1/, { usage: true });
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('version_control with a bad version: InvalidVersionError, exit 1, no table created', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
        for (const v of ['5', 'abc', '--version=-1']) {
          const r = await c.migrate('version_control', c.db.url, repo, v);
          expectError(r, 1, /InvalidVersionError: /);
          assert.match(r.stderr, v === '5' ? /InvalidVersionError: 5\b/ : v === 'abc' ? /InvalidVersionError: abc\b/ : /InvalidVersionError: -1\b/);
        }
        assert.deepEqual(await tableNames(c.db), []);
        // A valid version is stored as is; nothing runs.
        assert.equal((await c.migrate('version_control', c.db.url, repo, '2')).code, 0);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 2]]);
        assert.deepEqual(await tableNames(c.db), ['migrate_version']);
      }));

    test("upgrade to a lower version: Try 'downgrade' instead; downgrade to a higher: Try 'upgrade' instead (exit 2)", (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS, 2);
        const before = await snapshot(c.db);
        expectError(
          await c.migrate('upgrade', c.db.url, repo, '1'),
          2,
          /^migrate: error: Cannot upgrade a database of version 2 to version 1\. Try 'downgrade' instead\.$/,
        );
        assert.deepEqual(await snapshot(c.db), before);
        const repo1 = writeRepo(join(c.dir, 'repo1'), { id: 'other', files: TWO_STEPS });
        await putUnderControl(c.db.url, repo1, 1);
        const before1 = await snapshot(c.db);
        expectError(
          await c.migrate('downgrade', c.db.url, repo1, '2'),
          2,
          /^migrate: error: Cannot downgrade a database of version 1 to version 2\. Try 'upgrade' instead\.$/,
        );
        assert.deepEqual(await snapshot(c.db), before1);
        // Equal versions are a silent no-op.
        const same = await c.migrate('downgrade', c.db.url, repo1, '1');
        assert.equal(same.code, 0, show(same));
        assert.equal(same.stdout + same.stderr, '');
      }));

    test('version_control twice: DatabaseAlreadyControlledError, exit 1, row unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS, 1);
        const before = await snapshot(c.db);
        const r = await c.migrate('version_control', c.db.url, repo);
        expectError(r, 1, /DatabaseAlreadyControlledError/);
        assert.deepEqual(await snapshot(c.db), before);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
      }));

    test('db_version / upgrade / downgrade / drop_version_control on an uncontrolled database: exit 1, nothing created', (t) =>
      withDb(t, d, async (c) => {
        const repo = writeRepo(join(c.dir, 'repo'), { files: TWO_STEPS });
        for (const args of [['db_version'], ['upgrade'], ['downgrade', '0'], ['drop_version_control']]) {
          const [cmd, ...rest] = args;
          const r = await c.migrate(cmd!, c.db.url, repo, ...rest);
          expectError(r, 1, /DatabaseNotControlledError: .*not under version control/);
        }
        assert.deepEqual(await tableNames(c.db), []);
      }));

    test('the table exists but has no row for this repository: not under version control, exit 1', (t) =>
      withDb(t, d, async (c) => {
        await controlled(c, TWO_STEPS, 0, 'alpha');
        const beta = writeRepo(join(c.dir, 'beta'), { id: 'beta', files: TWO_STEPS });
        const before = await snapshot(c.db);
        for (const cmd of ['db_version', 'upgrade', 'drop_version_control']) {
          expectError(await c.migrate(cmd, c.db.url, beta), 1, /DatabaseNotControlledError: .*not under version control/);
        }
        assert.deepEqual(await snapshot(c.db), before);
      }));

    test('a script that throws midway: the version stays, the error names the script and the cause', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, {
          '001_t1.mjs': TWO_STEPS['001_t1.mjs'],
          '002_boom.mjs': sqlModule(['CREATE TABLE t2 (id INTEGER)', 'INSERT INTO t2 (id) VALUES (1)'], [], { throwUp: 'boom: the disk is on fire' }),
        });
        const r = await c.migrate('upgrade', c.db.url, repo);
        expectError(r, 1, /versions\/002_boom\.mjs/, { stdout: '0 -> 1... \ndone\n1 -> 2... \n' });
        assert.match(r.stderr, /boom: the disk is on fire/);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 1]]);
        const tables = await tableNames(c.db);
        assert.ok(tables.includes('t1'), 'step 1 stays applied');
        if (d !== 'mysql') assert.ok(!tables.includes('t2'), 'the failed step left nothing behind (one transaction)');
      }));

    test('a script without upgrade: InvalidScriptError naming it, exit 1, version unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, { '001_noup.mjs': 'export async function downgrade(e) {}\nexport const x = 1;\n' });
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 1, show(r));
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /versions\/001_noup\.mjs/);
        assert.match(r.stderr, /upgrade/);
        assert.ok(!r.stdout.includes('done'), show(r));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
      }));

    test('a script with a syntax error: one-line error naming it, exit 1, version unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, { '001_bad.mjs': 'export async function upgrade(e) {{{ \n' });
        const r = await c.migrate('upgrade', c.db.url, repo);
        assert.equal(r.code, 1, show(r));
        assert.equal(lines(r.stderr).length, 1, show(r));
        assert.match(r.stderr, /versions\/001_bad\.mjs/);
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
      }));

    test('two repositories sharing one migrate_version table: each sees and changes only its own row', (t) =>
      withDb(t, d, async (c) => {
        const files = (p: string) => ({
          '001_a.mjs': sqlModule([`CREATE TABLE ${p}_t1 (id INTEGER)`], [`DROP TABLE ${p}_t1`]),
          '002_b.mjs': sqlModule([`CREATE TABLE ${p}_t2 (id INTEGER)`], [`DROP TABLE ${p}_t2`]),
        });
        const alpha = writeRepo(join(c.dir, 'alpha'), { id: 'alpha', files: files('alpha') });
        const beta = writeRepo(join(c.dir, 'beta'), { id: 'beta', files: files('beta') });
        assert.equal((await c.migrate('version_control', c.db.url, alpha)).code, 0);
        assert.equal((await c.migrate('version_control', c.db.url, beta)).code, 0);
        assert.deepEqual(await versionRows(c.db), [['alpha', alpha, 0], ['beta', beta, 0]]);
        const up = await c.migrate('upgrade', c.db.url, alpha);
        assert.equal(up.stdout, '0 -> 1... \ndone\n1 -> 2... \ndone\n', show(up));
        assert.deepEqual(await versionRows(c.db), [['alpha', alpha, 2], ['beta', beta, 0]]);
        assert.equal((await c.migrate('db_version', c.db.url, beta)).stdout, '0\n');
        assert.equal((await c.migrate('db_version', c.db.url, alpha)).stdout, '2\n');
        const upb = await c.migrate('upgrade', c.db.url, beta, '1');
        assert.equal(upb.stdout, '0 -> 1... \ndone\n', show(upb));
        assert.deepEqual(await versionRows(c.db), [['alpha', alpha, 2], ['beta', beta, 1]]);
        const user = (await tableNames(c.db)).filter((x) => !x.startsWith('migrate_'));
        assert.deepEqual(user, ['alpha_t1', 'alpha_t2', 'beta_t1']);
        // drop_version_control removes only its own row; the table goes with the last row (SPEC §12.3).
        const drop = await c.migrate('drop_version_control', c.db.url, alpha);
        assert.equal(drop.code, 0, show(drop));
        assert.deepEqual(await versionRows(c.db), [['beta', beta, 1]]);
        expectError(await c.migrate('db_version', c.db.url, alpha), 1, /not under version control/);
        assert.equal((await c.migrate('db_version', c.db.url, beta)).stdout, '1\n');
        assert.equal((await c.migrate('drop_version_control', c.db.url, beta)).code, 0);
        assert.ok(!(await tableNames(c.db)).includes('migrate_version'));
      }));

    test('repository_path is informational: db_version works through another path to the same repository', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        const r = await runMigrate(['db_version', c.db.url, 'repo'], { cwd: c.dir });
        assert.equal(r.stdout, '0\n', show(r));
        assert.deepEqual(await versionRows(c.db), [['sample', repo, 0]]);
      }));

    test('the database is ahead of the repository: upgrade fails naming the version, exit 1, DB unchanged', (t) =>
      withDb(t, d, async (c) => {
        const repo = await controlled(c, TWO_STEPS);
        await c.db.query("UPDATE migrate_version SET version = 5 WHERE repository_id = 'sample'");
        const before = await snapshot(c.db);
        assert.equal((await c.migrate('db_version', c.db.url, repo)).stdout, '5\n');
        const r = await c.migrate('upgrade', c.db.url, repo);
        expectError(r, 1, /version 5/);
        assert.deepEqual(await snapshot(c.db), before);
      }));
  });
}
