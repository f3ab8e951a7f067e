/**
 * heat-manage's command-line behaviour, end to end: the compiled CLI (`dist/bin/heat-manage.js`)
 * runs as a child process against real MariaDB, PostgreSQL and SQLite databases.
 *
 * Every case checks what a user sees and what the database keeps:
 *  - stdout (empty except for `db_version`'s number, `--help` and `--version`);
 *  - stderr: oslo.log lines (stderr is not a terminal) plus, on failure, exactly one plain line,
 *    `ERROR: <message>` (exit 1) or `heat-manage: error: <message>` and a hint (exit 2, usage);
 *  - the database: a snapshot of its catalog and rows before and after a refused run must match.
 *
 * Every child's output goes to the suite-wide password leak check (recordOutput), and the tests
 * that use passwords check their own output too.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ALL_DIALECTS,
  MYSQL_SERVER,
  PG_SERVER,
  createTestDatabase,
  serverQuery,
  skipUnlessReachable,
  type TestDatabase,
  type TestDialect,
} from '../support/db.js';
import { parseLogLine, type LogLine } from '../support/heat-cli.js';
import { readableBundle } from '../support/readable.js';
import { SPECIAL_PASSWORD, WRONG_PASSWORD, recordOutput } from '../support/secrets.js';

const CLI = fileURLToPath(new URL('../../bin/heat-manage.js', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));
const LATEST = 71;
const INIT = 27;
const NOT_CONTROLLED =
  'The database is not under version control, but has tables. Please stamp the current version of the schema manually.';
const TEST_TIMEOUT = 120_000;

// ---------------------------------------------------------------------------------------------
// Running the CLI

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

interface RunOptions {
  /** Extra environment (the child gets only PATH, HOME, LANG and these). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly home?: string;
  /** Run as another user (root only); the CLI then runs from a world-readable bundle (support/readable.ts). */
  readonly uid?: number;
  readonly gid?: number;
}

// Removed when the process exits (a root-level after() hook can run before filtered suites end).
const scratch = mkdtempSync(join(tmpdir(), 'heat-manage-e2e-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
/** An empty HOME shared by the runs that do not care: no ~/.heat/heat.conf, no ~/heat.conf. */
const emptyHome = join(scratch, 'home');
mkdirSync(emptyHome);

function tempDir(): string {
  return mkdtempSync(join(scratch, 'd-'));
}

function heatManage(args: readonly string[], o: RunOptions = {}): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const bundle = o.uid === undefined ? undefined : readableBundle(CLI);
    const child = spawn(process.execPath, [bundle?.file ?? CLI, ...args], {
      cwd: o.cwd ?? scratch,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.home ?? emptyHome, LANG: 'C.UTF-8', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: o.uid,
      gid: o.gid,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      bundle?.dispose();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      recordOutput(stdout, stderr);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function splitStderr(stderr: string): { logs: LogLine[]; plain: string[] } {
  const logs: LogLine[] = [];
  const plain: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line === '') continue;
    const l = parseLogLine(line);
    if (l) logs.push(l);
    else plain.push(line);
  }
  return { logs, plain };
}

/** For assertion messages: what the run printed. */
function show(r: Run): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** exit 1, nothing on stdout, exactly one plain stderr line: `ERROR: <message>`. Returns it. */
function assertError(r: Run, pattern: RegExp | string): string {
  assert.equal(r.code, 1, show(r));
  assert.equal(r.stdout, '', `nothing on stdout\n${show(r)}`);
  const { plain } = splitStderr(r.stderr);
  assert.equal(plain.length, 1, `exactly one line that is not a log line\n${show(r)}`);
  const line = plain[0]!;
  assert.match(line, /^ERROR: \S/, show(r));
  if (typeof pattern === 'string') assert.ok(line.includes(pattern), `expected ${JSON.stringify(pattern)} in: ${line}`);
  else assert.match(line, pattern);
  return line;
}

/** exit 2, nothing on stdout, `heat-manage: error: <message>` (and at most a `Try ...` hint). */
function assertUsageError(r: Run, pattern: RegExp): string {
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stdout, '', `nothing on stdout\n${show(r)}`);
  const { plain } = splitStderr(r.stderr);
  assert.ok(plain.length >= 1 && plain.length <= 2, `one message line (and a hint)\n${show(r)}`);
  assert.match(plain[0]!, /^heat-manage: error: \S/, show(r));
  assert.match(plain[0]!, pattern);
  if (plain[1] !== undefined) assert.match(plain[1], /--help/);
  return plain[0]!;
}

const STEP_LINE = /^(\d{3}) -> (\d{3}) \((\d{3}_\w+|schema\/\w+\/\d{3})\) \.\.\. done in \d+ ms$/;

/**
 * The `NNN -> MMM (name) ... done in N ms` progress lines of a run, as [from, to] pairs (a fresh
 * install of an empty database is one line `027 -> 071 (schema/<dialect>/071)`, migrate/fresh.ts).
 */
function steps(r: Run): [number, number][] {
  return splitStderr(r.stderr)
    .logs.map((l) => STEP_LINE.exec(l.msg))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      assert.ok(m[3]!.replace(/^schema\/\w+\//, '').startsWith(m[2]!), `script name ${m[3]} belongs to version ${m[2]}`);
      return [Number(m[1]), Number(m[2])];
    });
}

/** An empty database's db_sync: one step, the target schema from the catalog. */
const FRESH: [number, number][] = [[27, 71]];

function range(from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let v = from; v < to; v++) out.push([v, v + 1]);
  return out;
}

