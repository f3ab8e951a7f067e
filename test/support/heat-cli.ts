/**
 * `heat-manage` as a real child process (the compiled `dist/bin/heat-manage.js`), the way a
 * container entrypoint runs it: configuration through the environment only.
 *
 *   const r = await runHeat(['db_sync'], { url: db.url });          // waits; {code, stdout, stderr, ...}
 *   const p = startHeat(['db_sync', '40'], { url, env: {...} });    // a handle: p.pid, p.kill('SIGKILL'),
 *   await p.waitFor(/040 -> 041/);                                  //   p.waitFor(stderr pattern), await p.done
 *
 * Isolation: the child gets the parent's environment without any `OS_*` / `MIGRATE_*` variable, an
 * empty `--config-file` (so no heat.conf of the machine is read), a temporary HOME and working
 * directory; `opts.url` becomes `OS_DATABASE__CONNECTION`, `opts.env` is added last.
 * Every run is bounded by `timeoutMs` (default 120 s): past it the child is killed with SIGKILL
 * and the result says `timedOut`. Output is recorded for the suite's password leak check.
 *
 * Also here, for the tests that run it: reading its output (`logLines`, `plainLines`,
 * `finalVersion`) and checking what it left (`dumpDifferences` against the target dumps of
 * test/fixtures/heat-schema, `stepLog` + `exactlyOnceProblems` over migrate_log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readableCheckout } from './readable.js';
import { recordOutput } from './secrets.js';

/** The compiled CLI (this file compiles to dist/test/support/heat-cli.js). */
export const HEAT_MANAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/heat-manage.js');

export interface HeatOptions {
  /** Database URL, passed as OS_DATABASE__CONNECTION. */
  readonly url?: string;
  /** Extra environment (e.g. OS_DATABASE__RETRY_INTERVAL, MIGRATE_MYSQL_LOCK); added last. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the child (SIGKILL) after this long; default 120 s. */
  readonly timeoutMs?: number;
  /** Do not add `--config-file <empty>`: the args say everything (config-mount tests). */
  readonly bare?: boolean;
  /** Working directory (default: the sandbox). */
  readonly cwd?: string;
  /** Run as this user (root only): a copy of the built checkout that any user can reach is run. */
  readonly uid?: number;
  readonly gid?: number;
  /** A command to run heat-manage under, e.g. ['unshare', '--pid', '--fork', ...]: it gets node and the args. */
  readonly wrap?: readonly string[];
}

export interface HeatResult {
  /** Exit code; null when the child died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: number;
  /** Wall time from spawn to exit. */
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface HeatProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the child has exited and its pipes are closed. */
  readonly done: Promise<HeatResult>;
  /** Sends a signal (the child only: it has no children of its own). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Resolves with the first stderr line matching (past or future); rejects if the child exits first
   * or after timeoutMs. A function matcher sees every line once, in order (so it can count).
   */
  waitFor(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** stderr so far. */
  stderrSoFar(): string;
}

let sandbox: { dir: string; conf: string } | undefined;
function sandboxDir(): { dir: string; conf: string } {
  if (!sandbox) {
    const dir = mkdtempSync(join(tmpdir(), 'heat-cli-'));
    const conf = join(dir, 'empty-heat.conf');
    writeFileSync(conf, '# empty: tests configure heat-manage through the environment\n', { mode: 0o600 });
    sandbox = { dir, conf };
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sandbox;
}

function childEnv(o: HeatOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('OS_') || k.startsWith('MIGRATE_') || k === 'NODE_TEST_CONTEXT') continue;
    env[k] = v;
  }
  env.HOME = sandboxDir().dir;
  if (o.url !== undefined) env.OS_DATABASE__CONNECTION = o.url;
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function startHeat(args: readonly string[], o: HeatOptions = {}): HeatProcess {
  const { dir, conf } = sandboxDir();
  const t0 = performance.now();
  // Another user may not reach this checkout (a clone in a 0700 home directory): run a reachable copy.
  const bin = o.uid === undefined ? HEAT_MANAGE : join(readableCheckout(resolve(dirname(HEAT_MANAGE), '../..')), 'dist', 'bin', 'heat-manage.js');
  const argv = [process.execPath, bin, ...(o.bare ? [] : ['--config-file', conf]), ...args];
  const cmd = [...(o.wrap ?? []), ...argv];
  const child = spawn(cmd[0]!, cmd.slice(1), {
    cwd: o.cwd ?? dir,
    env: childEnv(o),
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: o.uid,
    gid: o.gid,
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const watchers = new Set<{ test: (l: string) => boolean; what: string; resolve: (l: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      for (const w of watchers) {
        if (w.test(line)) {
          watchers.delete(w);
          clearTimeout(w.timer);
          w.resolve(line);
        }
      }
    }
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs ?? 120_000);
  const done = new Promise<HeatResult>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      recordOutput(stdout, stderr);
      for (const w of watchers) {
        clearTimeout(w.timer);
        w.reject(new Error(`heat-manage exited (code ${code}, signal ${signal}) before printing ${w.what}; stderr:\n${stderr.slice(-2000)}`));
      }
      watchers.clear();
      res({ code, signal, stdout, stderr, pid: child.pid ?? -1, ms: performance.now() - t0, timedOut });
    });
  });
  return {
    pid: child.pid ?? -1,
    child,
    done,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    stderrSoFar: () => stderr,
    waitFor(match, timeoutMs = 60_000) {
      const test = typeof match === 'function' ? match : (l: string) => match.test(l);
      const what = typeof match === 'function' ? 'the awaited line' : String(match);
      const complete = stderr.endsWith('\n') ? stderr : stderr.slice(0, stderr.lastIndexOf('\n') + 1);
      const past = complete.split('\n').find((l) => l !== '' && test(l));
      if (past !== undefined) return Promise.resolve(past);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`heat-manage already exited before printing ${what}`));
      }
      return new Promise<string>((resolve, reject) => {
        const w = {
          test,
          what,
          resolve,
          reject,
          timer: setTimeout(() => {
            watchers.delete(w);
            reject(new Error(`heat-manage did not print ${what} within ${timeoutMs} ms; stderr so far:\n${stderr.slice(-2000)}`));
          }, timeoutMs),
        };
        watchers.add(w);
      });
    },
  };
}

