/**
 * A throw-away MariaDB Galera cluster on loopback, for tests:
 *
 *   const c = await startCluster({ size: 3, log: console.error });
 *   try {
 *     c.nodes[1]!.server       // 'mysql://root@127.0.0.1:<port>' (root, no password, over TCP)
 *     await c.query(1, 'SELECT 1')        // one short-lived connection to node index 1 (node2)
 *   } finally {
 *     await c.stop();          // stops every node, deletes the temp dir
 *   }
 *
 * Each node gets its own client, gcomm, IST and SST ports (free loopback ports), its own
 * `--defaults-file` (never the system's /etc/mysql config: that would share the running server's
 * pid file and socket), datadir, socket, pid file and error log under one temp dir. node1 is
 * initialised with mariadb-install-db (root@127.0.0.1 without password) and bootstrapped with
 * --wsrep-new-cluster; the others join one at a time with an empty datadir and get it by rsync SST.
 * Started as root, the servers run as `mysql` (rsync SST fails when mariadbd runs as root).
 *
 * Clean-up: `stop()` (SIGTERM, then SIGKILL after a grace time), also on SIGINT/SIGTERM of this
 * process (the handler stops the nodes and exits 130/143), and on process exit (SIGKILL, sync).
 * The servers run in their own process group, so a Ctrl-C reaches them only through us. Because
 * a test runner may SIGKILL its test process on Ctrl-C (Node 20's does), a small detached
 * guardian (`cluster.js --guard`) watches the owner and, if it dies first, stops the servers and
 * deletes the dir. A cluster left behind anyway is removed by the next start. Servers are always
 * found by the pids recorded at spawn and killed only when their command line names that
 * cluster's own config file, so nothing else is ever touched.
 *
 * Nothing here sets `wsrep_sync_wait` globally: the engine under test must ask for causal reads.
 *
 * Run by hand: `node dist/test/galera/cluster.js` starts a cluster, prints its ports and waits
 * for Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const GALERA_PROVIDER = process.env.GALERA_PROVIDER ?? '/usr/lib/galera/libgalera_smm.so';
const DIR_PREFIX = 'galera-test-';

export type Row = Record<string, unknown>;

export interface GaleraNode {
  /** node1, node2, ... */
  readonly name: string;
  /** Client port on 127.0.0.1. */
  readonly port: number;
  readonly gcommPort: number;
  readonly istPort: number;
  readonly sstPort: number;
  /** Server URL without a database: `mysql://root@127.0.0.1:<port>`. */
  readonly server: string;
  readonly dir: string;
  readonly configFile: string;
  readonly errorLog: string;
}

export interface ClusterTimings {
  /** mariadb-install-db for node1. */
  readonly installMs: number;
  /** node1 started with --wsrep-new-cluster until Synced. */
  readonly bootstrapMs: number;
  /** Each joiner, from spawn to Synced (SST included). */
  readonly joinMs: readonly number[];
  /** From startCluster() to every node Synced with cluster_size = size. */
  readonly totalMs: number;
}

export interface GaleraCluster {
  readonly dir: string;
  readonly nodes: readonly GaleraNode[];
  readonly timings: ClusterTimings;
  /** Runs one statement on a fresh connection to node `i` (0-based); returns rows. */
  query(i: number, sql: string, params?: unknown[], database?: string): Promise<Row[]>;
  /** Like query, after `SET SESSION wsrep_sync_wait = 1`: sees every write the cluster committed before. */
  queryCausal(i: number, sql: string, params?: unknown[], database?: string): Promise<Row[]>;
  /** `SHOW STATUS LIKE 'wsrep_%'` of node `i`, as name -> value. */
  status(i: number): Promise<Record<string, string>>;
  /** Waits until node `i` is Synced, ready, and sees `size` members (default: all). */
  waitSynced(i: number, opts?: { size?: number; timeoutMs?: number }): Promise<void>;
  /** Stops every node and deletes the temp dir (idempotent). */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly size?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Keep the temp dir after stop (env GALERA_KEEP=1 does the same): for post-mortems. */
  readonly keep?: boolean;
  /** Per-node start timeout (default 120 s). */
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function which(names: readonly string[], dirs: readonly string[]): string | undefined {
  const path = [...dirs, ...(process.env.PATH ?? '').split(':')];
  for (const n of names) for (const d of path) if (d && existsSync(join(d, n))) return join(d, n);
  return undefined;
}

const mariadbd = () => process.env.GALERA_MARIADBD ?? which(['mariadbd', 'mysqld'], ['/usr/sbin', '/usr/local/sbin']);
const installDb = () => which(['mariadb-install-db', 'mysql_install_db'], ['/usr/bin', '/usr/local/bin']);

/** null when a cluster can be started here, else what is missing (and how to get it). */
export function galeraMissing(): string | null {
  const missing: string[] = [];
  if (!mariadbd()) missing.push('mariadbd (apt-get install mariadb-server)');
  if (!installDb()) missing.push('mariadb-install-db (apt-get install mariadb-server)');
  if (!existsSync(GALERA_PROVIDER)) missing.push(`${GALERA_PROVIDER} (apt-get install galera-4)`);
  if (!which(['rsync'], [])) missing.push('rsync (apt-get install rsync)');
  if (process.getuid?.() === 0 && !mysqlUser()) missing.push("a 'mysql' system user to run the servers as");
  return missing.length ? `cannot start a Galera cluster: missing ${missing.join(', ')}` : null;
}

/** uid/gid of the `mysql` user from /etc/passwd. */
function mysqlUser(): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'mysql') return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* no passwd file */
  }
  return undefined;
}

