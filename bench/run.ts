/**
 * `npm run bench [-- --cases startup,pyjson,empty,noop,steps,data,realistic,realistic-big,purge] [--backends mysql,postgresql,sqlite]
 *                 [--runs 5] [--sizes 1000,10000,100000] [--data-runs 1] [--json out.json] [--baseline ../main/dist]`
 *
 * Every figure is a whole process (node start-up included), median (min-max) over --runs runs,
 * with peak RSS. Each case runs its baselines in the same run, so figures read as ratios.
 * See bench/README.md for the method and the latest results.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetSql } from './dataset.js';
import { casePurge } from './purge.js';
import { loadRealistic } from './dataset-realistic.js';
import { DIST, ROOT, fmt, freshDb, heatManage, stat, timed, type Backend, type BenchDb, type Sample, type Stat } from './lib.js';

interface Row {
  case: string;
  backend: string;
  what: string;
  stat: Stat;
  note?: string;
}

function args() {
  const a = process.argv.slice(2);
  const get = (k: string, d: string) => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 && a[i + 1] ? a[i + 1]! : d;
  };
  return {
    cases: get('cases', 'startup,pyjson,empty,noop,steps,data,realistic,realistic-big').split(','),
    backends: get('backends', 'mysql,postgresql,sqlite').split(',') as Backend[],
    runs: Number(get('runs', '5')),
    sizes: get('sizes', '1000').split(',').map(Number),
    dataRuns: Number(get('data-runs', '1')),
    realisticSizes: get('realistic-sizes', '1000,20000,100000').split(',').map(Number),
    /** Sizes (MB) of the big templates of the realistic-big case (N = 1000). */
    big: get('big', '1,4,8,12').split(',').map(Number),
    seed: Number(get('seed', '42')),
    /** Realistic sizes whose replay floor is measured too (a capture run and a replay: ~2x the time). */
    floorSizes: get('floor', '20000').split(',').map(Number),
    json: get('json', ''),
    /** purge: batch sizes (default: none given, the tool's default). */
    batches: get('batches', '').split(',').filter(Boolean).map(Number),
    /** purge: also time Heat 6.0.0's statements on the same data, at these sizes (PostgreSQL: quadratic, at most 4000). */
    heatSql: get('heat-sql', '2000,20000').split(',').filter(Boolean).map(Number),
    /** Another build's dist/ (e.g. ../main/dist before the fresh install): its empty db_sync is measured too, as the replay it did. */
    baseline: get('baseline', ''),
  };
}

const rows: Row[] = [];
const notes: string[] = [];
function add(r: Row) {
  rows.push(r);
  const s = r.stat;
  console.error(
    `${r.case.padEnd(6)} ${r.backend.padEnd(10)} ${r.what.padEnd(38)} ${fmt(s.median)} s (${fmt(s.min)}-${fmt(s.max)}) ${String(s.rssMb).padStart(4)} MB${r.note ? `  ${r.note}` : ''}`,
  );
}

function repeat(n: number, f: () => Sample): Sample[] {
  return Array.from({ length: n }, f);
}

const FIXTURE: Record<Backend, string> = {
  mysql: 'mysql-71.sql',
  postgresql: 'postgresql-71.sql',
  sqlite: 'sqlite-71.sql',
};
/** Real Heat 6.0.0's `heat-manage db_sync` on an empty database, whole process (issue 19). */
const REAL_TOOL: Record<Backend, number> = { mysql: 1.37, postgresql: 1.82, sqlite: 1.49 };
/** Issue 19 point 3: at most 0.40x the real tool. */
const TARGET: Record<Backend, number> = { mysql: 0.4 * 1.37, postgresql: 0.4 * 1.82, sqlite: 0.4 * 1.49 };

function nodeBare(runs: number): Stat {
  return stat(repeat(runs, () => timed([process.execPath, '-e', ''])));
}