/** Runs heat-manage to the end. */
export function runHeat(args: readonly string[], o: HeatOptions = {}): Promise<HeatResult> {
  return startHeat(args, o).done;
}

/**
 * A parsed log line of heat-manage's stderr: an oslo.log text line (the default when stderr is not
 * a terminal) or an oslo.log JSON line (`--use-json`). `level` is on pino's scale (DEBUG 20,
 * INFO 30, WARNING 40, ERROR 50, CRITICAL 60), `time` in ms since the epoch, `name` the logger;
 * a JSON line's `extra` fields are spread in.
 */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly time: number;
  readonly name: string;
  readonly [k: string]: unknown;
}

const PINO_LEVEL: Record<string, number> = { DEBUG: 20, INFO: 30, WARNING: 40, ERROR: 50, CRITICAL: 60 };

/**
 * oslo.log's default line: `2026-12-07 20:15:01.123 4242 INFO heat.db.migration [-] message`
 * (logging_default_format_string with the default log_date_format).
 */
export const OSLO_LINE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) (\d+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+) \[-\] (.*)$/;

/** One stderr line as a log line, or undefined when it is not one (`ERROR: ...`, a stack trace). */
export function parseLogLine(line: string): LogLine | undefined {
  const m = OSLO_LINE.exec(line);
  if (m) {
    const [y, mo, d, h, mi, sec, ms] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
    return { level: PINO_LEVEL[m[9]!]!, msg: m[11]!, time: new Date(y, mo - 1, d, h, mi, sec, ms).getTime(), name: m[10]!, pid: Number(m[8]) };
  }
  if (!line.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.message === 'string' && typeof o.levelname === 'string' && typeof o.created === 'number') {
      const extra = (o.extra ?? {}) as Record<string, unknown>;
      return { ...extra, level: PINO_LEVEL[o.levelname] ?? 0, msg: o.message, time: Math.round(o.created * 1000), name: String(o.name), pid: o.process };
    }
  } catch {
    // not a log line
  }
  return undefined;
}

/** The log lines of a run's stderr (other lines are skipped). */
export function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').flatMap((l) => parseLogLine(l) ?? []);
}

/** stderr lines that are not log lines (what a person reads: `ERROR: ...`, stack traces). */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !parseLogLine(l));
}

/** The statement of a `--debug` SQL log line (`SQL {"sql":...}`), or undefined for any other line. */
export function sqlOf(line: string): string | undefined {
  const l = parseLogLine(line);
  if (!l || l.level !== 20) return undefined;
  if (typeof l.sql === 'string') return l.sql; // a JSON line: the fields are in extra
  const m = /^SQL (\{.*\})$/.exec(l.msg);
  if (!m) return undefined;
  try {
    const sql = (JSON.parse(m[1]!) as { sql?: unknown }).sql;
    return typeof sql === 'string' ? sql : undefined;
  } catch {
    return undefined;
  }
}

