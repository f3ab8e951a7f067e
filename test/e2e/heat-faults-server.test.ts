/**
 * Fault matrix, part 2: privileges, server state, TLS and IPv6 (issue 9).
 *
 * Privileges and server state run on the machine's MariaDB/PostgreSQL and on SQLite files; TLS,
 * IPv6 and restarts on private servers (test/support/spare-server.ts) with a CA and certificates
 * made by openssl for the test. Every case asserts the exit code, the one ERROR line and the
 * database: unchanged after a refusal, or converging on re-run to the exact target schema with
 * every step applied once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runMigrate, show } from '../support/cli.js';
import { join } from 'node:path';
import { createTestDatabase, serverQuery, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { describeRun, dumpDifferences, exactlyOnceProblems, runHeat, startHeat, stepLog } from '../support/heat-cli.js';
import { assertConverged, assertOk, atFirstStep, errorLine, hasLog, heatVersion, makeCertificates, scratchDir, stateOf, withDb, type Certificates } from '../support/faults.js';
import { createSpareServer, dumpSpare, spareUnavailableReason, type SpareOptions, type SpareServer } from '../support/spare-server.js';

const TIMEOUT = 240_000;
const asRoot = process.getuid?.() === 0;
const KOLLA_UID = 42418;
const PASSWORD = 'S3cret-heat-pw'; // one of secrets.ts's: the suite checks it never shows
const root = scratchDir('heat-faults-server-');
chmodSync(root, 0o755);

const uniqueUser = () => `hf_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;

/** A database of `dialect` migrated to `v` by root/postgres. */
async function dbAt(dialect: 'mysql' | 'postgresql' | 'sqlite', v: number): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  const r = await runHeat(['db_sync', String(v)], { url: db.url });
  assert.equal(r.code, 0, describeRun(r));
  return db;
}

/** Converged, and migrate_log has exactly one `done` row per step. */
async function assertConvergedOnce(db: TestDatabase): Promise<void> {
  await assertConverged(db);
  if (db.dialect !== 'sqlite') assert.deepEqual(exactlyOnceProblems(await stepLog(db.query)), []);
}

// ---------------------------------------------------------------------------------------------
// Privileges