/** `n` distinct free TCP ports on 127.0.0.1 (all held open together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function nodeConfig(n: GaleraNode, all: readonly GaleraNode[], clusterName: string, runAs: string | undefined): string {
  const gcomm = all.map((x) => `127.0.0.1:${x.gcommPort}`).join(',');
  return `# Generated by test/galera/cluster.ts for one test cluster: do not reuse.
[mysqld]
${runAs ? `user=${runAs}\n` : ''}datadir=${join(n.dir, 'data')}
socket=${join(n.dir, 'mysqld.sock')}
pid-file=${join(n.dir, 'mysqld.pid')}
# its own: at start-up mariadbd deletes every '#sql*' file in its tmpdir (in /tmp, the main server's)
tmpdir=${join(n.dir, 'tmp')}
log-error=${n.errorLog}
port=${n.port}
bind-address=127.0.0.1
skip-name-resolve
# as the project's main test server (/etc/mysql/my.cnf)
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
# small and quick: a throw-away cluster on a 2-core machine
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
# required by Galera
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=${GALERA_PROVIDER}
wsrep_cluster_name=${clusterName}
wsrep_cluster_address=gcomm://${gcomm}
wsrep_node_name=${n.name}
wsrep_node_address=127.0.0.1:${n.gcommPort}
wsrep_node_incoming_address=127.0.0.1:${n.port}
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:${n.sstPort}
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${n.gcommPort};ist.recv_addr=127.0.0.1:${n.istPort};gcache.size=32M"

[client]
socket=${join(n.dir, 'mysqld.sock')}
port=${n.port}
`;
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function connect(port: number, database?: string) {
  const mysql = await import('mysql2/promise');
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', database, connectTimeout: 5000 });
}

async function runQuery(port: number, sql: string, params: unknown[] = [], database?: string, causal = false): Promise<Row[]> {
  const conn = await connect(port, database);
  try {
    if (causal) await conn.query('SET SESSION wsrep_sync_wait = 1');
    const [rows] = await conn.query(sql, params);
    return Array.isArray(rows) ? (rows as Row[]) : [];
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function wsrepStatus(port: number): Promise<Record<string, string>> {
  const rows = await runQuery(port, "SHOW STATUS LIKE 'wsrep_%'");
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
}

interface Running {
  readonly dir: string;
  readonly procs: Map<string, ChildProcess>;
  stopping?: Promise<void>;
}
const running = new Set<Running>();
let handlersInstalled = false;

/** Kills what is left synchronously (process 'exit'): no await possible there. */
function killAllNow(): void {
  for (const r of running) {
    for (const p of r.procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (!(process.env.GALERA_KEEP === '1')) rmSync(r.dir, { recursive: true, force: true });
  }
  running.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.stderr.write(`\n${sig}: stopping the Galera test cluster(s)...\n`);
    void Promise.all([...running].map((r) => stopRunning(r, 10_000, false))).finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('exit', killAllNow);
}

async function stopRunning(r: Running, graceMs: number, keep: boolean): Promise<void> {
  r.stopping ??= (async () => {
    const alive = [...r.procs.values()].filter((p) => p.exitCode === null && p.signalCode === null);
    await Promise.all(
      alive.map(async (p) => {
        const exited = new Promise<void>((res) => p.once('exit', () => res()));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }),
    );
    running.delete(r);
    if (!keep) rmSync(r.dir, { recursive: true, force: true });
  })();
  return r.stopping;
}

/** A process that exists and is not a zombie (a killed owner may linger as one, reparented). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    if (existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live servers of the cluster in `dir`: pids we recorded at spawn, checked against their command line. */
function serverPids(dir: string): number[] {
  const pids: number[] = [];
  for (const n of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const pid = Number(readFileSync(join(dir, n, 'server.pid'), 'utf8').trim());
      if (pid && processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(dir, n, 'my.cnf'))) pids.push(pid);
    } catch {
      /* not started, or gone */
    }
  }
  return pids;
}

