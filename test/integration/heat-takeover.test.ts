/**
 * Issue 16's measurement: our `heat-manage db_sync` taking over from real Heat 6.0.0 killed after
 * EVERY write statement of its 34 -> 71 run (test/fixtures/heat-takeover, made by
 * scripts/heat-harness/takeover.py; its README says how and what the kill verification found).
 *
 * Each point k: a database in the state Heat left when SIGKILLed right after write k (the seed and
 * Heat's statements 1..k replayed; the state is checked against the hash of what the killed process
 * left), then the built CLI `heat-manage db_sync` as an operator runs it, then:
 *   C converged   exit 0 and exactly real Heat's result: the schema, every row, next AUTO_INCREMENT /
 *                 sequence positions
 *   R refused     exit 1, one line, the database unchanged (catalog and rows as before the run)
 *   B bad         anything else: a wrong result, or a failure that changed the database
 * Issue 16 requires C everywhere, or R where the data a step needs is already gone.
 *
 * Speed (CI): the replay walks the log once per backend and copies the database at each point
 * (PostgreSQL CREATE DATABASE ... TEMPLATE; MariaDB: SHOW CREATE TABLE + rows, support/heat-takeover.ts);
 * points run in a bounded pool; a point inside step S runs `db_sync S` and must leave exactly Heat's
 * state at the end of S (kills.tsv: the state Heat left after S's version bump), while the point at
 * S's version bump runs `db_sync` to 71 and must leave real Heat's end state. A mid-step point counts
 * as converged only when the point at its step's bump converges too: from the same state the rest of
 * the run is the same (our db_sync's own table migrate_log is the only difference, and it holds no
 * interrupted step then). HEAT_TAKEOVER_FULL=1 runs every point to 71 instead; HEAT_TAKEOVER_JOBS
 * sets the pool (default 3); HEAT_TAKEOVER_ONLY=mysql|postgresql runs one backend.
 *
 * The expectation list below is today's outcome of every point, one letter per write of a step in
 * order: C, R, B as above; lower-case r = a refusal judged right (the data is gone). A point whose
 * expectation is not C or r is a node:test `todo`: reported, not failing CI. When a step is fixed, the
 * test prints the new strings (`expectation now:`) to paste here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, MYSQL_SERVER, PG_SERVER, serverQuery, skipUnlessReachable } from '../support/db.js';
import { runHeat, plainLines } from '../support/heat-cli.js';
import { catalogFacts, readCatalog } from '../support/heat-catalog.js';
import {
  cloneDatabase, copyScript, loadTakeover, Replayer, replay, sha256, snapshot, upto, type Takeover, type TakeoverDialect,
} from '../support/heat-takeover.js';

// one step per line (helpers working on different steps merge cleanly)
const EXPECTED: Record<TakeoverDialect, Record<string, string>> = {
  mysql: {
    '034': 'C',
    '035': 'CCCCCCCCCCCCCCCCCCCC',
    '036': 'CC',
    '037': 'CCCCCCCCCCCCCCCCCCC',
    '038': 'CCC',
    '039': 'CC',
    '040': 'CC',
    '041': 'CCCCCCC',
    '042': 'CC',
    // 043 B: Heat writes a copy of the ORIGINAL template once per old version key; killed between two writes of one row, the original of the first key is gone and the state reads as an unmigrated template (undetectable, Heat's own re-run ends the same)
    '043': 'CCCCCCCBCCBCCCCCCCCCCC',
    '044': 'CCC',
    '045': 'CCCCC',
    '046': 'CC',
    '047': 'CCCCCCCCCCCCCCCCCC',
    '048': 'C',
    '049': 'CC',
    '050': 'CC',
    '051': 'CC',
    '052': 'CCC',
    '053': 'CCC',
    '054': 'CCC',
    '055': 'CCCCC',
    '056': 'CCCCCC',
    '057': 'CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC',
    '058': 'CCC',
    '059': 'CC',
    '060': 'CCCCCCC',
    '061': 'CCCC',
    '062': 'CC',
    '063': 'CCC',
    '064': 'CCC',
    '065': 'CCCCCCCCCCCCCCCCCCCCCCCCC',
    '066': 'C',
    '067': 'C',
    '068': 'C',
    '069': 'C',
    '070': 'C',
    '071': 'CC',
  },
  postgresql: {
    '034': 'C',
    '035': 'CCCCCCCCCCCCCCCCCCCCCC',
    '036': 'CC',
    '037': 'CCCCCCCCCCCCCCCCCCC',
    '038': 'CCC',
    '039': 'CC',
    '040': 'CC',
    '041': 'CCCCCCC',
    '042': 'CC',
    // 043 B: Heat writes a copy of the ORIGINAL template once per old version key; killed between two writes of one row, the original of the first key is gone and the state reads as an unmigrated template (undetectable, Heat's own re-run ends the same)
    '043': 'CCCCCBCCBCCCCCCCCCCCCC',
    '044': 'CCC',
    '045': 'CCCCC',
    '046': 'CC',
    '047': 'CCCCCCCCCCCCCCCCCC',
    '048': 'CC',
    '049': 'CC',
    '050': 'CC',
    '051': 'CC',
    '052': 'CCC',
    '053': 'CCC',
    '054': 'CCC',
    '055': 'CCCCC',
    '056': 'CCCCCC',
    '057': 'CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC',
    '058': 'CCC',
    '059': 'CC',
    '060': 'CCCCCCC',
    '061': 'CCCC',
    '062': 'CC',
    '063': 'CCC',
    '064': 'CCC',
    '065': 'CCCCCCCCCCCCCCCCCCCCCCCCC',
    '066': 'C',
    '067': 'C',
    '068': 'C',
    '069': 'C',
    '070': 'C',
    '071': 'CC',
  },
};

const FULL = process.env.HEAT_TAKEOVER_FULL === '1';
const JOBS = Math.max(1, Number(process.env.HEAT_TAKEOVER_JOBS ?? 3));

type Outcome = 'C' | 'R' | 'B';
interface Point {
  /** write number in log.jsonl; 0 = the seed itself (Heat's state at 34) */
  readonly k: number;
  readonly step: number;
  /** 0-based position among the points of its step */
  readonly index: number;
  readonly last: boolean;
}
interface Result {
  outcome: Outcome;
  detail: string;
}

