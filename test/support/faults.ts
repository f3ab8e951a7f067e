/**
 * Helpers of the fault matrix (test/e2e/heat-faults-*.test.ts): what a run printed, what it left
 * in the database, and the environments operators give heat-manage (a PID namespace, a full disk,
 * a TLS-only MariaDB).
 *
 *   const r = await runHeat(['db_sync'], { url: db.url });
 *   const line = errorLine(r, /metadata lock/);          // exit 1, nothing on stdout, one ERROR line
 *   const before = await stateOf(db);  ...  assert.equal(await stateOf(db), before);
 *   await assertConverged(db);                           // the exact target schema at 71
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpMysql, dumpPg, dumpSqlite } from './dump.js';
import { createTestDatabase, type TestDatabase, type TestDialect } from './db.js';
import { describeRun, dumpDifferences, logLines, plainLines, runHeat, type HeatResult } from './heat-cli.js';

export const LATEST = 71;

/** exit 1, nothing on stdout, exactly one plain stderr line `ERROR: ...` matching; returns it. */
export function errorLine(r: HeatResult, pattern: RegExp | string, code = 1): string {
  assert.equal(r.code, code, describeRun(r));
  assert.equal(r.stdout, '', `nothing on stdout\n${describeRun(r)}`);
  const plain = plainLines(r.stderr);
  assert.equal(plain.length, 1, `exactly one line that is not a log line\n${describeRun(r)}`);
  const line = plain[0]!;
  assert.match(line, /^ERROR: \S/, describeRun(r));
  if (typeof pattern === 'string') assert.ok(line.includes(pattern), `expected ${JSON.stringify(pattern)} in: ${line}`);
  else assert.match(line, pattern);
  return line;
}

/** exit 0, no plain stderr line. */
export function assertOk(r: HeatResult): void {
  assert.equal(r.code, 0, describeRun(r));
  assert.deepEqual(plainLines(r.stderr), [], describeRun(r));
}

/** A log line (level >= `level`) matching. */
export function hasLog(r: HeatResult | string, re: RegExp, level = 0): boolean {
  return logLines(typeof r === 'string' ? r : r.stderr).some((l) => l.level >= level && re.test(l.msg));
}

/** A fresh test database for fn, dropped afterwards. */
export async function withDb(dialect: TestDialect, fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(dialect);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

/** The schema dump of test/support/dump.ts for a test database. */
export async function dumpOf(db: TestDatabase): Promise<Record<string, string>> {
  if (db.dialect === 'mysql') return { ...(await dumpMysql(db.name)) };
  if (db.dialect === 'postgresql') return { catalog: await dumpPg(db.name) };
  return { catalog: await dumpSqlite(db.file!) };
}

/** Heat's version row (undefined: no table or no row). */
export async function heatVersion(db: TestDatabase): Promise<number | null | undefined> {
  try {
    const rows = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'");
    if (!rows.length) return undefined;
    return rows[0]!.version === null ? null : Number(rows[0]!.version);
  } catch {
    return undefined;
  }
}

/**
 * Everything a refused run must not change: the schema dump, the version table's rows and the
 * row count of every table (the engine's migrate_log excepted: a refused step may be logged).
 */
export async function stateOf(db: TestDatabase): Promise<string> {
  if (db.dialect === 'sqlite' && !existsSync(db.file!)) return 'absent';
  const dump = await dumpOf(db);
  const tables =
    db.dialect === 'mysql'
      ? await db.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1')
      : db.dialect === 'postgresql'
        ? await db.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        : await db.query("SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY 1");
  const counts: string[] = [];
  const q = (t: string) => (db.dialect === 'mysql' ? `\`${t}\`` : `"${t}"`);
  for (const { t } of tables) {
    if (String(t) === 'migrate_log') continue;
    const [c] = await db.query(`SELECT COUNT(*) AS n FROM ${q(String(t))}`);
    counts.push(`${String(t)}=${String(c!.n)}`);
  }
  const versions = tables.some((r) => r.t === 'migrate_version')
    ? await db.query('SELECT repository_id, version FROM migrate_version ORDER BY repository_id')
    : [];
  return JSON.stringify({ dump, counts, versions });
}

/**
 * `db_sync 28` on an empty database: from there on db_sync runs Heat's steps one by one (on an
 * empty database it creates the target schema directly, migrate/fresh.ts). For the tests of steps:
 * their kill points, step lines and locks inside steps.
 */
export async function atFirstStep(url: string): Promise<HeatResult> {
  const r = await runHeat(['db_sync', '28'], { url });
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

/** The database is at 71 with exactly the target schema of test/fixtures/heat-schema. */
export async function assertConverged(db: TestDatabase): Promise<void> {
  assert.equal(await heatVersion(db), LATEST, 'version 71');
  assert.deepEqual(dumpDifferences(db.dialect, await dumpOf(db)), [], 'the exact target schema');
}

/** `unshare` as root: heat-manage as PID 1 of a new PID namespace (as a container's command). */
export const PID1_WRAP: readonly string[] = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc'];

/** null when this machine can make PID namespaces (root, util-linux unshare), else why not. */
export function pidNamespaceUnavailable(): string | null {
  const r = spawnSync('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'true'], { stdio: 'ignore' });
  return r.status === 0 ? null : 'cannot create a PID namespace here (unshare --pid needs root or user namespaces)';
}

/** The host pid of the only child of `pid` (the PID 1 that `unshare --fork` started). */
export function onlyChild(pid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until `pid` has a child, returns its pid (bounded: 10 s). */
export async function childOf(pid: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = onlyChild(pid);
    if (c) return c;
    if (Date.now() > deadline) throw new Error(`process ${pid} started no child within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A throwaway directory removed at process exit. */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function writeFile(path: string, text: string | Buffer, mode = 0o600): string {
  writeFileSync(path, text, { mode });
  return path;
}

/** Dialect-specific names the matrix needs. */
export const dialectLabel = (d: TestDialect): string => ({ mysql: 'MariaDB', postgresql: 'PostgreSQL', sqlite: 'SQLite' })[d];

/** A self-signed CA and a server certificate for 127.0.0.1/localhost, made by openssl in `dir`. */
export interface Certificates {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** A client certificate and key signed by `ca` (for REQUIRE X509 users). */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here (a wrong ssl_ca). */
  readonly otherCa: string;
}

export function makeCertificates(dir: string): Certificates {
  const sh = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=heat-faults test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  sh(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n');
  sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']);
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=some other CA', '-keyout', 'other.key', '-out', 'other.pem']);
  sh(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=heat', '-keyout', 'client.key', '-out', 'client.csr']);
  sh(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem']);
  return {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(dir, 'other.pem'),
  };
}
