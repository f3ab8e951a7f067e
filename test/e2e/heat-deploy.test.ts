/**
 * The deployment files, without a Docker engine:
 *  - deploy/entrypoint.sh runs with the built CLI on PATH (a temp bin dir holding a `heat-manage`
 *    wrapper) against SQLite, MariaDB and PostgreSQL databases: db_sync, then `exec` of the
 *    command (same pid), or the failure's exit code and no command;
 *  - deploy/Dockerfile is replayed by deploy/dockerfile-as-script.sh (its RUN/COPY steps as a
 *    shell script, the repository as build context) and the resulting image tree runs its default
 *    command through its entrypoint, as the image's non-root user when the tests run as root.
 *    About 20 s on an idle machine (90 s seen under load, mostly tsc); HEAT_DOCKERFILE_TEST=0 skips it;
 *  - deploy/k8s/heat-db-sync-job.yaml parses and says what deploy/README.md promises;
 *  - the CronJobs deploy/k8s/heat-{purge-deleted,engine-cleaner}-cronjob.yaml parse (Forbid,
 *    their schedules, the pod hardening) and their `command:` runs, with the Job's Secret heat.conf
 *    pointed at a real database, and does what it says (old deleted stacks purged, dead engines
 *    cleaned), logging oslo.log lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { OSLO_LINE, logLines } from '../support/heat-cli.js';
import { makeHeat71, stackRow } from '../support/heat71.js';
import { recordOutput } from '../support/secrets.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'bin', 'heat-manage.js');
const ENTRYPOINT = join(ROOT, 'deploy', 'entrypoint.sh');
const AS_SCRIPT = join(ROOT, 'deploy', 'dockerfile-as-script.sh');
const JOB_YAML = join(ROOT, 'deploy', 'k8s', 'heat-db-sync-job.yaml');
const PURGE_YAML = join(ROOT, 'deploy', 'k8s', 'heat-purge-deleted-cronjob.yaml');
const CLEANER_YAML = join(ROOT, 'deploy', 'k8s', 'heat-engine-cleaner-cronjob.yaml');
const LATEST = 71;
const HEAT_UID = 42418;

// Removed when the process exits (a root-level after() hook can run before filtered suites end).
const scratch = mkdtempSync(join(tmpdir(), 'heat-deploy-e2e-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
/** The built CLI on PATH: a `heat-manage` wrapper script, as an installed package would have. */
const binDir = join(scratch, 'bin');
mkdirSync(binDir);
writeFileSync(join(binDir, 'heat-manage'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
chmodSync(join(binDir, 'heat-manage'), 0o755);

function tempDir(): string {
  return mkdtempSync(join(scratch, 'd-'));
}

interface Run {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

interface Spawned {
  readonly pid: number;
  readonly done: Promise<Run>;
  /** Resolves once stdout (or stderr) has contained `text`. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

interface SpawnOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** PATH entries in front of the system PATH (default: the wrapper's bin dir). */
  readonly path?: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
}

function start(command: string, args: readonly string[], o: SpawnOptions = {}): Spawned {
  const t0 = performance.now();
  const path = [...(o.path ?? [binDir]), process.env.PATH ?? '/usr/bin:/bin'].join(':');
  const child = spawn(command, args, {
    cwd: o.cwd ?? scratch,
    env: { PATH: path, HOME: scratch, LANG: 'C.UTF-8', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: o.uid,
    gid: o.gid,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: { text: string; stream: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (Buffer.concat(w.stream === 'stdout' ? out : err).toString('utf8').includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => (out.push(d), check()));
  child.stderr.on('data', (d: Buffer) => (err.push(d), check()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      recordOutput(stdout, stderr);
      resolve({ pid: child.pid!, code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
  return {
    pid: child.pid!,
    done,
    waitFor: (text, stream = 'stdout') =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ text, stream, resolve });
        check();
        void done.then((r) => reject(new Error(`exited before printing ${JSON.stringify(text)}\n${show(r)}`)), reject);
      }),
    kill: (signal) => child.kill(signal),
  };
}

/** Runs deploy/entrypoint.sh with /bin/sh (dash here: POSIX sh, no bashisms). */
function entrypoint(args: readonly string[], o: SpawnOptions = {}): Spawned {
  return start('/bin/sh', [ENTRYPOINT, ...args], o);
}

function show(r: Run): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${Math.round(r.ms)} ms\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

async function heatVersion(db: TestDatabase): Promise<number | undefined> {
  if (db.file && !existsSync(db.file)) return undefined;
  const rows = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'").catch(() => []);
  return rows.length ? Number(rows[0]!.version) : undefined;
}

async function withDatabase(dialect: TestDialect, fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(dialect);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

function writeConf(dir: string, text: string): string {
  const p = join(dir, 'heat.conf');
  writeFileSync(p, text);
  chmodSync(p, 0o600);
  return p;
}

const STARTED = "echo started $$; echo \"args: $*\"";

// =============================================================================================

describe('deploy/entrypoint.sh', { concurrency: 4, timeout: 120_000 }, () => {
  test('is POSIX sh (dash parses it) and executable', () => {
    const r = spawnSync('/bin/sh', ['-n', ENTRYPOINT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    accessSync(ENTRYPOINT, constants.X_OK);
    assert.match(readFileSync(ENTRYPOINT, 'utf8'), /^#!\/bin\/sh\n/);
  });

  for (const dialect of ALL_DIALECTS) {
    test(`${dialect}: db_sync to 71, then exec of the command in the same process (same pid)`, async (t) => {
      const skip = await skipUnlessReachable(dialect);
      if (skip.skip) return t.skip(skip.skip);
      await withDatabase(dialect, async (db) => {
        const dir = tempDir();
        // kolla / openstack-helm style: the config file named in HEAT_MANAGE_ARGS
        const conf = writeConf(dir, `[database]\nconnection = ${db.url}\n`);
        const env = { HEAT_MANAGE_ARGS: `--config-file ${conf}` };
        const r = await entrypoint(['sh', '-c', STARTED, 'sh', 'one', 'two words'], { env, cwd: dir }).done;
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, `started ${r.pid}\nargs: one two words\n`, 'the command replaced the entrypoint: same pid, args intact');
        assert.equal(await heatVersion(db), LATEST);
        // An empty database gets 71 in one step from the catalog (migrate/fresh.ts).
        assert.match(r.stderr, /027 -> 071 \(schema\/\w+\/071\) \.\.\. done in \d+ ms/, 'heat-manage logs reach stderr');
        assert.match(r.stderr, /^heat-entrypoint: running heat-manage --config-file \S+ db_sync$/m);

        // Again: nothing to do, the command still starts.
        const again = await entrypoint(['sh', '-c', STARTED], { env, cwd: dir }).done;
        assert.equal(again.code, 0, show(again));
        assert.equal(again.stdout, `started ${again.pid}\nargs: \n`);
      });
    });
  }

  for (const dialect of ['mysql', 'postgresql', 'sqlite'] as const) {
    test(`${dialect}: three replicas start at once: the schema installed once, all three exec their command`, async (t) => {
      const skip = await skipUnlessReachable(dialect);
      if (skip.skip) return t.skip(skip.skip);
      await withDatabase(dialect, async (db) => {
        const dir = tempDir();
        const env = { OS_DATABASE__CONNECTION: db.url };
        const runs = await Promise.all([1, 2, 3].map(() => entrypoint(['sh', '-c', STARTED], { env, cwd: dir }).done));
        for (const r of runs) {
          assert.equal(r.code, 0, show(r));
          assert.equal(r.stdout, `started ${r.pid}\nargs: \n`);
        }
        const done = runs.flatMap((r) =>
          logLines(r.stderr)
            .map((l) => /^(\d{3}) -> (\d{3}) \(/.exec(l.msg))
            .filter((m) => m !== null)
            .map((m) => `${m[1]}->${m[2]}`),
        );
        assert.deepEqual(done, ['027->071'], 'one fresh install in all (an empty database gets 71 in one step), not per replica');
        assert.equal(new Set(done).size, done.length, 'no step twice');
        assert.equal(await heatVersion(db), LATEST);
      });
    });
  }

  test('db_sync fails (tables but no version control, MariaDB): exit 1, the command never starts', async (t) => {
    const skip = await skipUnlessReachable('mysql');
    if (skip.skip) return t.skip(skip.skip);
    await withDatabase('mysql', async (db) => {
      await db.query('CREATE TABLE stack (id INTEGER PRIMARY KEY)');
      const dir = tempDir();
      const marker = join(dir, 'started');
      const r = await entrypoint(['sh', '-c', `touch '${marker}'; echo started`], {
        env: { OS_DATABASE__CONNECTION: db.url },
        cwd: dir,
      }).done;
      assert.equal(r.code, 1, show(r));
      assert.equal(r.stdout, '', show(r));
      assert.ok(!existsSync(marker), 'the command did not run');
      assert.match(r.stderr, /^ERROR: The database is not under version control, but has tables\./m);
      assert.match(r.stderr, /^heat-entrypoint: heat-manage db_sync failed \(exit 1\); not starting sh$/m);
      assert.equal(await heatVersion(db), undefined);
    });
  });

  test("db_sync fails on SQLite (unsupported URL): heat-manage's exit code, no exec", async () => {
    const dir = tempDir();
    const marker = join(dir, 'started');
    const r = await entrypoint(['touch', marker], { env: { OS_DATABASE__CONNECTION: 'oracle://heat@db/heat' }, cwd: dir }).done;
    assert.equal(r.code, 1, show(r));
    assert.ok(!existsSync(marker));
  });

  test('a usage error of heat-manage (HEAT_DB_SYNC_VERSION=abc): exit 2, no exec', async () => {
    const dir = tempDir();
    const marker = join(dir, 'started');
    const r = await entrypoint(['touch', marker], {
      env: { OS_DATABASE__CONNECTION: `sqlite:///${dir}/heat.sqlite`, HEAT_DB_SYNC_VERSION: 'abc' },
      cwd: dir,
    }).done;
    assert.equal(r.code, 2, show(r));
    assert.ok(!existsSync(marker));
    assert.ok(!existsSync(join(dir, 'heat.sqlite')));
  });

  test('HEAT_DB_SYNC_VERSION=50 stops there', async () => {
    const dir = tempDir();
    const db = join(dir, 'heat.sqlite');
    const r = await entrypoint(['heat-manage', 'db_version'], {
      env: { OS_DATABASE__CONNECTION: `sqlite:///${db}`, HEAT_DB_SYNC_VERSION: '50' },
      cwd: dir,
    }).done;
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '50\n');
  });

  test('HEAT_DB_SYNC=false skips db_sync (database untouched) and execs; a bad HEAT_DB_SYNC is exit 2', async () => {
    const dir = tempDir();
    const env = { OS_DATABASE__CONNECTION: `sqlite:///${dir}/heat.sqlite` };
    const r = await entrypoint(['sh', '-c', STARTED], { env: { ...env, HEAT_DB_SYNC: 'false' }, cwd: dir }).done;
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `started ${r.pid}\nargs: \n`);
    assert.ok(!existsSync(join(dir, 'heat.sqlite')), 'db_sync did not run');
    assert.match(r.stderr, /skipping heat-manage db_sync/);

    const bad = await entrypoint(['sh', '-c', STARTED], { env: { ...env, HEAT_DB_SYNC: 'maybe' }, cwd: dir }).done;
    assert.equal(bad.code, 2, show(bad));
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /HEAT_DB_SYNC/);
  });

  test('no command: db_sync, then exit 0', async () => {
    const dir = tempDir();
    const r = await entrypoint([], { env: { OS_DATABASE__CONNECTION: `sqlite:///${dir}/heat.sqlite` }, cwd: dir }).done;
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '');
    assert.ok(existsSync(join(dir, 'heat.sqlite')));
  });

  test('SIGTERM while db_sync waits for the database reaches heat-manage: the entrypoint ends at once, no exec', async () => {
    const dir = tempDir();
    const marker = join(dir, 'started');
    // A closed port and max_retries = -1: heat-manage retries forever, every second.
    const conf = writeConf(dir, '[database]\nconnection = mysql://heat@127.0.0.1:1/heat\nmax_retries = -1\nretry_interval = 1\n');
    const p = entrypoint(['touch', marker], { env: { HEAT_MANAGE_ARGS: `--config-file ${conf}` }, cwd: dir });
    await p.waitFor('retrying', 'stderr');
    const t0 = performance.now();
    p.kill('SIGTERM');
    const r = await p.done;
    assert.ok(performance.now() - t0 < 5000, `ended within 5 s of SIGTERM\n${show(r)}`);
    assert.ok(r.code === 143 || r.signal === 'SIGTERM', `ended by SIGTERM (exit 143)\n${show(r)}`);
    assert.ok(!existsSync(marker), 'the command did not start');
    // heat-manage is gone too (no orphan still retrying)
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    assert.ok(!ps.split('\n').some((l) => l.includes(conf)), 'heat-manage ended with the entrypoint');
  });

  test('after exec, signals go to the command itself', async () => {
    const dir = tempDir();
    const script = 'trap "echo got TERM; exit 7" TERM; echo ready $$; while :; do sleep 0.1; done';
    const p = entrypoint(['sh', '-c', script], { env: { OS_DATABASE__CONNECTION: `sqlite:///${dir}/heat.sqlite` }, cwd: dir });
    await p.waitFor('ready');
    p.kill('SIGTERM');
    const r = await p.done;
    assert.equal(r.stdout, `ready ${r.pid}\ngot TERM\n`, show(r));
    assert.equal(r.code, 7, show(r));
  });
});

// =============================================================================================

function dockerfileSkip(): string | undefined {
  if (process.env.HEAT_DOCKERFILE_TEST === '0') return 'HEAT_DOCKERFILE_TEST=0';
  if (!existsSync(join(ROOT, 'node_modules'))) return 'no node_modules in the repository to replay `npm ci` from';
  return undefined;
}

describe('deploy/Dockerfile replayed by deploy/dockerfile-as-script.sh', { skip: dockerfileSkip(), timeout: 300_000 }, () => {
  let out: string;
  let image: string;
  let build: Run;
  let conf: Record<string, string>;

  before(async () => {
    out = tempDir();
    chmodSync(out, 0o755); // the image's user (uid 42418) must reach the tree
    chmodSync(scratch, 0o755);
    build = await start('/bin/sh', [AS_SCRIPT, '-o', out], { path: [] }).done;
    image = build.stdout.trim().split('\n').pop() ?? '';
    conf = {};
    const confFile = join(out, 'image.conf');
    if (existsSync(confFile)) {
      for (const line of readFileSync(confFile, 'utf8').split('\n')) {
        const m = /^(\w+)=(.*)$/.exec(line);
        if (m) conf[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
      }
    }
  });

  test('every step runs', (t) => {
    t.diagnostic(`Dockerfile replayed in ${Math.round(build.ms / 1000)} s`);
    assert.equal(build.code, 0, show(build));
    assert.equal(image, join(out, 'stages', 'runtime'));
    assert.ok(existsSync(image));
    assert.match(build.stderr, /npm ci --omit=dev: replayed/);
    assert.match(build.stderr, /skipped, syntax checked: system user/);
  });

  test('the build context leaves out node_modules, dist, tests and local files, keeps what the build copies', () => {
    const ctx = join(out, 'context');
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'bin', 'migrate', 'heat', 'migrate_repo', 'scripts', 'deploy/entrypoint.sh']) {
      assert.ok(existsSync(join(ctx, p)), `${p} in the context`);
    }
    for (const p of ['node_modules', 'dist', '.git', 'test', 'bench', 'deploy/README.md', 'deploy/Dockerfile']) {
      assert.ok(!existsSync(join(ctx, p)), `${p} not in the context`);
    }
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const local = walk(ctx).filter((f) => /\.(sqlite|log|conf)$/.test(f));
    assert.deepEqual(local, [], 'no databases, logs or config files');
  });

  test('the image: non-root USER, ENTRYPOINT the entrypoint script, only runtime files', () => {
    assert.equal(build.code, 0, 'the build ran');
    const [user, group] = (conf.USER ?? '').split(':');
    assert.equal(Number(user), HEAT_UID, `USER is kolla's heat uid (${conf.USER})`);
    assert.equal(Number(group), HEAT_UID);
    assert.equal(conf.ENTRYPOINT, '["/opt/heat/bin/heat-entrypoint"]');
    const ep = join(image, 'opt/heat/bin/heat-entrypoint');
    accessSync(ep, constants.X_OK);
    assert.equal(readFileSync(ep, 'utf8'), readFileSync(ENTRYPOINT, 'utf8'), 'the entrypoint is deploy/entrypoint.sh');
    assert.ok(lstatSync(join(image, 'opt/heat/bin/heat-manage')).isSymbolicLink());
    assert.equal(realpathSync(join(image, 'opt/heat/bin/heat-manage')), join(image, 'opt/heat/dist/bin/heat-manage.js'));
    accessSync(join(image, 'opt/heat/dist/bin/heat-manage.js'), constants.X_OK);
    assert.ok(existsSync(join(image, 'opt/heat/dist/migrate_repo/migrate.cfg')));
    assert.ok(existsSync(join(image, 'opt/heat/package.json')));
    const nm = join(image, 'opt/heat/node_modules');
    assert.ok(existsSync(join(nm, 'better-sqlite3/build/Release/better_sqlite3.node')), 'native SQLite binding built');
    for (const dep of ['mysql2', 'pg', 'typeorm', 'pino']) assert.ok(existsSync(join(nm, dep)), `${dep} present`);
    // Development-only packages are gone (@types/node stays: mysql2 depends on it at runtime).
    for (const dev of ['typescript', '@types/better-sqlite3', '@types/pg', '@types/config']) {
      assert.ok(!existsSync(join(nm, dev)), `${dev} (devDependency) not in the image`);
    }
    for (const p of ['opt/heat/src', 'opt/heat/dist/test', 'opt/heat/dist/bench', 'opt/heat/heat', 'opt/heat/migrate', 'opt/heat/tsconfig.json']) {
      assert.ok(!existsSync(join(image, p)), `${p}: no sources or tests in the image`);
    }
  });

  test('the default command through the entrypoint, as uid 42418: db_sync, then `heat-manage db_version` prints 71', async () => {
    assert.equal(build.code, 0, 'the build ran');
    assert.equal(conf.CMD, '["heat-manage", "db_version"]');
    const work = tempDir();
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chmodSync(work, 0o755);
      chownSync(work, HEAT_UID, HEAT_UID);
      // the temp dirs above it must be traversable by the image's user
      for (let d = work; d.startsWith(scratch) && d !== tmpdir(); d = join(d, '..')) chmodSync(d, 0o755);
    }
    const env = { OS_DATABASE__CONNECTION: `sqlite:///${work}/heat.sqlite`, NODE_ENV: 'production' };
    const r = await start(join(image, 'opt/heat/bin/heat-entrypoint'), ['heat-manage', 'db_version'], {
      path: [join(image, 'opt/heat/bin')],
      env,
      cwd: work,
      ...(asRoot ? { uid: HEAT_UID, gid: HEAT_UID } : {}),
    }).done;
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `${LATEST}\n`);
    const v = await start(join(image, 'opt/heat/bin/heat-manage'), ['--version'], { path: [] }).done;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(v.stdout.trim(), pkg.version, show(v));
  });

  test("/usr/bin/heat-manage: what Puppet's exec path, cron's PATH and the heat-operator call", async () => {
    assert.equal(build.code, 0, 'the build ran');
    const link = join(image, 'usr/bin/heat-manage');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.ok(!readlinkSync(link).startsWith('/'), 'a relative link: the same in the image and in this tree');
    assert.equal(realpathSync(link), join(image, 'opt/heat/dist/bin/heat-manage.js'));
    // puppet-heat's cron line, with cron's PATH (the image's /usr/bin in place of the system's)
    const work = tempDir();
    const log = join(work, 'heat-purge_deleted.log');
    const cronPath = ['/bin', '/usr/bin', '/usr/sbin'].map((d) => join(image, d)).join(':');
    const r = await start('/bin/sh', ['-c', `heat-manage db_version >>${log} 2>&1`], {
      path: [],
      env: { PATH: `${cronPath}:${dirname(process.execPath)}`, OS_DATABASE__CONNECTION: `sqlite:///${work}/heat.sqlite` },
      cwd: work,
    }).done;
    assert.equal(r.code, 0, show(r) + readFileSync(log, 'utf8'));
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.pop(), '27', 'db_version of an empty database stamped at 27');
    for (const l of lines) assert.match(l, OSLO_LINE);
  });

  after(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });
});

// =============================================================================================

/** The documents of a YAML file, parsed by PyYAML; undefined (test skipped) without it, outside CI. */
function yamlDocs(t: { skip(m: string): void }, file: string): Record<string, any>[] | undefined {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', file], {
    encoding: 'utf8',
  });
  if (r.error || (r.status !== 0 && /No module named/.test(r.stderr))) {
    // Under CI a missing parser is a broken runner (.ci/run installs python3-yaml), not a skip.
    assert.notEqual(process.env.CI, 'true', `python3 with PyYAML is needed to parse YAML (Debian: apt-get install python3-yaml): ${r.error?.message ?? r.stderr}`);
    t.skip('python3 with PyYAML is needed to parse YAML');
    return undefined;
  }
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, any>[];
}