function writeConf(dir: string, name: string, text: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

const envUrl = (url: string): Record<string, string> => ({ OS_DATABASE__CONNECTION: url });

// ---------------------------------------------------------------------------------------------
// The database as it is: catalog and rows, to compare before/after a refused run

async function snapshot(db: TestDatabase): Promise<string> {
  const parts: unknown[] = [];
  let tables: string[];
  if (db.dialect === 'sqlite') {
    if (!existsSync(db.file!)) return 'absent';
    const master = await db.query('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name');
    parts.push(master);
    tables = master.filter((r) => r.type === 'table').map((r) => String(r.name));
  } else if (db.dialect === 'mysql') {
    parts.push(
      await db.query(
        'SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS ' +
          'WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
      ),
      await db.query(
        'SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS ' +
          'WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 3',
      ),
    );
    tables = (
      await db.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1')
    ).map((r) => String(r.t));
  } else {
    parts.push(
      await db.query(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, ordinal_position",
      ),
      await db.query("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"),
    );
    tables = (
      await db.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
    ).map((r) => String(r.t));
  }
  const q = (t: string) => (db.dialect === 'mysql' ? `\`${t}\`` : `"${t}"`);
  for (const t of tables) {
    const [c] = await db.query(`SELECT COUNT(*) AS n FROM ${q(t)}`);
    parts.push([t, String(c!.n)]);
  }
  if (tables.includes('migrate_version')) {
    parts.push(await db.query('SELECT repository_id, repository_path, version FROM migrate_version ORDER BY repository_id'));
  }
  return JSON.stringify(parts);
}

async function heatVersionRow(db: TestDatabase): Promise<number | undefined> {
  const rows = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'");
  return rows.length ? Number(rows[0]!.version) : undefined;
}

/** An unrelated table, as another application (or a half-done manual install) leaves it. */
async function createUnrelatedTable(db: TestDatabase, name: string): Promise<void> {
  await db.query(`CREATE TABLE ${name} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(64))`);
  await db.query(`INSERT INTO ${name} (id, name) VALUES (1, 'x')`);
}

/** sqlalchemy-migrate's version table, with one row. */
async function createVersionTable(db: TestDatabase, repositoryId: string, version: number): Promise<void> {
  await db.query(
    'CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL, repository_path TEXT, version INTEGER, PRIMARY KEY (repository_id))',
  );
  await db.query('INSERT INTO migrate_version (repository_id, repository_path, version) VALUES (?, ?, ?)', [
    repositoryId,
    `/usr/lib/python3/dist-packages/${repositoryId}/db/sqlalchemy/migrate_repo`,
    version,
  ]);
}

async function withDatabase(dialect: TestDialect, fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(dialect);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

function serverHostPort(dialect: 'mysql' | 'postgresql'): { host: string; port: number } {
  const u = new URL((dialect === 'mysql' ? MYSQL_SERVER : PG_SERVER).replace(/^[a-z+]+:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || (dialect === 'mysql' ? 3306 : 5432)) };
}

/** The URL of `db` for another user and password (percent-encoded, as SQLAlchemy URLs need). */
function userUrl(db: TestDatabase, user: string, password: string, scheme?: string): string {
  const { host, port } = serverHostPort(db.dialect as 'mysql' | 'postgresql');
  const s = scheme ?? (db.dialect === 'mysql' ? 'mysql+pymysql' : 'postgresql');
  return `${s}://${user}:${encodeURIComponent(password)}@${host}:${port}/${db.name}`;
}

function uniqueUser(): string {
  return `hm_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** A MariaDB user that exists for the duration of fn. `grants`: privileges on db.* */
async function withMysqlUser(db: TestDatabase, password: string, grants: string, fn: (user: string) => Promise<void>): Promise<void> {
  const user = uniqueUser();
  await serverQuery('mysql', `CREATE USER '${user}'@'%' IDENTIFIED BY ?`, [password]);
  try {
    await serverQuery('mysql', `GRANT ${grants} ON \`${db.name}\`.* TO '${user}'@'%'`);
    await fn(user);
  } finally {
    await serverQuery('mysql', `DROP USER IF EXISTS '${user}'@'%'`);
  }
}