function pointsOf(f: Takeover): Point[] {
  const writes = f.log.filter((e) => e.write && e.error === undefined);
  const out: Point[] = [{ k: 0, step: 34, index: 0, last: true }];
  writes.forEach((e, i) => {
    const index = i === 0 || writes[i - 1]!.step !== e.step ? 0 : out[out.length - 1]!.index + 1;
    out.push({ k: e.k!, step: e.step!, index, last: i === writes.length - 1 || writes[i + 1]!.step !== e.step });
  });
  return out;
}

const urlOf = (dialect: TakeoverDialect, name: string) => `${dialect === 'mysql' ? MYSQL_SERVER : PG_SERVER}/${name}`;
const dropDb = (dialect: TakeoverDialect, name: string) =>
  serverQuery(dialect, dialect === 'mysql' ? `DROP DATABASE IF EXISTS \`${name}\`` : `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);

/** Heat's state hash at each point: the killed process's (kills.tsv), else our replay's. */
function heatSha(f: Takeover, k: number): string | null {
  return f.kills.find((p) => p.k === k)?.sha256 ?? null;
}

/** Milliseconds spent per phase (summed over the points of a backend), for the timing line. */
const phases: Record<string, number> = {};
async function timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    phases[phase] = (phases[phase] ?? 0) + performance.now() - t0;
  }
}

async function runPoint(f: Takeover, p: Point, name: string, ends: Map<number, string>): Promise<Result> {
  const { dialect } = f;
  const db = { dialect, name };
  const recorded = heatSha(f, p.k);
  const before = sha256(await timed('snapshot', () => snapshot(db)));
  if (recorded !== null && before !== recorded) {
    return { outcome: 'B', detail: `the replayed state is not the state the killed Heat left (sha ${before.slice(0, 12)} vs ${recorded.slice(0, 12)})` };
  }
  const toEnd = FULL || p.last;
  const r = await timed('db_sync', () => runHeat(['db_sync', ...(toEnd ? [] : [String(p.step)])], { url: urlOf(dialect, name), timeoutMs: 120_000 }));
  const after = sha256(await timed('snapshot', () => snapshot(db)));
  const want = toEnd ? ends.get(71)! : ends.get(p.step)!;
  const lines = plainLines(r.stderr);
  if (r.code === 0 && after === want) return { outcome: 'C', detail: '' };
  const first = (lines.find((l) => l.startsWith('ERROR')) ?? lines[0] ?? '').slice(0, 200);
  if (r.code === 1 && lines.length === 1 && after === before) return { outcome: 'R', detail: first };
  const what = r.code === 0 ? `exit 0 but not Heat's state at ${toEnd ? 71 : p.step}` : `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, ${after === before ? 'unchanged' : 'database CHANGED'}${lines.length > 1 ? `, ${lines.length} lines` : ''}`;
  return { outcome: 'B', detail: `${what}: ${first}` };
}