describe('deploy/k8s/heat-db-sync-job.yaml', () => {
  test('a Secret with heat.conf and a Job that runs the image as the heat user, read-only', (t) => {
    const docs = yamlDocs(t, JOB_YAML);
    if (!docs) return;
    const secret = docs.find((d) => d.kind === 'Secret');
    const job = docs.find((d) => d.kind === 'Job');
    assert.ok(secret && job, 'a Secret and a Job');
    assert.equal(job.apiVersion, 'batch/v1');
    assert.match(secret.stringData['heat.conf'], /^\[database\]\nconnection = mysql\+pymysql:\/\//);
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, HEAT_UID);
    const [c] = pod.containers;
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.command, undefined, 'the image ENTRYPOINT (db_sync, then exec) is kept');
    assert.deepEqual(c.args, ['heat-manage', '--config-file', '/etc/heat/heat.conf', 'db_version']);
    const env = Object.fromEntries((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.HEAT_MANAGE_ARGS, '--config-file /etc/heat/heat.conf');
    const mount = c.volumeMounts.find((m: any) => m.mountPath === '/etc/heat');
    const vol = pod.volumes.find((v: any) => v.name === mount.name);
    assert.equal(vol.secret.secretName, secret.metadata.name);
    assert.equal(vol.secret.defaultMode & 0o004, 0, 'heat.conf not readable by others');
  });
});