/** A PostgreSQL login role that exists for the duration of fn; `owner`: it owns db. Drops db. */
async function withPgRole(db: TestDatabase, password: string, owner: boolean, fn: (role: string) => Promise<void>): Promise<void> {
  const role = uniqueUser();
  await serverQuery('postgresql', `CREATE ROLE "${role}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  try {
    if (owner) await serverQuery('postgresql', `ALTER DATABASE "${db.name}" OWNER TO "${role}"`);
    await fn(role);
  } finally {
    await db.drop(); // the database goes first: the role owns it or its objects
    await serverQuery('postgresql', `DROP ROLE IF EXISTS "${role}"`);
  }
}

/** Whether the PostgreSQL server checks passwords on TCP (this machine's trusts 127.0.0.1). */
async function pgChecksPasswords(): Promise<boolean> {
  const role = uniqueUser();
  await serverQuery('postgresql', `CREATE ROLE "${role}" LOGIN PASSWORD 'Right-pw-1'`);
  const pg = (await import('pg')).default;
  const { host, port } = serverHostPort('postgresql');
  const c = new pg.Client({ host, port, user: role, password: 'not-the-password', database: 'postgres' });
  try {
    await c.connect();
    return false;
  } catch {
    return true;
  } finally {
    await c.end().catch(() => {});
    await serverQuery('postgresql', `DROP ROLE IF EXISTS "${role}"`);
  }
}

/** A TCP port on 127.0.0.1 where nothing listens (connections are refused at once). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function assertNoSecret(r: Run, ...secrets: string[]): void {
  const all = r.stdout + r.stderr;
  for (const s of secrets) {
    for (const form of new Set([s, encodeURIComponent(s)])) {
      assert.ok(!all.includes(form), `a password (form ${JSON.stringify(form.slice(0, 2))}...) appeared in the output`);
    }
  }
}

// =============================================================================================
// Issue 3: the normal path, on every backend

for (const dialect of ALL_DIALECTS) {
  describe(`heat-manage on ${dialect}`, { ...(await skipUnlessReachable(dialect)), concurrency: 4, timeout: TEST_TIMEOUT }, () => {
    test('db_sync on an empty database: stamps 27, installs 71 from the catalog, nothing on stdout, one stderr line for it', async () => {
      await withDatabase(dialect, async (db) => {
        const r = await heatManage(['db_sync'], { env: envUrl(db.url) });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, '', 'db_sync prints nothing on stdout');
        assert.deepEqual(splitStderr(r.stderr).plain, [], `only log lines on stderr\n${show(r)}`);
        assert.deepEqual(steps(r), FRESH, 'one progress line: 027 -> 071 (schema/<dialect>/071)');
        assert.equal(await heatVersionRow(db), LATEST);
        const v = await heatManage(['db_version'], { env: envUrl(db.url) });
        assert.equal(v.code, 0, show(v));
        assert.equal(v.stdout, `${LATEST}\n`, 'db_version prints the bare number');
        assert.deepEqual(splitStderr(v.stderr).plain, []);
        // Again: nothing to do, still exit 0 and nothing on stdout.
        const again = await heatManage(['db_sync'], { env: envUrl(db.url) });
        assert.equal(again.code, 0, show(again));
        assert.equal(again.stdout, '');
        assert.deepEqual(steps(again), []);
      });
    });

    test('db_version on an empty database prints 27 and stamps it, as oslo.db does', async () => {
      await withDatabase(dialect, async (db) => {
        const r = await heatManage(['db_version'], { env: envUrl(db.url) });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, `${INIT}\n`);
        assert.equal(await heatVersionRow(db), INIT);
        const s = await snapshot(db);
        for (const heatTable of ['"stack"', '"raw_template"', '"resource"']) {
          assert.ok(!s.includes(heatTable), `no Heat table yet (${heatTable})`);
        }
      });
    });

    test('db_sync VERSION stops there; the same version is a no-op; a lower one is refused and changes nothing', async () => {
      await withDatabase(dialect, async (db) => {
        const to50 = await heatManage(['db_sync', '50'], { env: envUrl(db.url) });
        assert.equal(to50.code, 0, show(to50));
        assert.equal(to50.stdout, '');
        assert.deepEqual(steps(to50), [[INIT, 50]], 'an empty database gets version 50 from its catalog');
        assert.equal(await heatVersionRow(db), 50);

        const before = await snapshot(db);
        const lower = await heatManage(['db_sync', '40'], { env: envUrl(db.url) });
        assertError(lower, /^ERROR: Cannot migrate to lower schema version\.$/);
        assert.deepEqual(steps(lower), []);
        assert.equal(await snapshot(db), before, 'the database is unchanged');

        const same = await heatManage(['db_sync', '50'], { env: envUrl(db.url) });
        assert.equal(same.code, 0, show(same));
        assert.deepEqual(steps(same), []);
        assert.equal(await snapshot(db), before, 'a no-op changes nothing');

        const rest = await heatManage(['db_sync'], { env: envUrl(db.url) });
        assert.equal(rest.code, 0, show(rest));
        assert.deepEqual(steps(rest), range(50, LATEST), 'only the remaining steps run');
        assert.equal(await heatVersionRow(db), LATEST);
      });
    });

    test('a database with tables but no version control is refused by db_sync and db_version, unchanged', async () => {
      await withDatabase(dialect, async (db) => {
        await createUnrelatedTable(db, 'stack');
        const before = await snapshot(db);
        for (const cmd of ['db_sync', 'db_version']) {
          const r = await heatManage([cmd], { env: envUrl(db.url) });
          assertError(r, NOT_CONTROLLED);
          assert.equal(await snapshot(db), before, `${cmd}: the database is unchanged`);
        }
      });
    });

    test('a database at version 99 (from a newer Heat): db_sync is a clear error, not a crash; db_version prints 99', async () => {
      await withDatabase(dialect, async (db) => {
        await createVersionTable(db, 'heat', 99);
        await createUnrelatedTable(db, 'stack');
        const before = await snapshot(db);
        const r = await heatManage(['db_sync'], { env: envUrl(db.url) });
        const line = assertError(r, /\b99\b/);
        assert.match(line, /\b86\b/, 'says which version this heat-manage knows');
        assert.match(line, /newer/i);
        assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
        assert.equal(await snapshot(db), before);
        const t = await heatManage(['db_sync', '71'], { env: envUrl(db.url) });
        assert.equal(t.code, 1, show(t));
        assert.equal(await snapshot(db), before, 'db_sync 71 on a database at 99 changes nothing either');
        const v = await heatManage(['db_version'], { env: envUrl(db.url) });
        assert.equal(v.code, 0, show(v));
        assert.equal(v.stdout, '99\n');
      });
    });

    test('a database that says 73 (Train) over another schema: db_sync checks the schema and refuses, unchanged', async () => {
      await withDatabase(dialect, async (db) => {
        await createVersionTable(db, 'heat', 73);
        await createUnrelatedTable(db, 'stack');
        const before = await snapshot(db);
        const r = await heatManage(['db_sync'], { env: envUrl(db.url) });
        const line = assertError(r, /says version 73 but its schema is not that version's.*nothing was changed/);
        assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
        assert.equal(await snapshot(db), before);
      });
    });

    test("a migrate_version holding only another repository's row is refused, unchanged", async () => {
      await withDatabase(dialect, async (db) => {
        await createVersionTable(db, 'nova', 5);
        const before = await snapshot(db);
        for (const cmd of ['db_sync', 'db_version']) {
          const r = await heatManage([cmd], { env: envUrl(db.url) });
          const line = assertError(r, NOT_CONTROLLED);
          assert.match(line, /heat/, 'names the repository it looked for');
          assert.equal(await snapshot(db), before, `${cmd}: the other repository's row and nothing else`);
        }
      });
    });

    const badVersions: [arg: string, code: 1 | 2, pattern: RegExp][] = [
      ['abc', 2, /version.*'abc'/],
      ['-1', 2, /version.*'-1'/],
      ['99', 1, /99/],
      ['20', 1, /\b20\b.*\b27\b|\b27\b.*\b20\b/],
    ];
    for (const [arg, code, pattern] of badVersions) {
      test(`db_sync ${arg}: exit ${code}, one line, the empty database not even stamped`, async () => {
        await withDatabase(dialect, async (db) => {
          const before = await snapshot(db);
          const r = await heatManage(['db_sync', arg], { env: envUrl(db.url) });
          if (code === 2) assertUsageError(r, pattern);
          else assertError(r, pattern);
          assert.equal(await snapshot(db), before);
        });
      });
    }
  });
}