/**
 * Stops the servers of the cluster in `dir` by the pids recorded there (SIGTERM, SIGKILL after
 * `graceMs`) and deletes `dir`. Used when the owning process cannot do it itself.
 */
export async function reapCluster(dir: string, graceMs: number): Promise<void> {
  let pids = serverPids(dir);
  for (const pid of pids) process.kill(pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const deadline = Date.now() + graceMs;
  while ((pids = pids.filter(processAlive)).length) {
    if (Date.now() > deadline) for (const pid of pids) process.kill(pid, 'SIGKILL');
    await sleep(100);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Started detached next to every cluster: when the owning process dies without stopping its
 * cluster (a test runner may SIGKILL it on Ctrl-C), stops the servers and deletes the dir.
 * Exits as soon as the dir is gone (a normal stop()).
 */
async function guard(owner: number, dir: string): Promise<void> {
  while (existsSync(dir) && processAlive(owner)) await sleep(250);
  if (existsSync(dir) && process.env.GALERA_KEEP !== '1') await reapCluster(dir, 20_000);
}

function spawnGuardian(dir: string): void {
  const g = spawn(process.execPath, [fileURLToPath(import.meta.url), '--guard', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  g.unref();
}

/**
 * Removes clusters left behind by owners killed outright whose guardian did not finish either
 * (a dir whose owner process is gone): its servers are found by the pids recorded at spawn and
 * killed only when their command line names that dir (so nothing else is ever touched).
 */
export async function removeStaleClusters(log?: (s: string) => void): Promise<void> {
  const base = tmpdir();
  for (const name of readdirSync(base)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(base, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue;
    }
    if (!owner || processAlive(owner)) continue;
    log?.(`galera: removing a stale test cluster in ${dir} (servers ${serverPids(dir).join(', ') || 'none'})`);
    await reapCluster(dir, 0);
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<GaleraCluster> {
  const missing = galeraMissing();
  if (missing) throw new Error(missing);
  const size = opts.size ?? 3;
  const log = opts.log ?? (() => undefined);
  const keep = opts.keep ?? process.env.GALERA_KEEP === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? 120_000;
  const t0 = performance.now();
  await removeStaleClusters(log);
  installHandlers();

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const r: Running = { dir, procs: new Map() };
  running.add(r);
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  spawnGuardian(dir);
  const user = process.getuid?.() === 0 ? mysqlUser() : undefined;
  const own = (p: string) => {
    if (user) chownSync(p, user.uid, user.gid);
  };
  chmodSync(dir, 0o755);
  own(dir);

  const ports = await freePorts(size * 4);
  const nodes: GaleraNode[] = Array.from({ length: size }, (_, i) => {
    const ndir = join(dir, `node${i + 1}`);
    const [port, gcommPort, istPort, sstPort] = ports.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    return {
      name: `node${i + 1}`,
      port,
      gcommPort,
      istPort,
      sstPort,
      server: `mysql://root@127.0.0.1:${port}`,
      dir: ndir,
      configFile: join(ndir, 'my.cnf'),
      errorLog: join(ndir, 'error.log'),
    };
  });
  const clusterName = `test_${process.pid}_${Date.now().toString(36)}`;
  for (const n of nodes) {
    mkdirSync(join(n.dir, 'data'), { recursive: true });
    mkdirSync(join(n.dir, 'tmp'), { recursive: true });
    writeFileSync(n.configFile, nodeConfig(n, nodes, clusterName, user ? 'mysql' : undefined));
    own(n.dir);
    own(join(n.dir, 'data'));
    own(join(n.dir, 'tmp'));
    own(n.configFile);
  }

  const stop = () => stopRunning(r, 30_000, keep);
  try {
    // node1's datadir; the joiners get theirs by SST.
    const ti = performance.now();
    const inst = spawnSync(
      installDb()!,
      [`--defaults-file=${nodes[0]!.configFile}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (inst.status !== 0) throw new Error(`mariadb-install-db failed (${inst.status}): ${inst.stderr || inst.stdout}`);
    const installMs = performance.now() - ti;
    log(`galera: node1 datadir initialised in ${(installMs / 1000).toFixed(1)} s (${dir})`);

    const startNode = async (i: number, bootstrap: boolean): Promise<number> => {
      const n = nodes[i]!;
      const ts = performance.now();
      const out = openSync(join(n.dir, 'stdout.log'), 'a');
      const args = [`--defaults-file=${n.configFile}`, ...(bootstrap ? ['--wsrep-new-cluster'] : [])];
      const p = spawn(mariadbd()!, args, { stdio: ['ignore', out, out], detached: true });
      closeSync(out);
      p.unref();
      r.procs.set(n.name, p);
      writeFileSync(join(n.dir, 'server.pid'), String(p.pid));
      let exited: string | undefined;
      p.once('exit', (code, sig) => (exited = `exited (${sig ?? code})`));
      const deadline = Date.now() + startTimeoutMs;
      let last = 'not answering';
      for (;;) {
        if (exited) throw new Error(`${n.name} ${exited} while starting; its error log:\n${tail(n.errorLog)}`);
        try {
          const s = await wsrepStatus(n.port);
          last = `${s.wsrep_local_state_comment}, ready ${s.wsrep_ready}, cluster size ${s.wsrep_cluster_size}`;
          if (s.wsrep_local_state_comment === 'Synced' && s.wsrep_ready === 'ON' && Number(s.wsrep_cluster_size) === i + 1) break;
        } catch (e) {
          last = (e as Error).message;
        }
        if (Date.now() > deadline) throw new Error(`${n.name} not Synced after ${startTimeoutMs / 1000} s (last: ${last}); its error log:\n${tail(n.errorLog)}`);
        await sleep(200);
      }
      const ms = performance.now() - ts;
      log(`galera: ${n.name} Synced on 127.0.0.1:${n.port} in ${(ms / 1000).toFixed(1)} s${bootstrap ? ' (bootstrap)' : ' (joined, rsync SST)'}`);
      return ms;
    };

    const bootstrapMs = await startNode(0, true);
    const joinMs: number[] = [];
    for (let i = 1; i < size; i++) joinMs.push(await startNode(i, false));

    const cluster: GaleraCluster = {
      dir,
      nodes,
      timings: { installMs, bootstrapMs, joinMs, totalMs: 0 },
      query: (i, sql, params, database) => runQuery(nodes[i]!.port, sql, params, database),
      queryCausal: (i, sql, params, database) => runQuery(nodes[i]!.port, sql, params, database, true),
      status: (i) => wsrepStatus(nodes[i]!.port),
      async waitSynced(i, o = {}) {
        const want = o.size ?? size;
        const deadline = Date.now() + (o.timeoutMs ?? 60_000);
        let last = '';
        for (;;) {
          try {
            const s = await wsrepStatus(nodes[i]!.port);
            last = `${s.wsrep_local_state_comment}, ready ${s.wsrep_ready}, status ${s.wsrep_cluster_status}, size ${s.wsrep_cluster_size}`;
            if (s.wsrep_local_state_comment === 'Synced' && s.wsrep_ready === 'ON' && Number(s.wsrep_cluster_size) === want) return;
          } catch (e) {
            last = (e as Error).message;
          }
          if (Date.now() > deadline) throw new Error(`${nodes[i]!.name} not Synced with size ${want} (last: ${last})`);
          await sleep(200);
        }
      },
      stop,
    };
    for (let i = 0; i < size; i++) await cluster.waitSynced(i, { timeoutMs: 30_000 });
    const totalMs = performance.now() - t0;
    (cluster as { timings: ClusterTimings }).timings = { installMs, bootstrapMs, joinMs, totalMs };
    log(`galera: ${size} nodes Synced, cluster_size ${size}, in ${(totalMs / 1000).toFixed(1)} s`);
    return cluster;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Starts a cluster, runs `fn`, stops the cluster in `finally`. */
export async function withCluster<T>(opts: ClusterOptions, fn: (c: GaleraCluster) => Promise<T>): Promise<T> {
  const c = await startCluster(opts);
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

// `node dist/test/galera/cluster.js`: start one, print it, wait for Ctrl-C (the handler stops it).
// `--guard OWNER DIR`: the guardian (spawnGuardian).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--guard') {
  await guard(Number(process.argv[3]), process.argv[4]!);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const c = await startCluster({ log: (s) => process.stderr.write(`${s}\n`) });
  for (const n of c.nodes) {
    process.stdout.write(`${n.name}: ${n.server}  (gcomm ${n.gcommPort}, IST ${n.istPort}, SST ${n.sstPort}; config ${n.configFile})\n`);
  }
  process.stdout.write('Ctrl-C stops the cluster and deletes its directory.\n');
  setInterval(() => undefined, 1 << 30);
}