describe('fault matrix: privileges', { concurrency: 3, timeout: TIMEOUT }, () => {
  const mysqlUser = async (db: TestDatabase, grants: string): Promise<{ url: string; drop: () => Promise<void> }> => {
    const user = uniqueUser();
    await serverQuery('mysql', `CREATE USER '${user}'@'%' IDENTIFIED BY ?`, [PASSWORD]);
    await serverQuery('mysql', `GRANT ${grants} ON \`${db.name}\`.* TO '${user}'@'%'`);
    return {
      url: `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:3306/${db.name}`,
      drop: () => serverQuery('mysql', `DROP USER IF EXISTS '${user}'@'%'`).then(() => undefined),
    };
  };
  const ALL_BUT = (...without: string[]) =>
    ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'INDEX', 'ALTER', 'REFERENCES', 'CREATE TEMPORARY TABLES', 'LOCK TABLES']
      .filter((p) => !without.includes(p))
      .join(', ');

  test('P1 MariaDB, a SELECT-only user on a database at 40: exit 1 naming the denied statement, database unchanged', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt('mysql', 40);
    const u = await mysqlUser(db, 'SELECT');
    try {
      const before = await stateOf(db);
      const r = await runHeat(['db_sync'], { url: u.url });
      errorLine(r, /denied/i);
      assert.ok(!r.stderr.includes(PASSWORD));
      assert.equal(await stateOf(db), before);
    } finally {
      await u.drop();
      await db.drop();
    }
  });

  for (const [id, missing] of [
    ['P2', 'ALTER'],
    ['P3', 'INDEX'],
  ] as const) {
    test(`${id} MariaDB, a user without ${missing} on a database at 40: stops with one line; after the GRANT the re-run converges exactly`, async (t) => {
      const skip = (await skipUnlessReachable('mysql')).skip;
      if (skip) return t.skip(skip);
      const db = await dbAt('mysql', 40);
      const u = await mysqlUser(db, ALL_BUT(missing));
      try {
        const r = await runHeat(['db_sync'], { url: u.url });
        errorLine(r, new RegExp(`${missing} command denied|denied.*${missing}`, 'i'));
        const stopped = await heatVersion(db);
        assert.ok(typeof stopped === 'number' && stopped >= 40 && stopped < 71, `stopped at ${stopped}`);
        await serverQuery('mysql', `GRANT ${missing} ON \`${db.name}\`.* TO '${u.url.split('//')[1]!.split(':')[0]}'@'%'`);
        const again = await runHeat(['db_sync'], { url: u.url });
        assertOk(again);
        await assertConvergedOnce(db);
      } finally {
        await u.drop();
        await db.drop();
      }
    });
  }

  const pgRole = async (db: TestDatabase, grants: string[]): Promise<{ url: string; drop: () => Promise<void> }> => {
    const role = uniqueUser();
    await serverQuery('postgresql', `CREATE ROLE "${role}" LOGIN PASSWORD '${PASSWORD}'`);
    for (const g of grants) await serverQuery('postgresql', g.replace(/ROLE/g, `"${role}"`), [], db.name);
    return {
      url: `postgresql://${role}:${PASSWORD}@127.0.0.1:5432/${db.name}`,
      drop: async () => {
        await db.drop();
        await serverQuery('postgresql', `DROP ROLE IF EXISTS "${role}"`);
      },
    };
  };

  test('P4 PostgreSQL, a read-only role (SELECT only) on a database at 40: exit 1, permission denied, database unchanged', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt('postgresql', 40);
    const u = await pgRole(db, ['GRANT USAGE ON SCHEMA public TO ROLE', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO ROLE']);
    try {
      const before = await stateOf(db);
      const r = await runHeat(['db_sync'], { url: u.url });
      errorLine(r, /permission denied/);
      assert.equal(await stateOf(db), before);
    } finally {
      await u.drop();
    }
  });

  test('P5 PostgreSQL, a role with every DML right but not owning the tables (no ALTER): the step rolls back; as the owner the re-run converges', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    const db = await dbAt('postgresql', 40);
    const u = await pgRole(db, [
      'GRANT USAGE, CREATE ON SCHEMA public TO ROLE',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ROLE',
      'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ROLE',
    ]);
    try {
      const r = await runHeat(['db_sync'], { url: u.url });
      errorLine(r, /must be owner of (table|relation)/);
      const stopped = await heatVersion(db);
      assert.ok(typeof stopped === 'number' && stopped >= 40 && stopped < 71, `stopped at ${stopped}`);
      const again = await runHeat(['db_sync'], { url: db.url });
      assertOk(again);
      await assertConverged(db);
    } finally {
      await u.drop();
    }
  });

  test('P6 SQLite, a database file the container user cannot write (root 0644, run as uid 42418): refused before the first step, names the file, unchanged', async (t) => {
    if (!asRoot) return t.skip('needs root to run as another user');
    const db = await dbAt('sqlite', 40);
    try {
      chmodSync(join(db.file!, '..'), 0o755);
      chmodSync(db.file!, 0o644);
      const before = await stateOf(db);
      const r = await runHeat(['db_sync'], { bare: true, url: db.url, uid: KOLLA_UID, gid: KOLLA_UID, cwd: root });
      const line = errorLine(r, `SQLite database ${db.file} cannot be written (attempt to write a readonly database)`);
      assert.match(line, /nothing was applied/);
      assert.ok(!/ -> \d{3} .*done/.test(r.stderr), 'no step ran');
      assert.equal(await stateOf(db), before);
    } finally {
      await db.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Server state: the connection killed under the run, a write lock held, a full disk

describe('fault matrix: server state', { concurrency: 3, timeout: TIMEOUT }, () => {
  test('S1 MariaDB, the migration connection KILLed mid-run: exit 1 "lost the connection"; the re-run converges, each step once', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    await withDb('mysql', async (db) => {
      await atFirstStep(db.url); // an empty database would get 71 in one step: this is about steps
      const p = startHeat(['db_sync'], { url: db.url });
      await p.waitFor(/-> 035 .*done/);
      p.kill('SIGSTOP');
      for (const { id } of await serverQuery('mysql', 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [db.name])) {
        await serverQuery('mysql', `KILL CONNECTION ${Number(id)}`).catch(() => undefined);
      }
      p.kill('SIGCONT');
      const r = await p.done;
      errorLine(r, /lost the connection to the database during a run .*run again once it is back/);
      const again = await runHeat(['db_sync'], { url: db.url });
      assertOk(again);
      await assertConvergedOnce(db);
    });
  });

  test('S2 PostgreSQL, the migration backend terminated mid-run: exit 1 "lost the connection"; the step rolled back; the re-run converges', async (t) => {
    const skip = (await skipUnlessReachable('postgresql')).skip;
    if (skip) return t.skip(skip);
    await withDb('postgresql', async (db) => {
      await atFirstStep(db.url); // an empty database would get 71 in one step: this is about steps
      const p = startHeat(['db_sync'], { url: db.url });
      await p.waitFor(/-> 035 .*done/);
      p.kill('SIGSTOP');
      await serverQuery('postgresql', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()', [db.name]);
      p.kill('SIGCONT');
      const r = await p.done;
      errorLine(r, /lost the connection to the database during a run/);
      const v = await heatVersion(db);
      assert.ok(typeof v === 'number' && v >= 35 && v < 71, `at ${v}`);
      const again = await runHeat(['db_sync'], { url: db.url });
      assertOk(again);
      await assertConvergedOnce(db);
    });
  });

  test('S3 SQLite, another process holds the write lock: the wait is logged; exit 1 after migration_lock_timeout (2 s), names the file, database unchanged', async () => {
    const db = await dbAt('sqlite', 40);
    try {
      const before = await stateOf(db);
      const Database = (await import('better-sqlite3')).default;
      const holder = new Database(db.file!);
      holder.exec('BEGIN IMMEDIATE');
      try {
        const r = await runHeat(['db_sync'], { url: db.url, env: { OS_DATABASE__MIGRATION_LOCK_TIMEOUT: '2' } });
        errorLine(r, `timed out waiting for the SQLite write lock on ${db.file}`);
        assert.ok(r.ms < 30_000, `bounded: ${Math.round(r.ms)} ms`);
        assert.ok(hasLog(r, new RegExp(`waiting \\d+ s for the SQLite write lock on ${db.file!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 40), `the wait is logged\n${describeRun(r)}`);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      assert.equal(await stateOf(db), before);
      assertOk(await runHeat(['db_sync'], { url: db.url }));
      await assertConverged(db);
    } finally {
      await db.drop();
    }
  });

  test('S4 SQLite on a full disk (a 160 KiB tmpfs): exit 1 "database or disk is full", the file intact at a step boundary; with space the re-run converges', async (t) => {
    if (!asRoot) return t.skip('needs root to mount a tmpfs in a mount namespace');
    const db = await dbAt('sqlite', 40);
    try {
      const small = join(root, `full-${process.pid}-${Date.now()}`);
      mkdirSync(small);
      const seed = `${db.file}.seed`;
      copyFileSync(db.file!, seed);
      // Inside a private mount namespace: a tiny tmpfs, the database copied in, db_sync, copied back out.
      const script = 'mount -t tmpfs -o size=160k none "$SMALL" && cp "$SEED" "$SMALL/heat.sqlite" && "$@"; rc=$?; cp "$SMALL/heat.sqlite" "$OUT"; exit $rc';
      const r = await runHeat(['db_sync'], {
        url: `sqlite:///${join(small, 'heat.sqlite')}`,
        env: { SMALL: small, SEED: seed, OUT: db.file! },
        wrap: ['unshare', '--mount', 'sh', '-c', script, 'sh'],
      });
      errorLine(r, /database or disk is full/);
      const v = await heatVersion(db);
      assert.ok(typeof v === 'number' && v >= 40 && v < 71, `at ${v}`);
      const [ok] = await db.query('PRAGMA integrity_check');
      assert.equal(ok!.integrity_check, 'ok');
      assertOk(await runHeat(['db_sync'], { url: db.url }));
      await assertConverged(db);
    } finally {
      await db.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A statement larger than the server's max_allowed_packet (the engine's diagnosis; Heat's data
// steps write big rows in pieces, which is tested with them)

describe('fault matrix: a statement larger than max_allowed_packet', { concurrency: 1, timeout: TIMEOUT }, () => {
  test('S5 MariaDB: a 17 MB statement (16 MB max_allowed_packet): exit 1 naming max_allowed_packet, never "lost the connection", 4 runs out of 4', async (t) => {
    const skip = (await skipUnlessReachable('mysql')).skip;
    if (skip) return t.skip(skip);
    const [limit] = await serverQuery('mysql', 'SELECT @@max_allowed_packet AS n');
    const bytes = Number(limit!.n) + 1024 * 1024;
    const repo = join(root, `big-${process.pid}`);
    mkdirSync(join(repo, 'versions'), { recursive: true });
    writeFileSync(join(repo, 'migrate.cfg'), '[db_settings]\nrepository_id = big\nversion_table = migrate_version\n');
    writeFileSync(
      join(repo, 'versions', '001_big_row.mjs'),
      `export async function upgrade(e) {\n  await e.execute('CREATE TABLE IF NOT EXISTS big (id INT PRIMARY KEY, t LONGTEXT)');\n  await e.execute('REPLACE INTO big VALUES (1, ?)', ['x'.repeat(${bytes})]);\n}\n`,
    );
    await withDb('mysql', async (db) => {
      assert.equal((await runMigrate(['version_control', db.url, repo])).code, 0);
      for (let i = 0; i < 4; i++) {
        const r = await runMigrate(['upgrade', db.url, repo]);
        assert.equal(r.code, 1, show(r));
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('migrate: error:'));
        assert.equal(errors.length, 1, show(r));
        assert.match(errors[0]!, /larger than the server's max_allowed_packet \(\d+\.\d MB\).*raise max_allowed_packet/);
        assert.doesNotMatch(errors[0]!, /lost the connection/);
      }
      const [v] = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'big'");
      assert.equal(Number(v!.version), 0, 'the step was not applied');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// A private MariaDB with TLS, listening on IPv4 and IPv6; restarted mid-run

function spareSkip(kind: 'mariadb' | 'postgresql'): string | undefined {
  const reason = spareUnavailableReason(kind);
  return reason && process.env.CI !== 'true' ? reason : undefined;
}

/**
 * A private server for one describe block (started in before(), destroyed in after()), with a
 * fresh database per test, the convergence check, and a restart in the middle of a run.
 */
function onSpare(kind: 'mariadb' | 'postgresql', options: () => SpareOptions) {
  let server: SpareServer | undefined;
  let n = 0;
  const dialect = kind === 'mariadb' ? 'mysql' : 'postgresql';
  before(async () => {
    server = await createSpareServer(kind, options());
    await server.start();
  });
  after(async () => {
    await server?.destroy();
  });
  const ctx = {
    get server(): SpareServer {
      return server!;
    },
    async newDb(): Promise<string> {
      const name = `heat${++n}`;
      await server!.query(`CREATE DATABASE ${name}`);
      return name;
    },
    async converged(db: string): Promise<void> {
      assert.deepEqual(dumpDifferences(dialect, await dumpSpare(server!, db)), []);
      const [v] = await server!.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'", [], db);
      assert.equal(Number(v?.version), 71);
      assert.deepEqual(exactlyOnceProblems(await stepLog((sql, params) => server!.query(sql, params, db))), []);
    },
    /** db_sync paused after step 44 while the server restarts: exit 1, one line; the re-run converges. */
    async restartMidRun(): Promise<string> {
      const db = await ctx.newDb();
      const url = server!.url(db);
      await atFirstStep(url);
      const p = startHeat(['db_sync'], { url });
      await p.waitFor(/-> 044 .*done/);
      p.kill('SIGSTOP');
      await server!.restart();
      p.kill('SIGCONT');
      const line = errorLine(await p.done, /lost the connection to the database during a run/);
      assertOk(await runHeat(['db_sync'], { url }));
      await ctx.converged(db);
      return line;
    },
  };
  return ctx;
}

describe('fault matrix: a TLS-enabled MariaDB on IPv4 and IPv6 (private server)', { skip: spareSkip('mariadb'), concurrency: 1, timeout: TIMEOUT }, () => {
  const dir = join(root, 'mariadb-certs');
  mkdirSync(dir);
  const certs: Certificates = makeCertificates(dir);
  const spare = onSpare('mariadb', () => ({
    bindAddress: '127.0.0.1,::1',
    extraArgs: [`--ssl-ca=${certs.ca}`, `--ssl-cert=${certs.cert}`, `--ssl-key=${certs.key}`],
  }));
  const { newDb, converged } = spare;
  const tlsUser = async (db: string, require: 'SSL' | 'X509'): Promise<string> => {
    const user = uniqueUser();
    await spare.server.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}' REQUIRE ${require}`);
    await spare.server.query(`GRANT ALL ON ${db}.* TO '${user}'@'%'`);
    return user;
  };
  const tables = async (db: string) => (await spare.server.query('SHOW TABLES', [], db)).length;

  test('T1 a REQUIRE SSL user with ?ssl_ca=CA (kolla/openstack-helm): works over TLS, exact schema', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}?ssl_ca=${certs.ca}` });
    assertOk(r);
    await converged(db);
  });

  test('T2 a REQUIRE X509 user with ssl_ca + ssl_cert + ssl_key (client certificate): works', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'X509');
    const q = `ssl_ca=${certs.ca}&ssl_cert=${certs.clientCert}&ssl_key=${certs.clientKey}`;
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://${user}:${PASSWORD}@localhost:${spare.server.port}/${db}?${q}` });
    assertOk(r);
    await converged(db);
  });

  test('T2b the management commands connect as db_sync does: a REQUIRE SSL user with ?ssl_ca=CA lists the services over TLS', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const url = `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}?ssl_ca=${certs.ca}`;
    assertOk(await runHeat(['db_sync'], { url }));
    const r = await runHeat(['service', 'list'], { url });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /^Hostname +Binary +Engine_Id/, 'connected (the user may connect over TLS only)');
  });

  test('T3 ssl_ca of a CA that did not sign the server certificate: exit 1 at once (not retried), one line, nothing created', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}?ssl_ca=${certs.otherCa}` });
    errorLine(r, /^ERROR: cannot connect to mysql\+pymysql:\/\/\S+:\*\*\*@.*(certificate|self.signed|verify)/i);
    assert.ok(!/retrying/.test(r.stderr), 'not retried');
    assert.equal(await tables(db), 0);
  });

  test('T4 ssl_ca naming a file that is not there (a cert mount missing): exit 1, names the file, nothing created', async () => {
    const db = await newDb();
    const missing = join(root, 'no-such-ca.pem');
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://root@127.0.0.1:${spare.server.port}/${db}?ssl_ca=${missing}` });
    errorLine(r, missing);
    assert.equal(await tables(db), 0);
  });

  test('T5 a REQUIRE SSL user without TLS parameters: exit 1 at once, access denied, nothing created', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}` });
    errorLine(r, /Access denied/);
    assert.equal(await tables(db), 0);
  });

  test("T8 ssl_verify_cert (openstack-helm's &ssl_verify_cert, PyMySQL's parameter) is honoured, not dropped", async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const base = `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}`;
    // On by itself: TLS, and the certificate checked against the system's CAs (the test CA is not one).
    errorLine(await runHeat(['db_sync'], { url: `${base}?ssl_verify_cert=true` }), /certificate|self.signed|verify/i);
    // A bare &ssl_verify_cert with the CA: checked, and it is the right CA.
    assertOk(await runHeat(['db_sync'], { url: `${base}?charset=utf8&ssl_ca=${certs.ca}&ssl_verify_cert` }));
    await converged(db);
    // =false: TLS without the check (the wrong CA is not held against the server).
    assertOk(await runHeat(['db_version'], { url: `${base}?ssl_ca=${certs.otherCa}&ssl_verify_cert=false` }));
  });

  // MySQL option files in the URL (TripleO: ?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo)
  let cnfN = 0;
  const cnf = (text: string, name = `opt${++cnfN}.cnf`): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const tripleo = (user: string, db: string, file: string, extra = '') =>
    `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:${spare.server.port}/${db}?read_default_file=${file}&read_default_group=tripleo${extra}`;

  test("O1 TripleO's read_default_file carrying the CA: a REQUIRE SSL user gets in over TLS (db_sync and service list)", async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const file = cnf(`[client]\n# TLS only in the group below\n[tripleo]\nbind-address=127.0.0.1\nssl=1\nssl-ca=${certs.ca}\n`);
    const r = await runHeat(['db_sync'], { url: tripleo(user, db, file) });
    assertOk(r);
    assert.ok(!/ignoring unknown URL parameter/.test(r.stderr), describeRun(r));
    await converged(db);
    const s = await runHeat(['service', 'list'], { url: tripleo(user, db, file) });
    assert.equal(s.code, 0, describeRun(s));
    assert.match(s.stdout, /^Hostname +Binary +Engine_Id/, 'the management commands (TypeORM) read the option file too');
  });

  test('O2 the URL wins over the option file, key by key: URL ssl_ca and password over the file\'s wrong ones', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const file = cnf(`[tripleo]\nuser=nobody\npassword=wrong-password\nport=1\nssl-ca=${certs.otherCa}\n`);
    // The file alone: its CA did not sign the server certificate (so it is read).
    errorLine(await runHeat(['db_sync'], { url: tripleo(user, db, file) }), /certificate|self.signed|verify/i);
    assert.equal(await tables(db), 0);
    // The URL's ssl_ca, user, password and port win.
    assertOk(await runHeat(['db_sync'], { url: tripleo(user, db, file, `&ssl_ca=${certs.ca}`) }));
    await converged(db);
  });

  test('O3 user, password and port only in the option file, TLS and port through !include / !includedir; the password never printed', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    mkdirSync(join(dir, 'my.cnf.d'), { recursive: true });
    cnf(`[client]\nport=${spare.server.port}\n`, 'my.cnf.d/port.cnf');
    cnf(`[tripleo]\nssl-ca=${certs.ca}\n`, 'tls.cnf');
    cnf(`[tripleo]\nssl-ca=${certs.otherCa}\n`, 'tls-other.cnf');
    const main = cnf(`[client]\nuser=${user}\npassword="${PASSWORD}"\n!include tls.cnf\n!includedir ${join(dir, 'my.cnf.d')}\n`);
    const url = `mysql+pymysql://127.0.0.1/${db}?read_default_file=${main}&read_default_group=tripleo`;
    assertOk(await runHeat(['db_sync'], { url }));
    await converged(db);
    const bad = cnf(`[client]\nuser=${user}\npassword=${PASSWORD}\nport=${spare.server.port}\n!include tls-other.cnf\n`);
    const r = await runHeat(['service', 'list'], { url: `mysql+pymysql://127.0.0.1/${db}?read_default_file=${bad}&read_default_group=tripleo` });
    errorLine(r, /certificate|self.signed|verify/i);
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD), 'the password of the option file is never printed');
  });

  test('O4 a read_default_file that is not there (a config mount missing): exit 1 at once, names the file, nothing created; also the management commands', async () => {
    const db = await newDb();
    const user = await tlsUser(db, 'SSL');
    const missing = join(root, 'no-such-dir', 'tripleo.cnf');
    const r = await runHeat(['db_sync'], { url: tripleo(user, db, missing) });
    const line = errorLine(r, `cannot read ${missing}: no such file`);
    assert.ok(line.includes('read_default_file') && !line.includes(PASSWORD), line);
    assert.ok(!/retrying/.test(r.stderr), 'not retried');
    assert.equal(await tables(db), 0);
    errorLine(await runHeat(['service', 'list'], { url: tripleo(user, db, missing) }), `cannot read ${missing}: no such file`);
  });

  test('I1 an IPv6 literal host (mysql+pymysql://root@[::1]:PORT/heat): works', async () => {
    const db = await newDb();
    const r = await runHeat(['db_sync'], { url: `mysql+pymysql://root@[::1]:${spare.server.port}/${db}?charset=utf8` });
    assertOk(r);
    await converged(db);
  });

  test('R1 the server restarted mid-run: exit 1 "lost the connection"; the re-run converges, each step once', async () => {
    await spare.restartMidRun();
  });
});

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL with TLS on IPv4 and IPv6; restarted mid-run