// =============================================================================================
// Issue 4: connections that fail (MariaDB and PostgreSQL)

for (const dialect of ['mysql', 'postgresql'] as const) {
  describe(`heat-manage connection failures on ${dialect}`, { ...(await skipUnlessReachable(dialect)), concurrency: 4, timeout: TEST_TIMEOUT }, () => {
    test('unknown database: exit 1 at once (not retried), one line naming it', async () => {
      const dir = tempDir();
      const { host, port } = serverHostPort(dialect);
      const name = `no_such_db_${randomBytes(3).toString('hex')}`;
      const user = dialect === 'mysql' ? 'root' : 'postgres';
      const conf = writeConf(
        dir,
        'heat.conf',
        `[database]\nconnection = ${dialect}://${user}@${host}:${port}/${name}\nmax_retries = 5\nretry_interval = 10\n`,
      );
      const r = await heatManage(['db_sync', '--config-file', conf]);
      assertError(r, name);
      assert.ok(!splitStderr(r.stderr).logs.some((l) => /retrying/i.test(l.msg)), `not retried\n${show(r)}`);
      assert.ok(r.ms < 9000, `no retry wait (took ${Math.round(r.ms)} ms)`);
    });

    test('unreachable server with max_retries = 1, retry_interval = 1: two attempts, exit 1, one final line', async () => {
      // A closed port on 127.0.0.1 (refused at once) stands for a server that is down: a
      // black-holed address would only make each attempt wait for the connect timeout.
      const dir = tempDir();
      const port = await closedPort();
      const conf = writeConf(
        dir,
        'heat.conf',
        `[database]\nconnection = ${dialect}://heat@127.0.0.1:${port}/heat\nmax_retries = 1\nretry_interval = 1\n`,
      );
      const r = await heatManage(['db_sync', '--config-file', conf]);
      const line = assertError(r, /2 attempts/);
      assert.match(line, new RegExp(`127\\.0\\.0\\.1:${port}`), 'names the server');
      const retries = splitStderr(r.stderr).logs.filter((l) => /retrying/i.test(l.msg));
      assert.equal(retries.length, 1, `one retry warning between the two attempts\n${show(r)}`);
      assert.ok(r.ms >= 1000, `waited retry_interval between the attempts (took ${Math.round(r.ms)} ms)`);
      assert.ok(r.ms < 20_000, `gave up after two attempts (took ${Math.round(r.ms)} ms)`);
    });

    test('wrong password: exit 1 at once (not retried), the password never printed', async (t) => {
      if (dialect === 'postgresql' && !(await pgChecksPasswords())) {
        t.skip('this PostgreSQL server trusts TCP connections from 127.0.0.1: it never checks a password');
        return;
      }
      const db = await createTestDatabase(dialect);
      const check = async (user: string) => {
        const dir = tempDir();
        const conf = writeConf(
          dir,
          'heat.conf',
          `[database]\nconnection = ${userUrl(db, user, WRONG_PASSWORD)}\nmax_retries = 5\nretry_interval = 10\n`,
        );
        const before = await snapshot(db);
        const r = await heatManage(['db_sync', '--config-file', conf]);
        const line = assertError(r, /denied|authentication failed/i);
        assert.match(line, /\*\*\*/, 'the URL is shown with its password masked');
        assertNoSecret(r, WRONG_PASSWORD, 'S3cret-heat-pw');
        assert.ok(!splitStderr(r.stderr).logs.some((l) => /retrying/i.test(l.msg)), `not retried\n${show(r)}`);
        assert.ok(r.ms < 9000, `no retry wait (took ${Math.round(r.ms)} ms)`);
        // --debug adds SQL logging and a stack trace after the ERROR line: still no password.
        const d = await heatManage(['db_sync', '--config-file', conf, '--debug']);
        assert.equal(d.code, 1, show(d));
        assertNoSecret(d, WRONG_PASSWORD, 'S3cret-heat-pw');
        assert.equal(await snapshot(db), before);
      };
      if (dialect === 'mysql') {
        try {
          await withMysqlUser(db, 'S3cret-heat-pw', 'ALL PRIVILEGES', check);
        } finally {
          await db.drop();
        }
      } else {
        await withPgRole(db, 'S3cret-heat-pw', true, check);
      }
    });

    test('a password with @ : / % # ; and a space in heat.conf: db_sync works, the password never printed (also with --debug)', async () => {
      const db = await createTestDatabase(dialect);
      // The URL in heat.conf percent-encodes the password, as SQLAlchemy URLs require; the ini
      // value keeps '#' and ';' (oslo.config has no inline comments).
      const check = async (user: string) => {
        const dir = tempDir();
        const url = userUrl(db, user, SPECIAL_PASSWORD) + (dialect === 'mysql' ? '?charset=utf8' : '');
        const conf = writeConf(dir, 'heat.conf', `[DEFAULT]\ndebug = false\n\n[database]\nconnection = ${url}\n`);
        const r = await heatManage(['db_sync', '--config-file', conf, '--debug']);
        assertNoSecret(r, SPECIAL_PASSWORD);
        assert.equal(r.code, 0, show(r));
        assert.ok(splitStderr(r.stderr).logs.some((l) => l.level === 20), '--debug logs at DEBUG level');
        assert.deepEqual(steps(r), FRESH);
        const v = await heatManage(['db_version', '--config-file', conf, '--debug']);
        assertNoSecret(v, SPECIAL_PASSWORD);
        assert.equal(v.stdout, `${LATEST}\n`, show(v));
        assert.equal(await heatVersionRow(db), LATEST);
      };
      if (dialect === 'mysql') {
        try {
          await withMysqlUser(db, SPECIAL_PASSWORD, 'ALL PRIVILEGES', check);
        } finally {
          await db.drop();
        }
      } else {
        // Note: this server trusts 127.0.0.1, so PostgreSQL does not verify the password here;
        // the test still covers parsing the URL and masking it everywhere.
        await withPgRole(db, SPECIAL_PASSWORD, true, check);
      }
    });

    test('a user without the CREATE privilege: exit 1, the message names the missing privilege and the statement', async () => {
      const db = await createTestDatabase(dialect);
      const check = async (user: string) => {
        const before = await snapshot(db);
        const r = await heatManage(['db_sync'], { env: envUrl(userUrl(db, user, 'S3cret-heat-pw')) });
        const line = assertError(r, /CREATE TABLE/);
        if (dialect === 'mysql') assert.match(line, /CREATE command denied/, 'names the privilege');
        else assert.match(line, /permission denied for schema public/, 'names the privilege');
        assertNoSecret(r, 'S3cret-heat-pw');
        assert.equal(await snapshot(db), before, 'nothing was created');
      };
      if (dialect === 'mysql') {
        try {
          await withMysqlUser(db, 'S3cret-heat-pw', 'SELECT, INSERT, UPDATE, DELETE', check);
        } finally {
          await db.drop();
        }
      } else {
        // PostgreSQL 15+: only the owner of schema public may create in it; this role is not.
        await withPgRole(db, 'S3cret-heat-pw', false, check);
      }
    });
  });
}