/** Captures the statements one db_sync sends (MIGRATE_SQL_CAPTURE) on a fresh database (`prepare`d first). */
function captureSync(
  backend: Backend,
  argv: (url: string) => string[],
  env: (url: string) => Record<string, string>,
  prepare: (db: BenchDb) => void = () => undefined,
): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-capture-'));
  const file = join(dir, 'sql');
  const db = freshDb(backend);
  try {
    prepare(db);
    timed(argv(db.url), { env: { ...env(db.url), MIGRATE_SQL_CAPTURE: file } });
    return readFileSync(file, 'utf8');
  } finally {
    db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function caseEmpty(b: Backend, runs: number, bare: Stat, baseline: string) {
  const env = (url: string) => ({ OS_DATABASE__CONNECTION: url });
  const syncs = (argv: string[]) =>
    stat(
      repeat(runs, () => {
        const db = freshDb(b);
        try {
          return timed(argv, { env: env(db.url) });
        } finally {
          db.drop();
        }
      }),
    );
  const ours = syncs(heatManage(['db_sync']));
  if (baseline) {
    const replay = syncs([process.execPath, join(baseline, 'bin', 'heat-manage.js'), 'db_sync']);
    add({ case: 'empty', backend: b, what: `baseline db_sync (${baseline})`, stat: replay, note: `${(replay.median / REAL_TOOL[b]).toFixed(2)}x real tool` });
  }
  const captured = captureSync(b, () => heatManage(['db_sync']), env);
  const statements = captured.split(';\n').length - 1;
  const floor = stat(
    repeat(runs, () => {
      const db = freshDb(b);
      try {
        return timed(db.clientArgv(true), { input: captured, allowFail: true });
      } finally {
        db.drop();
      }
    }),
  );
  const schema = readFileSync(join(ROOT, 'test', 'fixtures', 'heat-schema', FIXTURE[b]), 'utf8');
  const load = stat(
    repeat(runs, () => {
      const db = freshDb(b);
      try {
        return timed(db.clientArgv(), { input: schema });
      } finally {
        db.drop();
      }
    }),
  );
  const ratio = ours.median / REAL_TOOL[b];
  const overFloor = ours.median - floor.median;
  add({
    case: 'empty',
    backend: b,
    what: 'heat-manage db_sync (27 -> 71)',
    stat: ours,
    note: `${ratio.toFixed(2)}x real tool (${REAL_TOOL[b]} s); target <= ${TARGET[b].toFixed(3)} s: ${ours.median <= TARGET[b] ? 'met' : 'MISSED'}`,
  });
  add({
    case: 'empty',
    backend: b,
    what: `statement floor (${statements} stmts, db client)`,
    stat: floor,
    note: `ours - floor = ${fmt(overFloor)} s; target <= 0.200: ${overFloor <= 0.2 ? 'met' : 'MISSED'}`,
  });
  add({ case: 'empty', backend: b, what: 'load final schema (db client)', stat: load });
  add({ case: 'empty', backend: b, what: 'node -e ""', stat: bare });
}

function caseNoop(b: Backend, runs: number, bare: Stat) {
  const db = freshDb(b);
  try {
    const env = { OS_DATABASE__CONNECTION: db.url };
    timed(heatManage(['db_sync']), { env });
    for (const [what, argv] of [
      ['heat-manage db_version', heatManage(['db_version'])],
      ['heat-manage db_sync (no-op at 71)', heatManage(['db_sync'])],
      ['migrate db_version', [process.execPath, join(DIST, 'bin', 'migrate.js'), 'db_version', db.url, join(DIST, 'migrate_repo')]],
    ] as const) {
      const s = stat(repeat(runs, () => timed([...argv], { env })));
      const over = s.median - bare.median;
      const target = what.startsWith('migrate') ? 0.15 : 0.1;
      add({ case: 'noop', backend: b, what, stat: s, note: `node + ${fmt(over)} s; target <= ${target}: ${over <= target ? 'met' : 'MISSED'}` });
    }
  } finally {
    db.drop();
  }
}

function caseSteps(b: Backend, runs: number, bare: Stat) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-steps-'));
  const repo = join(dir, 'repo');
  const migrate = (...a: string[]) => [process.execPath, join(DIST, 'bin', 'migrate.js'), ...a];
  try {
    timed(migrate('create', repo, 'steps'));
    mkdirSync(join(repo, 'versions'), { recursive: true });
    const n = 1000;
    // .mjs: explicit ESM (a .js file outside any package.json "type" makes Node parse it twice to
    // detect its format, which is not the engine's cost).
    for (let i = 1; i <= n; i++) {
      writeFileSync(join(repo, 'versions', `${String(i).padStart(3, '0')}_step.mjs`), 'export async function upgrade(e) { await e.query("SELECT 1"); }\n');
    }
    const one = (env: Record<string, string> = {}) => {
      const db = freshDb(b);
      try {
        timed(migrate('version_control', db.url, repo));
        return { sample: timed(migrate('upgrade', db.url, repo), { env }), db };
      } finally {
        db.drop();
      }
    };
    const ours = stat(repeat(runs, () => one().sample));
    const capDir = mkdtempSync(join(tmpdir(), 'bench-capture-'));
    const capFile = join(capDir, 'sql');
    one({ MIGRATE_SQL_CAPTURE: capFile });
    const captured = readFileSync(capFile, 'utf8');
    rmSync(capDir, { recursive: true, force: true });
    const floor = stat(
      repeat(runs, () => {
        const db = freshDb(b);
        try {
          timed(migrate('version_control', db.url, repo));
          return timed(db.clientArgv(true), { input: captured, allowFail: true });
        } finally {
          db.drop();
        }
      }),
    );
    const perStep = ((ours.median - floor.median - bare.median) / n) * 1000;
    add({
      case: 'steps',
      backend: b,
      what: `migrate upgrade, ${n} trivial steps`,
      stat: ours,
      note: `tool overhead ${perStep.toFixed(2)} ms/step; target <= 1: ${perStep <= 1 ? 'met' : 'MISSED'}`,
    });
    add({ case: 'steps', backend: b, what: `replay floor (${captured.split(';\n').length - 1} stmts)`, stat: floor });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function caseData(b: Backend, size: number, runs: number) {
  const breakdown = new Map<string, number[]>();
  const samples: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    const db = freshDb(b);
    try {
      const env = { OS_DATABASE__CONNECTION: db.url };
      timed(heatManage(['db_sync', '34']), { env });
      const t0 = Date.now();
      db.client(`${datasetSql(b, size).join(';\n')};\n`);
      const loadS = (Date.now() - t0) / 1000;
      const res = timed(heatManage(['--log-json', 'db_sync']), { env });
      samples.push(res);
      for (const line of (res.stderr ?? '').split('\n')) {
        const m = /"ms":(\d+),"msg":"(\d+ -> \d+ \([^)]+\))/.exec(line);
        if (m) breakdown.set(m[2]!, [...(breakdown.get(m[2]!) ?? []), Number(m[1])]);
      }
      notes.push(`data ${b} N=${size}: dataset loaded in ${loadS.toFixed(1)} s`);
    } finally {
      db.drop();
    }
  }
  const s = stat(samples);
  const target = b === 'mysql' && size === 20000 ? `; target <= 30 s and <= 150 MB: ${s.median <= 30 && s.rssMb <= 150 ? 'met' : 'MISSED'}` : '';
  add({ case: 'data', backend: b, what: `db_sync 34 -> 71, N = ${size}`, stat: s, note: `${(s.median / size * 1e6).toFixed(0)} us/stack${target}` });
  const top = [...breakdown.entries()].map(([k, v]) => [k, v.sort((a, c) => a - c)[Math.floor(v.length / 2)]!] as const).sort((x, y) => y[1] - x[1]).slice(0, 6);
  notes.push(`data ${b} N=${size} slowest steps: ${top.map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
}

interface HeapPeak {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/**
 * The realistic dataset (bench/dataset-realistic.ts) at version 34, then `heat-manage db_sync`
 * 34 -> 71 under the heap sampler: time, peak RSS, peak V8 heap, and 037/041/043 in MB of template
 * text per second.
 */
function caseRealistic(b: Backend, size: number, runs: number, o: { seed: number; bigMb: number[]; floor?: boolean }) {
  const label = o.bigMb.length ? `realistic-big` : 'realistic';
  const breakdown = new Map<string, number[]>();
  const samples: Sample[] = [];
  const heaps: HeapPeak[] = [];
  let templateMb = 0;
  let maxTemplateMb = 0;
  for (let r = 0; r < runs; r++) {
    const db = freshDb(b);
    const dir = mkdtempSync(join(tmpdir(), 'bench-heap-'));
    try {
      const env = { OS_DATABASE__CONNECTION: db.url };
      const t0 = Date.now();
      loadRealistic(db, b, size, { seed: o.seed, big: o.bigMb.map((m) => Math.round(m * 1024 * 1024)) });
      const loadS = (Date.now() - t0) / 1000;
      const len = b === 'mysql' ? 'LENGTH' : 'OCTET_LENGTH';
      const [sum, max] = db.value(`SELECT SUM(${len}(template)), MAX(${len}(template)) FROM raw_template`).split(/[\s|]+/).map(Number);
      templateMb = sum! / 1e6;
      maxTemplateMb = max! / 1e6;
      const heapFile = join(dir, 'heap.json');
      const argv = heatManage(['--log-json', 'db_sync']);
      const res = timed([argv[0]!, '--import', join(DIST, 'bench', 'heap-sampler.js'), ...argv.slice(1)], {
        env: { ...env, HEAP_SAMPLE_FILE: heapFile },
      });
      samples.push(res);
      heaps.push(JSON.parse(readFileSync(heapFile, 'utf8')) as HeapPeak);
      for (const line of (res.stderr ?? '').split('\n')) {
        const m = /"ms":(\d+),"msg":"(\d+ -> \d+ \([^)]+\))/.exec(line);
        if (m) breakdown.set(m[2]!, [...(breakdown.get(m[2]!) ?? []), Number(m[1])]);
      }
      notes.push(`${label} ${b} N=${size}: dataset loaded in ${loadS.toFixed(1)} s; ${templateMb.toFixed(1)} MB of template text, largest ${maxTemplateMb.toFixed(2)} MB`);
    } finally {
      db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (o.floor) realisticFloor(b, size, o.seed);
  const s = stat(samples);
  const mb = (x: number) => (x / 1048576).toFixed(0);
  const heap = heaps.sort((x, y) => x.heapUsed - y.heapUsed)[Math.floor(heaps.length / 2)]!;
  const med = (k: string) => {
    const v = (breakdown.get([...breakdown.keys()].find((x) => x.startsWith(`${String(Number(k) - 1).padStart(3, '0')} -> 0${k}`)) ?? '') ?? []).sort((a, c) => a - c);
    return v.length ? v[Math.floor(v.length / 2)]! : NaN;
  };
  const rates = ['37', '41', '43'].map((k) => `0${k} ${med(k)} ms = ${(templateMb / (med(k) / 1000)).toFixed(0)} MB/s`).join(', ');
  const target = size === 20000 && !o.bigMb.length ? `; target <= 20 s and <= 150 MB: ${s.median <= 20 && s.rssMb <= 150 ? 'met' : 'MISSED'}` : '';
  add({
    case: label,
    backend: b,
    what: `db_sync 34 -> 71, N = ${size}`,
    stat: s,
    note: `${((s.median / size) * 1e6).toFixed(0)} us/stack; peak heap used ${mb(heap.heapUsed)} MB (total ${mb(heap.heapTotal)}, external ${mb(heap.external)}, array buffers ${mb(heap.arrayBuffers)}); ${rates}${target}`,
  });
  const top = [...breakdown.entries()].map(([k, v]) => [k, v.sort((a, c) => a - c)[Math.floor(v.length / 2)]!] as const).sort((x, y) => y[1] - x[1]).slice(0, 6);
  notes.push(`${label} ${b} N=${size} slowest steps: ${top.map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
}

/**
 * The replay floor of the realistic case (`--floor`): the statements one db_sync 34 -> 71 sent
 * (captured in a run of its own), executed by the database's own client on the same dataset. What
 * the database needs for our SQL; ours - floor is Node, the drivers and our own work.
 */
function realisticFloor(b: Backend, size: number, seed: number) {
  const load = (db: BenchDb) => loadRealistic(db, b, size, { seed });
  const captured = captureSync(b, () => heatManage(['db_sync']), (url) => ({ OS_DATABASE__CONNECTION: url }), load);
  const db = freshDb(b);
  try {
    load(db);
    // Unaligned, no headers: the client's own formatting of the rows it reads (psql aligns
    // whole result sets of templates) is not the database's time.
    const quiet = b === 'postgresql' ? ['-A', '-t'] : ['-B', '-N'];
    const floor = timed([...db.clientArgv(), ...quiet], { input: captured });
    add({ case: 'realistic', backend: b, what: `replay floor, N = ${size} (db client)`, stat: stat([floor]), note: `${captured.split(';\n').length - 1} statements, ${(captured.length / 1e6).toFixed(0)} MB of SQL` });
  } finally {
    db.drop();
  }
}

/** A case that is a script of its own (bench/startup.ts, bench/pyjson.ts): its output goes into the notes. */
function scriptCase(script: string, args: string[], target: string) {
  const r = spawnSync(process.execPath, [join(DIST, 'bench', script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/${script} exited ${r.status}: ${r.stderr.slice(-500)}`);
  process.stderr.write(r.stdout);
  notes.push(`node dist/bench/${script} ${args.join(' ')} (${target}):\n\n\`\`\`\n${r.stdout.trim()}\n\`\`\``);
}

async function main() {
  const o = args();
  // Start-up: wall and CPU time per process against bare node, every backend.
  if (o.cases.includes('startup')) scriptCase('startup.js', [String(Math.max(o.runs, 7))], 'target: heat-manage within 0.10 s of bare node');
  // The codec: pyjson loads/dumps against JSON.parse/stringify on the realistic templates.
  if (o.cases.includes('pyjson')) scriptCase('pyjson.js', ['--rounds', '15'], "targets: loads >= 0.25, dumps >= 0.33 of V8's JSON");
  const bare = nodeBare(o.runs);
  for (const b of o.backends) {
    if (o.cases.includes('empty')) caseEmpty(b, o.runs, bare, o.baseline);
    if (o.cases.includes('noop')) caseNoop(b, o.runs, bare);
    if (o.cases.includes('steps')) caseSteps(b, Math.min(o.runs, 3), bare);
    if (o.cases.includes('data') && b !== 'sqlite') for (const n of o.sizes) caseData(b, n, o.dataRuns);
    if (o.cases.includes('purge') && b !== 'sqlite') {
      for (const n of o.sizes) {
        notes.push(...casePurge(b, n, o.dataRuns, o.batches, add, { heatStatements: o.heatSql.includes(n) && (b === 'mysql' || n <= 4000) }).notes);
      }
    }
    if (o.cases.includes('realistic') && b !== 'sqlite') {
      for (const n of o.realisticSizes) caseRealistic(b, n, o.dataRuns, { seed: o.seed, bigMb: [], floor: o.floorSizes.includes(n) });
    }
    if (o.cases.includes('realistic-big') && b !== 'sqlite') caseRealistic(b, 1000, o.dataRuns, { seed: o.seed, bigMb: o.big });
  }
  const lines = [
    '| case | backend | what | median s | min-max s | peak MB | note |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.case} | ${r.backend} | ${r.what} | ${fmt(r.stat.median)} | ${fmt(r.stat.min)}-${fmt(r.stat.max)} | ${r.stat.rssMb} | ${r.note ?? ''} |`),
  ];
  console.log(lines.join('\n'));
  for (const n of notes) console.log(`\n- ${n}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), rows, notes }, null, 2));
}

await main();