/** Runs every point of one backend; results by k. */
async function measure(f: Takeover, points: readonly Point[], log: (s: string) => void): Promise<Map<number, Result>> {
  const { dialect } = f;
  const results = new Map<number, Result>();
  // Heat's state at the end of each step (its bump) and at 71
  const ends = new Map<number, string>();
  for (const p of points) if (p.last && p.k > 0) ends.set(p.step, heatSha(f, p.k) ?? '');
  ends.set(71, sha256(catalogFacts(readCatalog(dialect, 71)).map((l) => `${l}\n`).join('') + f.end));
  const steps = [...new Set(points.map((p) => p.step))];
  const walker = await createTestDatabase(dialect);
  const inFlight = new Set<Promise<void>>();
  const bases: Promise<void>[] = [];
  let n = 0;
  const t0 = Date.now();
  try {
    await replay({ dialect, name: walker.name }, f.header.session, f.seed);
    const seedSha = sha256(await snapshot({ dialect, name: walker.name }));
    const r = new Replayer({ dialect, name: walker.name }, f.header.session);
    let pos = 0; // log entries applied to the walker: always up to a step's version bump
    let startSha = heatSha(f, 0) ?? seedSha;
    for (const step of steps) {
      const whole = points.filter((p) => p.step === step);
      const group = selected(step) ? whole : [];
      const from = pos;
      const jobs: Promise<void>[] = [];
      if (group.length) {
      // the state before the step's first write, copied once; each point = a copy + the step's statements up to it
      await r.close();
      const base = `${walker.name}_s${step}`;
      await timed('copy', () => cloneDatabase(dialect, walker.name, base));
      const script = await copyScript(dialect, base);
      const baseSha = sha256(await timed('snapshot', () => snapshot({ dialect, name: base })));
      for (const p of group) {
        const name = `${walker.name}_${p.k}`;
        const job = (async (): Promise<Result> => {
          if (baseSha !== startSha) return { outcome: 'B', detail: `the replayed state before step ${step} is not real Heat's` };
          await timed('copy', () => cloneDatabase(dialect, base, name, script));
          if (p.k > 0) await timed('replay', () => replay({ dialect, name }, f.header.session, upto(f.log, p.k).slice(from)));
          return runPoint(f, p, name, ends);
        })()
          .catch((e: unknown): Result => ({ outcome: 'B', detail: `harness error: ${(e as Error).message}` }))
          .then(async (res) => {
            results.set(p.k, res);
            await timed('drop', () => dropDb(dialect, name));
            if (++n % 40 === 0) log(`${dialect}: ${n}/${points.length} points in ${Math.round((Date.now() - t0) / 1000)} s`);
          });
        const tracked = job.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        jobs.push(tracked);
        if (inFlight.size >= JOBS) await Promise.race(inFlight);
      }
      bases.push(Promise.all(jobs).then(async () => void (await dropDb(dialect, base))));
      }
      const last = whole[whole.length - 1]!;
      if (last.k > 0) {
        const pre = upto(f.log, last.k);
        await timed('replay', () => r.apply(pre.slice(pos)));
        pos = pre.length;
        startSha = ends.get(step)!;
      }
    }
    await Promise.all(inFlight);
    await Promise.all(bases);
    await r.close();
  } finally {
    await walker.drop();
  }
  // a mid-step point reaches 71 only if the point at its step's bump does
  for (const p of points) {
    if (p.last || FULL || !results.has(p.k)) continue;
    const end = points.find((q) => q.step === p.step && q.last)!;
    const res = results.get(p.k)!;
    if (res.outcome === 'C' && results.get(end.k)!.outcome !== 'C') {
      results.set(p.k, { outcome: 'B', detail: `finished step ${p.step} exactly, but from there db_sync does not reach Heat's 71 (write ${end.k})` });
    }
  }
  log(`${dialect}: ${points.length} points in ${Math.round((Date.now() - t0) / 1000)} s (pool ${JOBS}${FULL ? ', every point to 71' : ''}); ` +
    `time summed over points: ${Object.entries(phases).map(([k, v]) => `${k} ${Math.round(v / 1000)} s`).join(', ')}`);
  for (const k of Object.keys(phases)) delete phases[k];
  return results;
}

