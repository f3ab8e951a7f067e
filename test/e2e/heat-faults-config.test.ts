/**
 * Fault matrix, part 1: config mounts and URLs as deployment tools write them (issue 9).
 *
 * heat-manage runs as a child process with only what each case gives it (`bare`: no injected
 * `--config-file`), the way a kolla container, an openstack-helm Job or a TripleO host calls it.
 * Every case asserts the exit code, the one ERROR line (or success) and what the database kept:
 * unchanged after a refusal (and no throwaway ./heat.sqlite), the exact target schema after a
 * success.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_DIALECTS, skipUnlessReachable, type TestDialect } from '../support/db.js';
import { describeRun, runHeat } from '../support/heat-cli.js';
import { assertConverged, assertOk, errorLine, hasLog, scratchDir, stateOf, withDb, writeFile } from '../support/faults.js';

const TIMEOUT = 180_000;
const root = scratchDir('heat-faults-config-');
chmodSync(root, 0o755); // the unprivileged cases run as another user
const asRoot = process.getuid?.() === 0;
/** kolla's heat user: the uid the image runs as. */
const KOLLA_UID = 42418;

let n = 0;
/** A fresh working directory (where a throwaway heat.sqlite would appear). */
function workDir(): string {
  const d = join(root, `w${++n}`);
  mkdirSync(d, { mode: 0o755 });
  chmodSync(d, 0o755);
  return d;
}

const noThrowaway = (cwd: string) => assert.ok(!existsSync(join(cwd, 'heat.sqlite')), 'no throwaway ./heat.sqlite');

// ---------------------------------------------------------------------------------------------
// Config mounts: what a ConfigMap/Secret/bind mount can look like when it goes wrong

