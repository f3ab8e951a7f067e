/**
 * Benchmark plumbing: run a whole process under /usr/bin/time (wall seconds, peak RSS), fresh
 * databases per run, and a table of medians with min/max.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(ROOT, 'dist');
export type Backend = 'mysql' | 'postgresql' | 'sqlite';

export interface Sample {
  wall: number;
  rssKb: number;
  stderr?: string;
}

/** Runs a command (argv) once; returns wall time and peak RSS of the whole process tree's leader. */
export function timed(
  argv: string[],
  opts: { env?: Record<string, string>; input?: string; cwd?: string; allowFail?: boolean } = {},
): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const out = join(dir, 'time');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, ...argv], {
      env: { ...process.env, ...opts.env },
      input: opts.input,
      cwd: opts.cwd ?? ROOT,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0 && !opts.allowFail) {
      throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(-800)}`);
    }
    const [wall, rss] = readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    return { wall: wall!, rssKb: rss!, stderr: String(r.stderr ?? '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  rssMb: number;
  n: number;
}

export function stat(samples: Sample[]): Stat {
  const w = samples.map((s) => s.wall).sort((a, b) => a - b);
  const r = samples.map((s) => s.rssKb).sort((a, b) => a - b);
  const mid = (xs: number[]) => (xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2);
  return { median: mid(w), min: w[0]!, max: w[w.length - 1]!, rssMb: Math.round(mid(r) / 1024), n: samples.length };
}

let counter = 0;
export interface BenchDb {
  url: string;
  name: string;
  file?: string;
  drop(): void;
  /** Runs SQL through the database's own client (one session). */
  client(sql: string): void;
  /** Runs one query through the database's own client; returns its rows as tab-separated text. */
  value(sql: string): string;
  /** argv of the database's own client reading a script on stdin (`tolerant`: continue after errors). */
  clientArgv(tolerant?: boolean): string[];
}

export function freshDb(backend: Backend): BenchDb {
  const name = `bench_${process.pid}_${++counter}`;
  if (backend === 'mysql') {
    execFileSync('mariadb', ['-h127.0.0.1', '-uroot', '-e', `DROP DATABASE IF EXISTS ${name}; CREATE DATABASE ${name}`]);
    // The client's own packet limit is raised so that big rows can be loaded and read back.
    const argv = ['mariadb', '--max-allowed-packet=1G', '-h127.0.0.1', '-uroot', name];
    return {
      url: `mysql+pymysql://root@127.0.0.1:3306/${name}`,
      name,
      drop: () => execFileSync('mariadb', ['-h127.0.0.1', '-uroot', '-e', `DROP DATABASE IF EXISTS ${name}`]),
      client: (sql) => execFileSync(argv[0]!, argv.slice(1), { input: sql, maxBuffer: 1 << 28 }),
      value: (sql) => String(execFileSync(argv[0]!, ['-N', '-B', ...argv.slice(1), '-e', sql], { maxBuffer: 1 << 28 })).trim(),
      clientArgv: (tolerant) => (tolerant ? [argv[0]!, '--force', ...argv.slice(1)] : argv),
    };
  }
  if (backend === 'postgresql') {
    execFileSync('psql', ['-q', '-h127.0.0.1', '-Upostgres', '-c', `DROP DATABASE IF EXISTS ${name}`, '-c', `CREATE DATABASE ${name}`], {
      stdio: 'ignore',
    });
    const argv = ['psql', '-q', '-X', '-v', 'ON_ERROR_STOP=1', '-h127.0.0.1', '-Upostgres', '-d', name];
    return {
      url: `postgresql://postgres@127.0.0.1:5432/${name}`,
      name,
      drop: () =>
        execFileSync('psql', ['-q', '-h127.0.0.1', '-Upostgres', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'ignore' }),
      client: (sql) => execFileSync(argv[0]!, argv.slice(1), { input: sql, maxBuffer: 1 << 28, stdio: ['pipe', 'ignore', 'pipe'] }),
      value: (sql) => String(execFileSync(argv[0]!, ['-At', ...argv.slice(1), '-c', sql], { maxBuffer: 1 << 28 })).trim(),
      clientArgv: (tolerant) => (tolerant ? argv.filter((a) => a !== 'ON_ERROR_STOP=1' && a !== '-v') : argv),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
  const file = join(dir, `${name}.sqlite`);
  return {
    url: `sqlite:///${file}`,
    name,
    file,
    drop: () => rmSync(dir, { recursive: true, force: true }),
    client: (sql) => execFileSync('sqlite3', [file], { input: sql, maxBuffer: 1 << 28 }),
    value: (sql) => String(execFileSync('sqlite3', [file, sql], { maxBuffer: 1 << 28 })).trim(),
    clientArgv: () => ['sqlite3', file],
  };
}

export function heatManage(args: string[]): string[] {
  return [process.execPath, join(DIST, 'bin', 'heat-manage.js'), ...args];
}

export function fmt(s: number): string {
  return s.toFixed(3);
}
