/**
 * `node dist/bench/pyjson.js [--seed 42] [--rounds 5]`: the Python-compatible codec
 * (migrate_repo/lib/pyjson.ts) against V8's JSON on the realistic templates (bench/README.md).
 * Prints MB/s of template text for loads vs JSON.parse and dumps vs JSON.stringify (each encoder
 * on its own decoder's result of the same documents), and the ratios; the targets are
 * loads >= 1/4 of JSON.parse and dumps >= 1/3 of JSON.stringify.
 */
import { dumps, loads, type PyJson } from '../migrate_repo/lib/pyjson.js';
import { templatePool } from './dataset-realistic.js';

function arg(k: string, d: string): string {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : d;
}

const docs = templatePool(1500, { seed: Number(arg('seed', '42')) }).map((t) => t.text);
const rounds = Number(arg('rounds', '5'));
const bytes = docs.reduce((a, t) => a + Buffer.byteLength(t), 0);

/**
 * Best of `rounds` timings of f over every document (ms of process CPU time, user + system: on a
 * shared machine wall time mostly measures the other processes).
 */
function best(f: (i: number) => unknown): number {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < docs.length; i++) f(i);
    const d = process.cpuUsage(t0);
    min = Math.min(min, (d.user + d.system) / 1000);
  }
  return min;
}

const parsedJs = docs.map((t) => JSON.parse(t) as unknown);
const parsedPy = docs.map((t) => loads(t));
let sink = 0;
const tParse = best((i) => (sink += (JSON.parse(docs[i]!) as object) ? 1 : 0));
const tLoads = best((i) => (sink += loads(docs[i]!) ? 1 : 0));
const tStringify = best((i) => (sink += JSON.stringify(parsedJs[i]).length));
const tDumps = best((i) => (sink += dumps(parsedPy[i] as PyJson).length));
const mbs = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
const lines = [
  `documents: ${docs.length}, ${(bytes / 1e6).toFixed(1)} MB (best of ${rounds} rounds, process CPU time)`,
  `JSON.parse      ${tParse.toFixed(0).padStart(6)} ms  ${mbs(tParse).padStart(5)} MB/s`,
  `pyjson.loads    ${tLoads.toFixed(0).padStart(6)} ms  ${mbs(tLoads).padStart(5)} MB/s  ratio ${(tParse / tLoads).toFixed(2)} (target >= 0.25: ${tParse / tLoads >= 0.25 ? 'met' : 'MISSED'})`,
  `JSON.stringify  ${tStringify.toFixed(0).padStart(6)} ms  ${mbs(tStringify).padStart(5)} MB/s`,
  `pyjson.dumps    ${tDumps.toFixed(0).padStart(6)} ms  ${mbs(tDumps).padStart(5)} MB/s  ratio ${(tStringify / tDumps).toFixed(2)} (target >= 0.33: ${tStringify / tDumps >= 1 / 3 ? 'met' : 'MISSED'})`,
];
console.log(lines.join('\n'));
if (sink < 0) console.log(sink);