function table(dialect: TakeoverDialect, points: readonly Point[], results: Map<number, Result>): string[] {
  const out = [`${dialect}: step  points  converged  refused  bad`];
  const steps = [...new Set(points.map((p) => p.step))];
  const sum = { n: 0, C: 0, R: 0, B: 0 };
  for (const s of steps) {
    const ps = points.filter((p) => p.step === s);
    const c = (o: Outcome) => ps.filter((p) => results.get(p.k)?.outcome === o).length;
    sum.n += ps.length;
    sum.C += c('C');
    sum.R += c('R');
    sum.B += c('B');
    out.push(`${dialect}: ${String(s).padStart(3, '0')}   ${String(ps.length).padStart(6)}  ${String(c('C')).padStart(9)}  ${String(c('R')).padStart(7)}  ${String(c('B')).padStart(3)}`);
  }
  out.push(`${dialect}: all   ${String(sum.n).padStart(6)}  ${String(sum.C).padStart(9)}  ${String(sum.R).padStart(7)}  ${String(sum.B).padStart(3)}`);
  return out;
}

const key = (step: number) => String(step).padStart(3, '0');

const ONLY = process.env.HEAT_TAKEOVER_ONLY; // 'mysql' or 'postgresql': one backend (while working on a step)
/** HEAT_TAKEOVER_STEPS=35-43,57: only the points of those steps are run (the walker still replays every step). */
const STEPS = (process.env.HEAT_TAKEOVER_STEPS ?? '')
  .split(',')
  .filter(Boolean)
  .map((r) => r.split('-').map(Number) as [number, number?]);
function selected(step: number): boolean {
  return !STEPS.length || STEPS.some(([a, b]) => step >= a && step <= (b ?? a));
}

for (const dialect of (['mysql', 'postgresql'] as TakeoverDialect[]).filter((d) => !ONLY || d === ONLY)) {
  const f = loadTakeover(dialect);
  const all = pointsOf(f);
  const points = all.filter((p) => selected(p.step));
  describe(`db_sync takes over from real Heat killed after each write, on ${dialect}`, await skipUnlessReachable(dialect), () => {
    let results = new Map<number, Result>();
    const notes: string[] = [];
    before(async () => {
      results = await measure(f, all, (s) => notes.push(s));
    }, { timeout: 20 * 60_000 });

    for (const p of points) {
      const exp = EXPECTED[dialect][key(p.step)]?.[p.index] ?? '?';
      const right = exp === 'C' || exp === 'r';
      const name = p.k === 0 ? 'the seed (Heat at 34)' : `step ${key(p.step)} point ${p.index + 1} (write ${p.k}${p.last ? ', the version bump' : ''})`;
      test(name, right ? {} : { todo: `today: ${exp}` }, () => {
        const r = results.get(p.k);
        assert.ok(r, 'measured');
        assert.equal(r.outcome, exp.toUpperCase(), r.detail);
      });
    }

    after(() => {
      if (!results.size) return;
      for (const l of [...notes, ...table(dialect, points, results)]) console.log(`# ${l}`);
      const now: Record<string, string> = {};
      for (const p of points) now[key(p.step)] = (now[key(p.step)] ?? '') + results.get(p.k)!.outcome;
      const changed = Object.entries(now).filter(([s, v]) => (EXPECTED[dialect][s] ?? '').toUpperCase() !== v);
      if (changed.length) {
        console.log(`# ${dialect}: expectation now (paste into EXPECTED.${dialect}, keeping lower-case r where a refusal was judged right):`);
        console.log(`#   ${JSON.stringify(now)}`);
      }
      for (const p of points) {
        const r = results.get(p.k)!;
        if (r.outcome !== 'C') console.log(`# ${dialect} ${key(p.step)} #${p.index + 1} (write ${p.k}) ${r.outcome}: ${r.detail}`);
      }
    });
  });
}

