/**
 * A private MariaDB or PostgreSQL server on a spare loopback port, owned by one test: started late
 * ("the database is not up yet"), restarted or crashed in the middle of a run, without touching the
 * machine's shared servers.
 *
 *   const s = await createSpareServer('mariadb');   // data directory initialised, server NOT running
 *   await s.start();                                // returns once it accepts connections
 *   s.url('heat')                                   // mysql+pymysql://root@127.0.0.1:<port>/heat
 *   await s.query('CREATE DATABASE heat');
 *   await s.restart();  await s.crash();            // graceful stop+start / SIGKILL (MariaDB only)
 *   await s.destroy();                              // ALWAYS, in a finally/after hook: stops, deletes
 *
 * Measured here (MariaDB 10.11, PostgreSQL 15, 2 cores): MariaDB initialises in ~1.6 s and starts in
 * ~0.35 s; PostgreSQL in ~0.6 s and ~0.15 s. The port comes from binding port 0 with node:net.
 * Servers run as direct children (PostgreSQL as the `postgres` user when we are root, since it
 * refuses root); a process exit handler SIGKILLs any that is still running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SpareKind = 'mariadb' | 'postgresql';

const MARIADB_INSTALL = 'mariadb-install-db';
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'];
const PG_BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin'];

function firstExisting(paths: readonly string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** null when this machine can run a spare server of this kind, else why not. */
export function spareUnavailableReason(kind: SpareKind): string | null {
  if (kind === 'mariadb') {
    if (!onPath(MARIADB_INSTALL)) return `${MARIADB_INSTALL} not found (apt-get install mariadb-server)`;
    if (!firstExisting(MARIADBD)) return 'mariadbd not found (apt-get install mariadb-server)';
    return null;
  }
  const bin = firstExisting(PG_BIN_DIRS);
  if (!bin) return 'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin';
  if (process.getuid?.() === 0 && !pgUser()) return 'running as root and there is no postgres user to run PostgreSQL as';
  return null;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function pgUser(): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'postgres') return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no passwd file
  }
  return undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface SpareServer {
  readonly kind: SpareKind;
  readonly port: number;
  /** Temporary directory holding data, socket and log (deleted by destroy()). */
  readonly dir: string;
  /** Server URL without a database, in db.ts's form (for TEST_MYSQL_URL / TEST_PG_URL). */
  readonly serverUrl: string;
  /** SQLAlchemy URL of a database on this server, as heat.conf would spell it. */
  url(database: string): string;
  readonly running: boolean;
  /** Starts the server and waits until it accepts connections (default timeout 60 s). */
  start(timeoutMs?: number): Promise<void>;
  /** Graceful shutdown (SIGTERM, fast mode); waits for the process to exit. */
  stop(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** SIGKILL the server process (MariaDB: InnoDB recovers at the next start). */
  crash(): Promise<void>;
  /** One statement on a short-lived connection; `?` placeholders on both kinds. */
  query(sql: string, params?: unknown[], database?: string): Promise<Record<string, unknown>[]>;
  /** The server's log so far (for assertion messages). */
  log(): string;
  /** Stops the server if running and deletes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.on('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

async function tryConnect(kind: SpareKind, port: number, sql = 'SELECT 1', params: unknown[] = [], database?: string) {
  if (kind === 'mariadb') {
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database, connectTimeout: 2000 });
    try {
      const [rows] = await conn.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await conn.end().catch(() => undefined);
    }
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: database ?? 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let i = 0;
    const res = await client.query(sql.replace(/\?/g, () => `$${++i}`), params);
    return res.rows as Record<string, unknown>[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts, timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${r.status}, ${r.error?.message ?? ''}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(0, 4000));
  }
}

/** Creates the data directory (about 1.6 s for MariaDB, 0.6 s for PostgreSQL); the server is not started. */
export interface SpareOptions {
  /** Extra server options (MariaDB: e.g. `--ssl-ca=...`; PostgreSQL: `-c name=value` pairs). */
  readonly extraArgs?: readonly string[];
  /** Listen addresses (default 127.0.0.1), e.g. `127.0.0.1,::1` for IPv4 and IPv6 (MariaDB 10.11+, PostgreSQL). */
  readonly bindAddress?: string;
}

export async function createSpareServer(kind: SpareKind, opts: SpareOptions = {}): Promise<SpareServer> {
  const reason = spareUnavailableReason(kind);
  if (reason) throw new Error(`cannot run a spare ${kind} server: ${reason}`);
  const dir = mkdtempSync(join(tmpdir(), `spare-${kind}-`));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  const pgIds = kind === 'postgresql' && asRoot ? pgUser() : undefined;
  const port = await freePort();
  let child: ChildProcess | undefined;
  let destroyed = false;

  const tmp = join(dir, 'tmp');
  if (kind === 'mariadb') {
    mkdirSync(tmp);
    run(MARIADB_INSTALL, [
      '--no-defaults',
      `--datadir=${data}`,
      `--user=${userInfo().username}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ]);
  } else {
    const pgBin = firstExisting(PG_BIN_DIRS)!;
    if (pgIds) chownSync(dir, pgIds.uid, pgIds.gid);
    run(join(pgBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-N', '-E', 'UTF8', '--locale=C'], { ...pgIds, cwd: dir });
  }

  const spawnServer = (): ChildProcess => {
    const fd = openSync(logFile, 'a');
    try {
      if (kind === 'mariadb') {
        return spawn(
          firstExisting(MARIADBD)!,
          [
            '--no-defaults',
            `--datadir=${data}`,
            `--port=${port}`,
            `--bind-address=${opts.bindAddress ?? '127.0.0.1'}`,
            `--socket=${join(dir, 'mysqld.sock')}`,
            // Its own tmpdir: at start-up mariadbd deletes every '#sql*' file in its tmpdir, which in
            // /tmp are the shared server's temporary tables (it then failed statements and crashed).
            `--tmpdir=${tmp}`,
            `--pid-file=${join(dir, 'mysqld.pid')}`,
            `--user=${userInfo().username}`,
            '--skip-log-bin',
            '--skip-name-resolve',
            '--innodb-buffer-pool-size=32M',
            '--max-connections=200',
            ...(opts.extraArgs ?? []),
          ],
          { stdio: ['ignore', fd, fd] },
        );
      }
      const pgBin = firstExisting(PG_BIN_DIRS)!;
      return spawn(
        join(pgBin, 'postgres'),
        ['-D', data, '-p', String(port), '-k', dir, '-c', `listen_addresses=${opts.bindAddress ?? '127.0.0.1'}`, '-c', 'max_connections=100', '-c', 'fsync=off', ...(opts.extraArgs ?? [])],
        { stdio: ['ignore', fd, fd], cwd: dir, ...pgIds },
      );
    } finally {
      closeSync(fd);
    }
  };

  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const waitExit = (c: ChildProcess, timeoutMs: number): Promise<boolean> =>
    new Promise((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res(true);
      const t = setTimeout(() => res(false), timeoutMs);
      c.once('exit', () => {
        clearTimeout(t);
        res(true);
      });
    });

  const server: SpareServer = {
    kind,
    port,
    dir,
    serverUrl: kind === 'mariadb' ? `mysql://root@127.0.0.1:${port}` : `postgresql://postgres@127.0.0.1:${port}`,
    url: (database) =>
      kind === 'mariadb' ? `mysql+pymysql://root@127.0.0.1:${port}/${database}` : `postgresql://postgres@127.0.0.1:${port}/${database}`,
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    async start(timeoutMs = 60_000) {
      if (destroyed) throw new Error('spare server destroyed');
      if (server.running) return;
      const c = spawnServer();
      child = c;
      track(c);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) {
          throw new Error(`spare ${kind} server exited at start (code ${c.exitCode}, signal ${c.signalCode}); log:\n${log().slice(-3000)}`);
        }
        try {
          await tryConnect(kind, port);
          return;
        } catch (e) {
          if (Date.now() > deadline) {
            c.kill('SIGKILL');
            throw new Error(`spare ${kind} server not accepting connections after ${timeoutMs} ms (${(e as Error).message}); log:\n${log().slice(-3000)}`);
          }
        }
        await sleep(50);
      }
    },
    async stop() {
      const c = child;
      if (!c || !server.running) return;
      // MariaDB: SIGTERM = normal shutdown. PostgreSQL: SIGINT = fast shutdown (SIGTERM would wait for clients).
      c.kill(kind === 'mariadb' ? 'SIGTERM' : 'SIGINT');
      if (!(await waitExit(c, 60_000))) {
        c.kill('SIGKILL');
        await waitExit(c, 10_000);
      }
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    async crash() {
      if (kind !== 'mariadb') throw new Error('crash() is for MariaDB only (a SIGKILLed postmaster leaves its backends behind)');
      const c = child;
      if (!c || !server.running) return;
      c.kill('SIGKILL');
      await waitExit(c, 10_000);
    },
    query: (sql, params = [], database) => tryConnect(kind, port, sql, params, database),
    log,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return server;
}

/** dump.ts compiled (this file compiles to dist/test/support/spare-server.js). */
const DUMP_MODULE = resolve(dirname(fileURLToPath(import.meta.url)), 'dump.js');

/**
 * dump.ts's dumps of a database on a spare server. dump.ts reads its server from TEST_MYSQL_URL /
 * TEST_PG_URL once, at load, so the dump runs in a short child process with that variable set.
 * MariaDB: {columns, indexes, indexesExt, fks}; PostgreSQL: {catalog}.
 */
export async function dumpSpare(server: SpareServer, database: string): Promise<Record<string, string>> {
  const script =
    server.kind === 'mariadb'
      ? `const d = await import(${JSON.stringify(DUMP_MODULE)}); process.stdout.write(JSON.stringify(await d.dumpMysql(${JSON.stringify(database)})));`
      : `const d = await import(${JSON.stringify(DUMP_MODULE)}); process.stdout.write(JSON.stringify({ catalog: await d.dumpPg(${JSON.stringify(database)}) }));`;
  const env = { ...process.env, [server.kind === 'mariadb' ? 'TEST_MYSQL_URL' : 'TEST_PG_URL']: server.serverUrl };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  if (code !== 0) throw new Error(`dump of ${database} on the spare ${server.kind} server failed (exit ${code}): ${err.slice(-2000)}`);
  return JSON.parse(out) as Record<string, string>;
}