/** The `to` version db_sync reports at the end ("database migrated from X to Y" / "database is at version Y"). */
export function finalVersion(stderr: string): number | undefined {
  const last = logLines(stderr)
    .map((l) => /^database (?:migrated from \d+ to|is at version) (\d+)/.exec(l.msg))
    .filter((m) => m !== null)
    .pop();
  return last ? Number(last[1]) : undefined;
}

/** Human summary of a run for assertion messages. */
export function describeRun(r: HeatResult): string {
  return `pid ${r.pid} exit ${r.code}${r.signal ? ` signal ${r.signal}` : ''}${r.timedOut ? ' (timed out)' : ''} after ${Math.round(r.ms)} ms; stderr tail:\n${r.stderr.slice(-1500)}`;
}

// ------------------------------------------------------------------------------------------------
// What a finished db_sync must have left behind, checked from outside (used by the replica, crash
// and not-up tests): the target schema of ../shared/heat-schema and the engine's step log.

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');

/** Heat's steps: 028..071 (from 27, where an empty database is stamped). */
export const HEAT_STEPS: readonly number[] = Array.from({ length: 44 }, (_, i) => 28 + i);

/**
 * The target dumps (test/fixtures/heat-schema, produced by the real tool), keyed like the dumps:
 * MariaDB {columns, indexesExt, fks}; PostgreSQL {catalog}; SQLite {catalog}.
 */
export function targetDumps(dialect: 'mysql' | 'postgresql' | 'sqlite'): Record<string, string> {
  const f = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
  if (dialect === 'mysql') {
    return { columns: f('mysql-71-columns.tsv'), indexesExt: f('mysql-71-indexes-ext.tsv'), fks: f('mysql-71-fks.tsv') };
  }
  return { catalog: f(dialect === 'postgresql' ? 'postgresql-71-catalog.tsv' : 'sqlite-71-catalog.tsv') };
}

/** Differences between a dump and the target: [] when equal (first differing lines otherwise). */
export function dumpDifferences(dialect: 'mysql' | 'postgresql' | 'sqlite', dump: Readonly<Record<string, string>>): string[] {
  const diffs: string[] = [];
  for (const [k, want] of Object.entries(targetDumps(dialect))) {
    const got = dump[k];
    if (got === want) continue;
    if (got === undefined) {
      diffs.push(`${k}: missing from the dump`);
      continue;
    }
    const g = got.split('\n');
    const w = want.split('\n');
    const missing = w.filter((l) => !g.includes(l)).slice(0, 3);
    const extra = g.filter((l) => !w.includes(l)).slice(0, 3);
    diffs.push(`${k}: ${g.length - 1} lines vs ${w.length - 1} in the target; missing ${JSON.stringify(missing)}; unexpected ${JSON.stringify(extra)}`);
  }
  return diffs;
}

export interface StepLogRow {
  readonly from: number;
  readonly to: number;
  readonly status: string;
  readonly host: string;
  readonly pid: number;
}

type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** migrate_log's rows for Heat's repository, oldest first. */
export async function stepLog(query: Query): Promise<StepLogRow[]> {
  const rows = await query(
    "SELECT version_from, version_to, status, host, pid FROM migrate_log WHERE repository_id = 'heat' ORDER BY id",
  );
  return rows.map((r) => ({
    from: Number(r.version_from),
    to: Number(r.version_to),
    status: String(r.status),
    host: String(r.host ?? ''),
    pid: Number(r.pid ?? 0),
  }));
}

/**
 * "Every step was applied exactly once": each version 028..071 is reached by exactly one `done`
 * row (an upgrade n-1 -> n, or a fresh install 27 -> n that creates version n's schema directly,
 * migrate/fresh.ts), and there are no other `done` rows. When `pids` is given, every `done` row
 * was written by one of those processes. Returns the problems found ([] = fine).
 */
export function exactlyOnceProblems(log: readonly StepLogRow[], pids?: ReadonlySet<number>): string[] {
  const problems: string[] = [];
  const done = log.filter((r) => r.status === 'done');
  for (const n of HEAT_STEPS) {
    const k = done.filter((r) => r.from < n && n <= r.to).length;
    if (k !== 1) problems.push(`version ${n} is reached by ${k} 'done' rows`);
  }
  const odd = done.filter((r) => (r.to !== r.from + 1 && r.from !== 27) || r.to <= r.from || r.to < 28 || r.to > 71);
  if (odd.length) problems.push(`unexpected 'done' rows: ${JSON.stringify(odd.slice(0, 3))}`);
  if (pids) {
    const foreign = done.filter((r) => !pids.has(r.pid));
    if (foreign.length) problems.push(`'done' rows by processes that were not started here: ${JSON.stringify(foreign.slice(0, 3))}`);
  }
  return problems;
}
