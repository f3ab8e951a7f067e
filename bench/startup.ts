/**
 * Start-up: how long `heat-manage db_version` and a no-op `db_sync` take as whole processes, against
 * bare `node -e ""`, on each backend (issue 10 point 5: within 0.10 s of bare node). Median of N
 * runs (default 7) of the wall time (measured around the spawn, finer than /usr/bin/time's 10 ms)
 * and of the CPU time (user + sys, from /usr/bin/time): on a loaded machine the wall time mostly
 * measures the other processes, the CPU time much less so.
 *
 *   node dist/bench/startup.js [N] [BIN...]      BIN: heat-manage entry points to compare
 *                                                (default dist/bin/heat-manage.js)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, freshDb, type Backend } from './lib.js';

const N = Number(process.argv[2] ?? 7);
const bins = process.argv.slice(3).length ? process.argv.slice(3) : [join(DIST, 'bin', 'heat-manage.js')];
const home = mkdtempSync(join(tmpdir(), 'startup-'));
const conf = join(home, 'heat.conf');

const timeFile = join(home, 'time');

/** One whole process: [wall ms, cpu ms]. */
function run(argv: string[], url?: string): [number, number] {
  if (url) writeFileSync(conf, `[database]\nconnection = ${url}\n`);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: home },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(-500)}`);
  const [u, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return [ms, (u! + sys!) * 1000];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timesOf(argv: string[], url?: string): [number, number] {
  const runs = Array.from({ length: N }, () => run(argv, url));
  return [median(runs.map((r) => r[0])), median(runs.map((r) => r[1]))];
}

try {
  const bare = timesOf([process.execPath, '-e', '']);
  const sec = (ms: number) => (ms / 1000).toFixed(3);
  console.log(`bare node -e "": wall ${sec(bare[0])} s, cpu ${sec(bare[1])} s (medians of ${N}; cells: wall/cpu, +difference to bare node)`);
  console.log('backend     bin                               db_version                      no-op db_sync');
  for (const backend of ['sqlite', 'postgresql', 'mysql'] as Backend[]) {
    const db = freshDb(backend);
    try {
      for (const bin of bins) {
        const hm = (cmd: string) => [process.execPath, bin, '--config-file', conf, cmd];
        run(hm('db_sync'), db.url); // to the latest version: what follows is a no-op
        const v = timesOf(hm('db_version'), db.url);
        const s = timesOf(hm('db_sync'), db.url);
        const cell = ([w, c]: [number, number]) => `${sec(w)}/${sec(c)} (+${sec(w - bare[0])}/+${sec(c - bare[1])})`.padEnd(32);
        console.log(`${backend.padEnd(11)} ${bin.replace(DIST, 'dist').padEnd(33)} ${cell(v)}${cell(s)}`);
      }
    } finally {
      db.drop();
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