describe('fault matrix: a TLS-enabled PostgreSQL on IPv4 and IPv6 (private server)', { skip: spareSkip('postgresql'), concurrency: 1, timeout: TIMEOUT }, () => {
  const dir = join(root, 'pg-certs');
  mkdirSync(dir);
  const certs: Certificates = makeCertificates(dir);
  const pgUser = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))?.split(':');
  if (asRoot && pgUser) {
    // PostgreSQL runs as postgres and wants its key private.
    chmodSync(dir, 0o755);
    chownSync(certs.key, Number(pgUser[2]), Number(pgUser[3]));
    chmodSync(certs.key, 0o600);
    for (const f of [certs.cert, certs.ca]) chmodSync(f, 0o644);
  }
  const spare = onSpare('postgresql', () => ({
    bindAddress: '127.0.0.1,::1',
    extraArgs: ['-c', 'ssl=on', '-c', `ssl_cert_file=${certs.cert}`, '-c', `ssl_key_file=${certs.key}`],
  }));
  const { newDb, converged } = spare;

  test('T6 sslmode=verify-full with sslrootcert=CA: works over TLS, exact schema', async () => {
    const db = await newDb();
    const r = await runHeat(['db_sync'], { url: `postgresql+psycopg2://postgres@localhost:${spare.server.port}/${db}?sslmode=verify-full&sslrootcert=${certs.ca}` });
    assertOk(r);
    await converged(db);
  });

  test('T7 sslmode=verify-ca with the wrong CA: exit 1 at once, one line, nothing created', async () => {
    const db = await newDb();
    const r = await runHeat(['db_sync'], { url: `postgresql://postgres@127.0.0.1:${spare.server.port}/${db}?sslmode=verify-ca&sslrootcert=${certs.otherCa}` });
    errorLine(r, /^ERROR: cannot connect to postgresql:.*(certificate|self.signed|verify)/i);
    const rows = await spare.server.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'", [], db);
    assert.equal(Number(rows[0]!.n), 0);
  });

  test('I2 an IPv6 literal host (postgresql://postgres@[::1]:PORT/heat): works', async () => {
    const db = await newDb();
    const r = await runHeat(['db_sync'], { url: `postgresql://postgres@[::1]:${spare.server.port}/${db}` });
    assertOk(r);
    await converged(db);
  });

  test('R2 the server restarted mid-run: exit 1 "lost the connection"; the step rolled back; the re-run converges', async () => {
    await spare.restartMidRun();
  });
});