// =============================================================================================

const reachable = new Map(await Promise.all(ALL_DIALECTS.map(async (d) => [d, await skipUnlessReachable(d)] as const)));

describe('deploy/k8s CronJobs: purge_deleted daily, service clean every 5 minutes', () => {
  const NOW = '2020-06-01 12:00:00';

  function cronJob(t: { skip(m: string): void }, file: string) {
    const docs = yamlDocs(t, file);
    if (!docs) return undefined;
    assert.equal(docs.length, 1);
    const cj = docs[0]!;
    assert.equal(cj.apiVersion, 'batch/v1');
    assert.equal(cj.kind, 'CronJob');
    assert.equal(cj.spec.concurrencyPolicy, 'Forbid', 'a run still going is never joined by the next');
    const pod = cj.spec.jobTemplate.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, HEAT_UID);
    assert.equal(pod.automountServiceAccountToken, false);
    const [c] = pod.containers;
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    const mount = c.volumeMounts.find((m: any) => m.mountPath === '/etc/heat');
    const vol = pod.volumes.find((v: any) => v.name === mount.name);
    assert.equal(vol.secret.secretName, 'heat-etc', "the db-sync Job's Secret");
    assert.equal(vol.secret.defaultMode & 0o004, 0);
    // the image's /usr/bin/heat-manage, directly: no entrypoint, so no db_sync from a cron job
    assert.equal(c.command[0], '/usr/bin/heat-manage');
    assert.equal(c.args, undefined);
    return { cj, command: c.command as string[] };
  }

  /** The Job file's Secret heat.conf, its connection pointed at `url`, written mode 0600. */
  function secretConf(t: { skip(m: string): void }, url: string): string | undefined {
    const docs = yamlDocs(t, JOB_YAML);
    if (!docs) return undefined;
    const text = docs.find((d) => d.kind === 'Secret')!.stringData['heat.conf'] as string;
    assert.match(text, /^connection = /m);
    const p = join(tempDir(), 'heat.conf');
    writeFileSync(p, text.replace(/^connection = .*$/m, `connection = ${url}`), { mode: 0o600 });
    return p;
  }

  /** The manifest's command, /usr/bin/heat-manage being the built CLI and /etc/heat/heat.conf `conf`. */
  function runCommand(command: readonly string[], conf: string): Promise<Run> {
    assert.equal(command[0], '/usr/bin/heat-manage');
    const args = command.slice(1).map((a) => (a === '/etc/heat/heat.conf' ? conf : a));
    return start(join(binDir, 'heat-manage'), args, { env: { HEAT_MANAGE_NOW: NOW }, cwd: tempDir() }).done;
  }

  test('heat-purge-deleted-cronjob.yaml: daily, `purge_deleted -g minutes 60` as openstack-helm', (t) => {
    const j = cronJob(t, PURGE_YAML);
    if (!j) return;
    assert.equal(j.cj.spec.schedule, '20 */24 * * *');
    assert.deepEqual(j.command, ['/usr/bin/heat-manage', '--config-file', '/etc/heat/heat.conf', 'purge_deleted', '-g', 'minutes', '60']);
  });

  test('heat-engine-cleaner-cronjob.yaml: every 5 minutes, `service clean`', (t) => {
    const j = cronJob(t, CLEANER_YAML);
    if (!j) return;
    assert.equal(j.cj.spec.schedule, '*/5 * * * *');
    assert.deepEqual(j.command, ['/usr/bin/heat-manage', '--config-file', '/etc/heat/heat.conf', 'service', 'clean']);
  });

  for (const dialect of ALL_DIALECTS) {
    test(`${dialect}: both commands run on a Heat database and do their work, logging oslo lines`, { ...reachable.get(dialect), timeout: 180_000 }, async (t) => {
      const purge = cronJob(t, PURGE_YAML);
      const cleaner = cronJob(t, CLEANER_YAML);
      if (!purge || !cleaner) return;
      const h = await makeHeat71(dialect);
      try {
        const conf = secretConf(t, h.url)!;
        for (const id of [1, 2, 3]) await h.insert('raw_template', { id, template: '{}', environment: '{}', files: '{}' });
        await h.insert('stack', stackRow({ id: 'live', raw_template_id: 1 }));
        await h.insert('stack', stackRow({ id: 'old', raw_template_id: 2, deleted_at: h.ts('2020-06-01 10:58:59') })); // 61 min: purged
        await h.insert('stack', stackRow({ id: 'recent', raw_template_id: 3, deleted_at: h.ts('2020-06-01 11:01:00') })); // 59 min: kept
        const svc = (id: string, updated: string) =>
          h.insert('service', { id, engine_id: `e-${id}`, host: id, hostname: id, binary: 'heat-engine', topic: 'engine', report_interval: 60, created_at: h.ts('2020-01-01 00:00:00'), updated_at: h.ts(updated) });
        await svc('dead', '2020-06-01 11:50:00');
        await svc('alive', '2020-06-01 11:59:30');

        const p = await runCommand(purge.command, conf);
        assert.equal(p.code, 0, show(p));
        const stacks = (await h.db.query(`SELECT id FROM ${h.q('stack')} ORDER BY id`)).map((r) => r.id);
        assert.deepEqual(stacks, ['live', 'recent']);
        for (const l of p.stderr.split('\n').filter(Boolean)) assert.match(l, OSLO_LINE, show(p));

        const c = await runCommand(cleaner.command, conf);
        assert.equal(c.code, 0, show(c));
        assert.equal(c.stdout, 'Dead engines are removed.\n');
        const deleted = (await h.db.query(`SELECT id FROM ${h.q('service')} WHERE deleted_at IS NOT NULL ORDER BY id`)).map((r) => r.id);
        assert.deepEqual(deleted, ['dead']);
        assert.ok(c.stderr.split('\n').some((l) => OSLO_LINE.test(l) && / INFO heat\.db\.service \[-\] removed dead engine e-dead/.test(l)), show(c));
      } finally {
        await h.db.drop();
      }
    });
  }
});