// =============================================================================================
// Command line and configuration (SQLite files, or no database at all)

describe('heat-manage command line', { concurrency: 4, timeout: TEST_TIMEOUT }, () => {
  test('--help: usage with both commands and the options on stdout, exit 0', async () => {
    const r = await heatManage(['--help']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, '');
    for (const s of ['db_sync', 'db_version', '--config-file', '--config-dir', '--debug', '--version']) {
      assert.ok(r.stdout.includes(s), `--help mentions ${s}`);
    }
  });

  test('db_sync --help: the command and its VERSION argument, exit 0, no database touched', async () => {
    const dir = tempDir();
    const r = await heatManage(['db_sync', '--help'], { cwd: dir, env: envUrl(`sqlite:///${dir}/x.sqlite`) });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /db_sync/);
    assert.match(r.stdout, /VERSION/);
    assert.ok(!existsSync(join(dir, 'x.sqlite')));
  });

  test("--version prints package.json's version, exit 0", async () => {
    const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
    const r = await heatManage(['--version']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), version);
  });

  for (const args of [['--bogus', 'db_sync'], ['db_sync', '--frob'], ['frobnicate'], [], ['db_sync', '71', '72']]) {
    test(`usage error for [${args.join(' ')}]: exit 2, one line, no database touched`, async () => {
      const dir = tempDir();
      const r = await heatManage(args, { cwd: dir, env: envUrl(`sqlite:///${dir}/x.sqlite`) });
      assertUsageError(r, /\S/);
      assert.ok(!existsSync(join(dir, 'x.sqlite')), 'no database file created');
      assert.ok(!existsSync(join(dir, 'heat.sqlite')));
    });
  }

  test('no config file anywhere: the embedded ./heat.sqlite is created in the working directory, and the log says so', async (t) => {
    const etc = ['/etc/heat/heat.conf', '/etc/heat.conf', '/etc/heat/heat-engine.conf', '/etc/heat-engine.conf'].filter(existsSync);
    if (etc.length) {
      t.skip(`this machine has ${etc.join(', ')}: heat-manage would read it`);
      return;
    }
    const home = tempDir();
    const cwd = tempDir();
    const r = await heatManage(['db_sync'], { home, cwd });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '');
    const embedded = join(cwd, 'heat.sqlite');
    assert.ok(existsSync(embedded), 'heat.sqlite created in the working directory');
    const { logs } = splitStderr(r.stderr);
    assert.ok(
      logs.some((l) => l.level >= 40 && /no config file/i.test(l.msg) && l.msg.includes(embedded)),
      `a warning says no config file was found and names ${embedded}\n${show(r)}`,
    );
    assert.deepEqual(steps(r), FRESH);
    const v = await heatManage(['db_version'], { home, cwd });
    assert.equal(v.stdout, `${LATEST}\n`, show(v));
    assert.ok(!existsSync(join(home, 'heat.sqlite')), 'nothing written to HOME');
  });

  test('an unreadable config file (chmod 000): exit 1, one line naming the file, database untouched', async () => {
    // Tests usually run as root here, and root reads a file of mode 000 anyway; then the CLI runs as
    // the user `nobody` (uid/gid 65534), for whom the file really is unreadable.
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const db = join(dir, 'never.sqlite');
    const conf = writeConf(dir, 'heat.conf', `[database]\nconnection = sqlite:///${db}\n`, 0o000);
    const asRoot = process.getuid?.() === 0;
    const r = await heatManage(['db_version', '--config-file', conf], {
      cwd: dir,
      home: dir,
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    const line = assertError(r, conf);
    assert.match(line, /permission denied/i);
    assert.ok(!existsSync(db));
  });

  test('a config file path that is a dangling symlink: exit 1, one line naming it', async () => {
    // The other stand-in for "unreadable" that works as root too.
    const dir = tempDir();
    const conf = join(dir, 'heat.conf');
    symlinkSync(join(dir, 'gone', 'heat.conf'), conf);
    const r = await heatManage(['db_version', '--config-file', conf], { cwd: dir });
    assertError(r, conf);
    assert.ok(!existsSync(join(dir, 'heat.sqlite')), 'no fallback to the embedded database');
  });

  test('a config file path that is a directory: exit 1, one line naming it', async () => {
    const dir = tempDir();
    const conf = join(dir, 'heat.conf');
    mkdirSync(conf);
    const r = await heatManage(['db_version', '--config-file', conf], { cwd: dir });
    assertError(r, conf);
    assert.ok(!existsSync(join(dir, 'heat.sqlite')));
  });

  test('a config file with a syntax error: exit 1, the message names the file and the line', async () => {
    const dir = tempDir();
    const db = join(dir, 'never.sqlite');
    const conf = writeConf(dir, 'heat.conf', `[DEFAULT]\ndebug = false\n\n[database]\nconnection = sqlite:///${db}\n[broken\n`);
    const r = await heatManage(['db_sync', '--config-file', conf], { cwd: dir });
    assertError(r, `${conf}:6`);
    assert.ok(!existsSync(db), 'the database named before the error is not touched');

    const conf2 = writeConf(dir, 'heat2.conf', `[database]\nconnection = sqlite:///${db}\nthis line is garbage\n`);
    const r2 = await heatManage(['db_sync', '--config-file', conf2], { cwd: dir });
    assertError(r2, `${conf2}:3`);
    assert.ok(!existsSync(db));
  });

  test('[database] connection empty: exit 1, the message names the file and the line', async () => {
    const dir = tempDir();
    const db = join(dir, 'first.sqlite');
    const first = writeConf(dir, 'a.conf', `[database]\nconnection = sqlite:///${db}\n`);
    const second = writeConf(dir, 'b.conf', `[DEFAULT]\n\n[database]\nconnection =\n`);
    const r = await heatManage(['db_sync', '--config-file', first, '--config-file', second], { cwd: dir });
    const line = assertError(r, second);
    assert.match(line, /connection/);
    assert.match(line, /\b4\b/, 'the line number');
    assert.ok(!existsSync(db));
    assert.ok(!existsSync(join(dir, 'heat.sqlite')), 'an empty connection is not the embedded default');
  });

  test('OS_DATABASE__CONNECTION empty: exit 1, one line naming the variable', async () => {
    const dir = tempDir();
    const r = await heatManage(['db_sync'], { cwd: dir, env: envUrl('') });
    assertError(r, 'OS_DATABASE__CONNECTION');
    assert.ok(!existsSync(join(dir, 'heat.sqlite')));
  });

  test('an unsupported scheme (oracle://): exit 1, one line naming it, the password masked', async () => {
    const dir = tempDir();
    const conf = writeConf(dir, 'heat.conf', `[database]\nconnection = oracle://heat:S3cret-heat-pw@db.example:1521/heat\n`);
    const r = await heatManage(['db_sync', '--config-file', conf], { cwd: dir });
    assertError(r, /oracle/);
    assertNoSecret(r, 'S3cret-heat-pw');
  });

  for (const url of ['mysql//root@127.0.0.1/heat', 'not a url', 'mysql://root:S3cret-heat-pw@127.0.0.1:99999/heat']) {
    test(`a malformed URL (${url.replace('S3cret-heat-pw', '***')}): exit 1, one line, no password`, async () => {
      const dir = tempDir();
      const conf = writeConf(dir, 'heat.conf', `[database]\nconnection = ${url}\nmax_retries = 3\nretry_interval = 10\n`);
      const r = await heatManage(['db_sync', '--config-file', conf], { cwd: dir });
      assertError(r, /URL|url|port/);
      assertNoSecret(r, 'S3cret-heat-pw');
      assert.ok(r.ms < 9000, 'not retried');
    });
  }

  test('a SQLite file in a directory that does not exist: exit 1 at once, one line', async () => {
    const dir = tempDir();
    const r = await heatManage(['db_sync'], { cwd: dir, env: envUrl(`sqlite:///${dir}/missing/heat.sqlite`) });
    assertError(r, /director/i);
    assert.ok(r.ms < 9000, 'not retried');
    assert.ok(!existsSync(join(dir, 'missing')));
  });

  test('a log_file that cannot be opened: exit 1, one line naming it, no stack trace, database untouched', async () => {
    // Its "directory" is a regular file, so opening fails even for root (ENOTDIR/EEXIST).
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const logFile = join(dir, 'not-a-dir', 'heat-manage.log');
    const db = join(dir, 'heat.sqlite');
    const conf = writeConf(dir, 'heat.conf', `[DEFAULT]\nlog_file = ${logFile}\n\n[database]\nconnection = sqlite:///${db}\n`);
    const r = await heatManage(['db_version', '--config-file', conf], { cwd: dir });
    assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace\n${show(r)}`);
    assertError(r, logFile);
    assert.ok(!existsSync(db));
  });

  test('with log_file set, stderr gets only the ERROR line; the log goes to the file', async () => {
    const dir = tempDir();
    const logFile = join(dir, 'heat-manage.log');
    const conf = writeConf(dir, 'heat.conf', `[DEFAULT]\nlog_file = ${logFile}\n\n[database]\nconnection = oracle://heat@db/heat\n`);
    const r = await heatManage(['db_sync', '--config-file', conf], { cwd: dir });
    assertError(r, /oracle/);
    assert.deepEqual(splitStderr(r.stderr).logs, [], 'no log lines on stderr');
    assert.ok(existsSync(logFile), 'the log file was created');
  });

  test('--config-file is repeatable: the later file wins', async () => {
    const dir = tempDir();
    const a = writeConf(dir, 'a.conf', `[database]\nconnection = sqlite:///${dir}/a.sqlite\n`);
    const b = writeConf(dir, 'b.conf', `[database]\nconnection = sqlite:///${dir}/b.sqlite\n`);
    const r = await heatManage(['db_sync', '--config-file', a, '--config-file', b], { cwd: dir });
    assert.equal(r.code, 0, show(r));
    assert.ok(existsSync(join(dir, 'b.sqlite')) && !existsSync(join(dir, 'a.sqlite')), 'b.conf (the later) decides');
    const v = await heatManage(['db_version', '--config-file', b, '--config-file', a], { cwd: dir });
    assert.equal(v.stdout, `${INIT}\n`, 'reversed, a.conf decides: a new, empty database stamped at 27');
    assert.ok(existsSync(join(dir, 'a.sqlite')));
  });

  test('--config-dir: its *.conf files are read sorted, after --config-file, other files ignored', async () => {
    const dir = tempDir();
    const confd = join(dir, 'heat.conf.d');
    mkdirSync(confd);
    const file = writeConf(dir, 'heat.conf', `[database]\nconnection = sqlite:///${dir}/file.sqlite\n`);
    writeConf(confd, '10-first.conf', `[database]\nconnection = sqlite:///${dir}/first.sqlite\n`);
    writeConf(confd, '20-second.conf', `[database]\nconnection = sqlite:///${dir}/second.sqlite\n`);
    writeConf(confd, '30-not-a-conf.txt', `[database]\nconnection = sqlite:///${dir}/txt.sqlite\n`);
    writeConf(confd, '.40-hidden.conf', `[database]\nconnection = sqlite:///${dir}/hidden.sqlite\n`);
    const r = await heatManage(['db_sync', '--config-file', file, '--config-dir', confd], { cwd: dir });
    assert.equal(r.code, 0, show(r));
    for (const n of ['file', 'first', 'txt', 'hidden']) assert.ok(!existsSync(join(dir, `${n}.sqlite`)), `${n}.sqlite not used`);
    assert.ok(existsSync(join(dir, 'second.sqlite')), '20-second.conf (the last sorted *.conf) decides');

    const missing = await heatManage(['db_sync', '--config-dir', join(dir, 'nope')], { cwd: dir });
    assertError(missing, join(dir, 'nope'));
  });

  test('OS_DATABASE__CONNECTION overrides heat.conf', async () => {
    const dir = tempDir();
    const conf = writeConf(dir, 'heat.conf', `[database]\nconnection = sqlite:///${dir}/conf.sqlite\n`);
    const r = await heatManage(['db_version', '--config-file', conf], { cwd: dir, env: envUrl(`sqlite:///${dir}/env.sqlite`) });
    assert.equal(r.code, 0, show(r));
    assert.ok(existsSync(join(dir, 'env.sqlite')) && !existsSync(join(dir, 'conf.sqlite')));
  });

  test('options before the command, as kolla and openstack-helm call it: heat-manage --config-file F db_sync', async () => {
    const dir = tempDir();
    const conf = writeConf(dir, 'heat.conf', `[database]\nconnection = sqlite:///${dir}/heat.sqlite\n`);
    const r = await heatManage(['--config-file', conf, 'db_sync'], { cwd: dir });
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(steps(r), FRESH);
    const v = await heatManage([`--config-file=${conf}`, 'db_version'], { cwd: dir });
    assert.equal(v.code, 0, show(v));
    assert.equal(v.stdout, `${LATEST}\n`);
    const d = await heatManage(['--config-file', conf, '--config-dir', dir, 'db_version'], { cwd: dir });
    assert.equal(d.stdout, `${LATEST}\n`, show(d));
  });

  test('a config file readable by others (0644) that holds a password gets a warning; 0600 does not', async () => {
    const dir = tempDir();
    const text =
      `[database]\nconnection = sqlite:///${dir}/heat.sqlite\n\n` +
      `[keystone_authtoken]\nauth_type = password\nusername = heat\npassword = S3cret-heat-pw\n`;
    const open = writeConf(dir, 'open.conf', text, 0o644);
    const r = await heatManage(['db_version', '--config-file', open], { cwd: dir });
    assert.equal(r.code, 0, show(r));
    const warned = (x: Run, file: string) =>
      splitStderr(x.stderr).logs.some((l) => l.level >= 40 && l.msg.includes(file) && /readable/i.test(l.msg));
    assert.ok(warned(r, open), `a warning names ${open}\n${show(r)}`);
    assertNoSecret(r, 'S3cret-heat-pw');
    const closed = writeConf(dir, 'closed.conf', text, 0o600);
    const c = await heatManage(['db_version', '--config-file', closed], { cwd: dir });
    assert.equal(c.code, 0, show(c));
    assert.ok(!warned(c, closed), `no warning for mode 0600\n${show(c)}`);
  });
});
