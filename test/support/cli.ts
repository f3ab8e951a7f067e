/**
 * Runs the built `migrate` CLI (dist/bin/migrate.js) or a repository's `manage.js` launcher as a
 * child process and captures what a person would see:
 *
 *   const r = await runMigrate(['version', repo]);          // { code, stdout, stderr, ms }
 *   const m = await runNode([join(repo, 'manage.js'), 'upgrade', url, repo], { cwd });
 *
 * The child gets the test process's environment without the engine's hooks (MIGRATE_*) and
 * node:test's own variables, plus `env`. Every output is recorded for the suite-wide password leak
 * check (test/support/secrets.ts).
 *
 * Also: temp directories and hand-written repositories (`writeRepo`) for tests that need a
 * repository without going through `migrate create`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTestDatabase, type TestDatabase, type TestDialect } from './db.js';
import { recordOutput } from './secrets.js';

/** dist/ of the compiled tree (this file is dist/test/support/cli.js). */
export const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MIGRATE_BIN = join(DIST, 'bin', 'migrate.js');

/** The repository root (sources): the nearest ancestor of dist/ holding package.json. */
export const SOURCE_ROOT = ((): string => {
  for (let d = dirname(DIST); ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'examples'))) return d;
    if (dirname(d) === d) return dirname(DIST);
  }
})();

export interface CliResult {
  /** Exit code (null when killed by a signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the process, in ms. */
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Added to the child's environment (undefined removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the child after this many ms (default 60 s); the result then has signal SIGKILL. */
  readonly timeoutMs?: number;
}

function childEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('MIGRATE_') || k.startsWith('NODE_TEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A started child process: `done` resolves with its result when it exits. */
export interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
}

