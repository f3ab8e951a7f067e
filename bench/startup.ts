/**
 * Start-up: how long `heat-manage db_version` and a no-op `db_sync` take as whole processes, against
 * bare `node -e ""`, on each backend (issue 10 point 5: within 0.10 s of bare node). Median of N
 * runs (default 7), wall time measured around the spawn (finer than /usr/bin/time's 10 ms).
 *
 *   node dist/bench/startup.js [N] [BIN...]      BIN: heat-manage entry points to compare
 *                                                (default dist/bin/heat-manage.js)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, freshDb, type Backend } from './lib.js';

const N = Number(process.argv[2] ?? 7);
const bins = process.argv.slice(3).length ? process.argv.slice(3) : [join(DIST, 'bin', 'heat-manage.js')];
const home = mkdtempSync(join(tmpdir(), 'startup-'));
const conf = join(home, 'heat.conf');

function run(argv: string[], url?: string): number {
  if (url) writeFileSync(conf, `[database]\nconnection = ${url}\n`);
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: home } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${String(r.stderr).slice(-500)}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const timesOf = (argv: string[], url?: string) => median(Array.from({ length: N }, () => run(argv, url)));

try {
  const bare = timesOf([process.execPath, '-e', '']);
  console.log(`bare node -e "": ${(bare / 1000).toFixed(3)} s (median of ${N})`);
  console.log('backend     bin                               db_version        no-op db_sync');
  for (const backend of ['sqlite', 'postgresql', 'mysql'] as Backend[]) {
    const db = freshDb(backend);
    try {
      for (const bin of bins) {
        const hm = (cmd: string) => [process.execPath, bin, '--config-file', conf, cmd];
        run(hm('db_sync'), db.url); // to the latest version: what follows is a no-op
        const v = timesOf(hm('db_version'), db.url);
        const s = timesOf(hm('db_sync'), db.url);
        const cell = (ms: number) => `${(ms / 1000).toFixed(3)} s (+${((ms - bare) / 1000).toFixed(3)})`.padEnd(18);
        console.log(`${backend.padEnd(11)} ${bin.replace(DIST, 'dist').padEnd(33)} ${cell(v)}${cell(s)}`);
      }
    } finally {
      db.drop();
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