describe('fault matrix: config mounts', { concurrency: 4, timeout: TIMEOUT }, () => {
  test('C1 --config-file that does not exist (mount missing): exit 1, names the file, no embedded default', async () => {
    const cwd = workDir();
    const conf = join(cwd, 'etc', 'heat.conf');
    const r = await runHeat(['--config-file', conf, 'db_sync'], { bare: true, cwd });
    errorLine(r, `${conf}: config file not found`);
    noThrowaway(cwd);
  });

  test('C2 --config-dir that is empty (mount came up empty): exit 1, names the directory (was: exit 0 on ./heat.sqlite)', async () => {
    const cwd = workDir();
    const dir = join(cwd, 'heat.conf.d');
    mkdirSync(dir);
    const r = await runHeat(['--config-dir', dir, 'db_sync'], { bare: true, cwd });
    const line = errorLine(r, `--config-dir ${dir} (it has no *.conf file: did the config mount come up empty?)`);
    assert.match(line, /OS_DATABASE__CONNECTION/, 'says how to configure it');
    noThrowaway(cwd);
  });

  test('C3 --config-dir that does not exist: exit 1, names it', async () => {
    const cwd = workDir();
    const r = await runHeat(['--config-dir', join(cwd, 'nope'), 'db_sync'], { bare: true, cwd });
    errorLine(r, `${join(cwd, 'nope')}: config directory not found`);
    noThrowaway(cwd);
  });

  test('C4 --config-file that is a directory (a Secret mounted without subPath): exit 1, says to use --config-dir', async () => {
    const cwd = workDir();
    const conf = join(cwd, 'heat.conf');
    mkdirSync(conf);
    writeFile(join(conf, 'heat.conf'), '[database]\nconnection = sqlite:////nonexistent/x.db\n');
    const r = await runHeat(['--config-file', conf, 'db_sync'], { bare: true, cwd });
    errorLine(r, `${conf}: is a directory, not a config file; name it with --config-dir instead`);
    noThrowaway(cwd);
  });

  test('C5 --config-file unreadable by the container user (0400 root, run as kolla uid 42418): exit 1, permission denied, database untouched', async (t) => {
    if (!asRoot) return t.skip('needs root to run as another user');
    const cwd = workDir();
    const db = join(cwd, 'never.sqlite');
    const conf = writeFile(join(cwd, 'heat.conf'), `[database]\nconnection = sqlite:///${db}\n`, 0o400);
    const r = await runHeat(['--config-file', conf, 'db_sync'], { bare: true, cwd, uid: KOLLA_UID, gid: KOLLA_UID });
    const line = errorLine(r, conf);
    assert.match(line, /permission denied/);
    assert.ok(!existsSync(db));
    noThrowaway(cwd);
  });

  test('C6 --config-dir unreadable by the container user (0700 root): exit 1, cannot list, names it', async (t) => {
    if (!asRoot) return t.skip('needs root to run as another user');
    const cwd = workDir();
    const dir = join(cwd, 'heat.conf.d');
    mkdirSync(dir, { mode: 0o700 });
    writeFile(join(dir, 'db.conf'), '[database]\nconnection = sqlite:////tmp/never.db\n');
    const r = await runHeat(['--config-dir', dir, 'db_sync'], { bare: true, cwd, uid: KOLLA_UID, gid: KOLLA_UID });
    errorLine(r, `${dir}: cannot list the config directory (permission denied)`);
    noThrowaway(cwd);
  });

  test('C7 a heat.conf without [database] (a ConfigMap holding only [DEFAULT]): exit 1, names the file (was: exit 0 on ./heat.sqlite)', async () => {
    const cwd = workDir();
    const conf = writeFile(join(cwd, 'heat.conf'), '[DEFAULT]\ndebug = true\n');
    const r = await runHeat(['--config-file', conf, 'db_sync'], { bare: true, cwd });
    errorLine(r, `no [database] connection in what was given: --config-file ${conf};`);
    noThrowaway(cwd);
  });

  test('C8 an empty (0-byte) heat.conf (an empty Secret key): exit 1, names the file', async () => {
    const cwd = workDir();
    const conf = writeFile(join(cwd, 'heat.conf'), '');
    const r = await runHeat(['--config-file', conf, 'db_version'], { bare: true, cwd });
    errorLine(r, `--config-file ${conf}`);
    noThrowaway(cwd);
  });

  test('C9 only OS_DEFAULT__DEBUG in the environment, no connection: exit 1, names the variable', async () => {
    const cwd = workDir();
    const r = await runHeat(['db_sync'], { bare: true, cwd, env: { OS_DEFAULT__DEBUG: 'true' } });
    errorLine(r, 'environment OS_DEFAULT__DEBUG');
    noThrowaway(cwd);
  });

  test('C10 a Kubernetes Secret volume (..data symlinks, a hidden timestamped dir) as --config-dir: read once, works', async () => {
    const cwd = workDir();
    const dir = join(cwd, 'heat.conf.d');
    const ts = join(dir, '..2026_12_03_06_00_00.123456789');
    mkdirSync(ts, { recursive: true });
    const db = join(cwd, 'real.sqlite');
    writeFile(join(ts, 'heat.conf'), `[database]\nconnection = sqlite:///${db}\n`, 0o440);
    symlinkSync('..2026_12_03_06_00_00.123456789', join(dir, '..data'));
    symlinkSync('..data/heat.conf', join(dir, 'heat.conf'));
    const r = await runHeat(['--config-dir', dir, 'db_sync'], { bare: true, cwd });
    assertOk(r);
    const v = await runHeat(['--config-dir', dir, 'db_version'], { bare: true, cwd });
    assert.equal(v.stdout, '71\n', describeRun(v));
    noThrowaway(cwd);
  });

  for (const dialect of ALL_DIALECTS) {
    test(`C11 ${dialect}: a heat.conf with a UTF-8 BOM and CRLF line ends (written on Windows): db_sync reaches the exact schema`, async (t) => {
      const skip = (await skipUnlessReachable(dialect)).skip;
      if (skip) return t.skip(skip);
      await withDb(dialect, async (db) => {
        const cwd = workDir();
        const text = `\ufeff[DEFAULT]\r\ndebug = false\r\n\r\n[database]\r\nconnection = ${db.url}\r\nmax_retries = 1\r\n`;
        const conf = writeFile(join(cwd, 'heat.conf'), Buffer.from(text, 'utf8'));
        const r = await runHeat(['--config-file', conf, 'db_sync'], { bare: true, cwd });
        assertOk(r);
        await assertConverged(db);
        noThrowaway(cwd);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// URLs as kolla, TripleO and openstack-helm write them (on the machine's servers; TLS and IPv6 on
// spare servers are in heat-faults-server.test.ts)

describe('fault matrix: URLs', { concurrency: 4, timeout: TIMEOUT }, () => {
  const drivers: Record<TestDialect, string> = {
    mysql: 'mysql+foo',
    postgresql: 'postgresql+foo',
    sqlite: 'sqlite+foo',
  };
  for (const dialect of ALL_DIALECTS) {
    test(`U1 ${dialect}: an unknown driver (${drivers[dialect]}://) is refused like SQLAlchemy does, database unchanged (was: accepted)`, async (t) => {
      const skip = (await skipUnlessReachable(dialect)).skip;
      if (skip) return t.skip(skip);
      await withDb(dialect, async (db) => {
        if (dialect === 'sqlite') writeFileSync(db.file!, ''); // an empty database file
        const before = await stateOf(db);
        const url = db.url.replace(/^[a-z]+(\+\w+)?:/, `${drivers[dialect]}:`);
        const base = drivers[dialect].split('+')[0];
        const r = await runHeat(['db_sync'], { url });
        const line = errorLine(r, `ERROR: Can't load plugin: sqlalchemy.dialects:${base}.foo (unknown driver 'foo'`);
        assert.match(line, new RegExp(`${base} drivers: \\w+`), 'names the known drivers');
        assert.equal(await stateOf(db), before);
      });
    });
  }

  test('U2 MariaDB over the unix socket, as kolla/TripleO write it (root@/db?unix_socket=...): works', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const sock = ['/run/mysqld/mysqld.sock', '/var/run/mysqld/mysqld.sock', '/tmp/mysql.sock'].find(existsSync);
    if (!sock) return t.skip('no MariaDB socket found');
    await withDb('mysql', async (db) => {
      const r = await runHeat(['db_sync'], { url: `mysql+pymysql://root@/${db.name}?unix_socket=${sock}&charset=utf8` });
      assertOk(r);
      await assertConverged(db);
    });
  });

  test('U3 PostgreSQL over the unix socket (postgresql://postgres@/db?host=/var/run/postgresql): works', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    const dir = ['/var/run/postgresql', '/run/postgresql', '/tmp'].find((d) => existsSync(join(d, '.s.PGSQL.5432')));
    if (!dir) return t.skip('no PostgreSQL socket found');
    await withDb('postgresql', async (db) => {
      const r = await runHeat(['db_sync'], { url: `postgresql+psycopg2://postgres@/${db.name}?host=${dir}` });
      assertOk(r);
      await assertConverged(db);
    });
  });

  test("U4 TripleO's read_default_file/read_default_group: read (bind-address honoured), not ignored", async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    await withDb('mysql', async (db) => {
      const cwd = workDir();
      const cnf = writeFile(join(cwd, 'tripleo.cnf'), '[tripleo]\nbind-address=127.0.0.1\n');
      const r = await runHeat(['db_sync'], { url: `${db.url}?read_default_file=${cnf}&read_default_group=tripleo` });
      assertOk(r);
      assert.ok(!hasLog(r, /ignoring unknown URL parameter/), describeRun(r));
      await assertConverged(db);
      // From 127.0.0.2 the server sees another client host (root is allowed from 127.0.0.1 only):
      // the connection left from the file's bind-address.
      const before = await stateOf(db);
      const other = writeFile(join(cwd, 'other.cnf'), '[tripleo]\nbind-address=127.0.0.2\n');
      const r2 = await runHeat(['db_version'], { url: `${db.url}?read_default_file=${other}&read_default_group=tripleo`, env: { OS_DATABASE__MAX_RETRIES: '0' } });
      errorLine(r2, /127\.0\.0\.2/);
      assert.equal(await stateOf(db), before);
    });
  });

  test("U5 openstack-helm's form (mysql+pymysql://root@localhost:3306/db?charset=utf8, a host name): works", async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    await withDb('mysql', async (db) => {
      const url = db.url.replace(/^mysql:\/\/([^@]*)@127\.0\.0\.1/, 'mysql+pymysql://$1@localhost') + '?charset=utf8';
      const r = await runHeat(['db_sync'], { url });
      assertOk(r);
      await assertConverged(db);
    });
  });

  test('U6 PostgreSQL with sslmode=require against a server without TLS: exit 1 at once, one line, database unchanged', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    await withDb('postgresql', async (db) => {
      const before = await stateOf(db);
      const r = await runHeat(['db_sync'], { url: `${db.url}?sslmode=require`, env: { OS_DATABASE__MAX_RETRIES: '0' } });
      errorLine(r, /^ERROR: cannot connect to postgresql:\/\/.*(SSL|ssl)/);
      assert.equal(await stateOf(db), before);
    });
  });

  test('U7 SQLite file that is not a database (a config pointing at the wrong file): exit 1, names the file, unchanged', async () => {
    const cwd = workDir();
    const text = '[database]\nthis is not a database\n'.repeat(200);
    const file = writeFile(join(cwd, 'heat.conf.sqlite'), text);
    const r = await runHeat(['db_sync'], { url: `sqlite:///${file}` });
    errorLine(r, `SQLite database ${file}: file is not a database`);
    assert.equal(readFileSync(file, 'utf8'), text, 'the file is unchanged');
  });

  test('U8 SQLite path whose directory is not writable by the container user: exit 1 at once, names the path', async (t) => {
    if (!asRoot) return t.skip('needs root to run as another user');
    const cwd = workDir();
    const dir = join(cwd, 'ro');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, 0, 0);
    const r = await runHeat(['db_sync'], { bare: true, url: `sqlite:///${join(dir, 'heat.sqlite')}`, uid: KOLLA_UID, gid: KOLLA_UID, cwd });
    errorLine(r, /cannot connect to sqlite:.*ro\/heat\.sqlite/);
    assert.ok(!existsSync(join(dir, 'heat.sqlite')));
  });
});