/** Starts `node ...args`, capturing its output. `done` never rejects on a non-zero exit. */
export function startNode(args: readonly string[], o: RunOptions = {}): Started {
  const t0 = performance.now();
  const child = spawn(process.execPath, args as string[], {
    cwd: o.cwd,
    env: childEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      recordOutput(stdout, stderr);
      resolvePromise({ code, signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
  });
  return { child, done };
}

/** Runs `node ...args` and captures its output. Never rejects on a non-zero exit. */
export function runNode(args: readonly string[], o: RunOptions = {}): Promise<CliResult> {
  return startNode(args, o).done;
}

/** Starts `migrate ...args` (the built CLI) without waiting for it. */
export function startMigrate(args: readonly string[], o: RunOptions = {}): Started {
  return startNode([MIGRATE_BIN, ...args], o);
}

/** Runs `migrate ...args` (the built CLI). */
export function runMigrate(args: readonly string[], o: RunOptions = {}): Promise<CliResult> {
  return runNode([MIGRATE_BIN, ...args], o);
}

/** Lines of an output without the final newline's empty element. */
export function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** A short description of a result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}---`;
}

/** A new empty directory under the system temp directory. */
export function tempDir(prefix = 'migrate-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RepoSpec {
  readonly id?: string;
  readonly versionTable?: string;
  readonly timestampNumbering?: boolean;
  /** File name in versions/ -> content. */
  readonly files?: Readonly<Record<string, string>>;
}

/** A minimal repository (migrate.cfg in the real tool's key order, versions/ with `files`). */
export function writeRepo(dir: string, spec: RepoSpec = {}): string {
  mkdirSync(join(dir, 'versions'), { recursive: true });
  writeFileSync(
    join(dir, 'migrate.cfg'),
    `[db_settings]\nrepository_id=${spec.id ?? 'sample'}\n\nversion_table=${spec.versionTable ?? 'migrate_version'}\n\n` +
      `required_dbs=[]\n\nuse_timestamp_numbering=${spec.timestampNumbering ? 'True' : 'False'}\n`,
  );
  for (const [name, text] of Object.entries(spec.files ?? {})) writeFileSync(join(dir, 'versions', name), text);
  return dir;
}

/**
 * A module script (.mjs, loaded without tsx) whose upgrade/downgrade run the given statements in
 * order through migrate_engine.execute. `throwAfterUp`: throw Error(message) after the statements.
 */
export function sqlModule(up: readonly string[], down: readonly string[] = [], o: { throwUp?: string; throwDown?: string } = {}): string {
  const body = (stmts: readonly string[], thr?: string) =>
    stmts.map((s) => `  await migrate_engine.execute(${JSON.stringify(s)});\n`).join('') +
    (thr ? `  throw new Error(${JSON.stringify(thr)});\n` : '');
  return (
    `export async function upgrade(migrate_engine) {\n${body(up, o.throwUp)}}\n` +
    `export async function downgrade(migrate_engine) {\n${body(down, o.throwDown)}}\n`
  );
}

/**
 * `version_control URL REPO [VERSION]` in-process through the engine's API (a test's setup step:
 * faster than a process; the CLI's own version_control is tested where it is the subject).
 */
export async function putUnderControl(url: string, repo: string, version?: number): Promise<void> {
  const api = await import('../../migrate/api.js');
  const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as import('../../migrate/script/contract.js').Logger;
  await api.versionControl(url, repo, version, { logger: silent });
}

// ---------------------------------------------------------------------------------------------
// What a test checks in the database after a command (read on a fresh connection each time).


/** Base tables of the test database, sorted (SQLite's internal tables left out). */
export async function tableNames(db: TestDatabase): Promise<string[]> {
  let rows: Record<string, unknown>[];
  if (db.dialect === 'mysql') {
    rows = await db.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'");
  } else if (db.dialect === 'postgresql') {
    rows = await db.query("SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = 'public'");
  } else {
    rows = await db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
  }
  return rows.map((r) => String(r.name)).sort();
}

/** Rows of a version table as [repository_id, repository_path, version], sorted by id. */
export async function versionRows(db: TestDatabase, table = 'migrate_version'): Promise<Array<[string, string | null, number | null]>> {
  const rows = await db.query(`SELECT repository_id, repository_path, version FROM ${table} ORDER BY repository_id`);
  return rows.map((r) => [
    String(r.repository_id),
    r.repository_path === null ? null : String(r.repository_path),
    r.version === null ? null : Number(r.version),
  ]);
}

export interface ColumnInfo {
  readonly name: string;
  /** MySQL: COLUMN_TYPE (`bigint(20) unsigned`); PostgreSQL: format_type (`character varying(64)`); SQLite: declared type, lower-cased. */
  readonly type: string;
  readonly nullable: boolean;
  readonly primary: boolean;
  /** MySQL: EXTRA (`auto_increment`); PostgreSQL: the default (`nextval(...)`); SQLite: ''. */
  readonly extra: string;
}

/** Columns of a table in ordinal order. */
export async function columnsOf(db: TestDatabase, table: string): Promise<ColumnInfo[]> {
  if (db.dialect === 'mysql') {
    const rows = await db.query(`DESC \`${table}\``);
    return rows.map((r) => ({
      name: String(r.Field),
      type: String(r.Type),
      nullable: r.Null === 'YES',
      primary: r.Key === 'PRI',
      extra: String(r.Extra ?? ''),
    }));
  }
  if (db.dialect === 'postgresql') {
    const rows = await db.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
              coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS dflt,
              EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary AND a.attnum = ANY (x.indkey)) AS pk
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table],
    );
    return rows.map((r) => ({ name: String(r.name), type: String(r.type), nullable: !r.notnull, primary: !!r.pk, extra: String(r.dflt) }));
  }
  const rows = await db.query(`PRAGMA table_info("${table}")`);
  return rows.map((r) => ({
    name: String(r.name),
    type: String(r.type).toLowerCase(),
    nullable: Number(r.notnull) === 0 && Number(r.pk) === 0,
    primary: Number(r.pk) > 0,
    extra: '',
  }));
}

/**
 * Everything a failed command must not have changed: every table with its columns and row count,
 * and the version rows. Compare two snapshots with deepEqual.
 */
export async function snapshot(db: TestDatabase): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of await tableNames(db)) {
    const [count] = await db.query(`SELECT COUNT(*) AS n FROM ${db.dialect === 'mysql' ? `\`${t}\`` : `"${t}"`}`);
    out[t] = { columns: await columnsOf(db, t), rows: Number(count?.n) };
    if (t === 'migrate_version') (out[t] as Record<string, unknown>).versions = await versionRows(db);
  }
  return out;
}

/**
 * A fresh database of `dialect` and a temp dir for a CLI test; both removed afterwards (the e2e
 * files' `withDb` helpers are this plus how they call the CLI).
 */
export async function withCliDb(
  t: { skip(reason?: string): void },
  dialect: TestDialect,
  prefix: string,
  fn: (db: TestDatabase, dir: string) => Promise<void>,
): Promise<void> {
  await withTestDatabase(t, dialect, async (db) => {
    const dir = tempDir(prefix);
    try {
      await fn(db, dir);
    } finally {
      removeDir(dir);
    }
  });
}
