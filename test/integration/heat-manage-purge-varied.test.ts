/**
 * `heat-manage purge_deleted` on a varied dataset (issue 19): the rows deleted are exactly those of
 * SPEC §2.3's rules, computed here from the seed by a plain implementation of the rules (not from
 * an earlier run of ours); `--dry-run` predicts them and changes nothing; a kill -9 mid-purge and a
 * re-run end in the same state; on PostgreSQL the temporary indexes (purge-indexes.ts) are ignored
 * by `db_check` while they exist and gone after the run that finishes.
 *
 * The dataset (seeded PRNG, the same on every backend): stacks live, expired, deleted exactly at
 * the time line or in the future, in two tenants, with owners (some dangling); templates shared
 * between stacks, previous templates, resources pointing at their own, another stack's or no
 * template; shared and missing credentials; resource data, events, snapshots, tags, stuck locks,
 * sync points, watch rules and their data; expired and live services; a software_config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_DIALECTS, skipUnlessReachable } from '../support/db.js';
import { describeRun, runHeat, startHeat } from '../support/heat-cli.js';
import { makeHeat71, stackRow, type Heat71 } from '../support/heat71.js';

const NOW = '2020-06-01 00:00:00';
const TIME_LINE = '2020-03-03 00:00:00'; // NOW - 90 days (the default AGE)
const env = { HEAT_MANAGE_NOW: NOW };

type R = Record<string, unknown>;
interface Dataset {
  [table: string]: R[];
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sid = (i: number) => `st-${String(i).padStart(4, '0')}`;

export function variedDataset(nStacks: number, seed = 19): Dataset {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const d: Dataset = { raw_template: [], user_creds: [], stack: [], resource: [], resource_data: [], event: [], snapshot: [], stack_tag: [], stack_lock: [], sync_point: [], watch_rule: [], watch_data: [], service: [], software_config: [] };
  const nTemplates = Math.round(nStacks * 1.1);
  for (let t = 1; t <= nTemplates; t++) d.raw_template!.push({ id: t, template: `{"heat_template_version": "2015-10-15", "description": "t${t} ✓"}`, environment: '{"parameters": {}}', files: '{}' });
  const nCreds = Math.round(nStacks * 0.6);
  for (let c = 1; c <= nCreds; c++) d.user_creds!.push({ id: c, username: `user-${c}`, password: 'x', decrypt_method: 'cryptography_decrypt_v1', tenant: 't' });
  let id = 0;
  for (let i = 0; i < nStacks; i++) {
    const x = r();
    const deleted_at = x < 0.5 ? pick(['2020-01-01 00:00:00', '2020-02-29 23:59:59', '2019-06-01 12:00:00']) : x < 0.58 ? TIME_LINE : x < 0.63 ? '2020-05-01 00:00:00' : x < 0.66 ? '2030-01-01 00:00:00' : null;
    const own = (i % nTemplates) + 1;
    d.stack!.push(
      stackRow({
        id: sid(i),
        raw_template_id: r() < 0.2 && i > 0 ? (d.stack![Math.floor(r() * i)]!.raw_template_id as number) : own,
        prev_raw_template_id: r() < 0.25 ? Math.floor(r() * nTemplates) + 1 : null,
        user_creds_id: r() < 0.3 ? null : Math.floor(r() * nCreds) + 1,
        owner_id: r() < 0.3 ? (r() < 0.2 ? 'gone-owner' : sid(Math.floor(r() * nStacks))) : null,
        tenant: r() < 0.8 ? 'tenant-a' : 'tenant-b',
        deleted_at,
      }),
    );
  }
  for (const s of d.stack!) {
    for (let k = Math.floor(r() * 5); k > 0; k--) {
      const y = r();
      const rid = ++id;
      d.resource!.push({ id: rid, name: `r${rid}`, stack_id: s.id, status: 'COMPLETE', current_template_id: y < 0.6 ? s.raw_template_id : y < 0.8 ? Math.floor(r() * nTemplates) + 1 : null });
      for (let m = Math.floor(r() * 3); m > 0; m--) d.resource_data!.push({ id: ++id, resource_id: rid, key: `k${m}`, value: 'v', redact: false });
    }
    for (let k = Math.floor(r() * 6); k > 0; k--) d.event!.push({ id: ++id, stack_id: s.id, resource_name: 'r', resource_status_reason: 'état ✓', uuid: `ev-${id}` });
    if (r() < 0.3) d.snapshot!.push({ id: `snap-${++id}`, stack_id: s.id, tenant: 't', name: 'before upgrade', data: '{"resources": {}}' });
    for (let k = Math.floor(r() * 3); k > 0; k--) d.stack_tag!.push({ id: ++id, stack_id: s.id, tag: `tag${k}` });
    if (r() < 0.1) d.stack_lock!.push({ stack_id: s.id, engine_id: 'dead-engine' });
    if (r() < 0.15) d.sync_point!.push({ entity_id: `ent-${++id}`, traversal_id: 'trav-1', is_update: true, atomic_key: 1, stack_id: s.id, input_data: '{}' });
    if (r() < 0.1) {
      const wid = ++id;
      d.watch_rule!.push({ id: wid, name: `w${wid}`, stack_id: s.id, state: 'NORMAL' });
      for (let k = Math.floor(r() * 3); k > 0; k--) d.watch_data!.push({ id: ++id, watch_rule_id: wid, data: '{}' });
    }
  }
  for (let k = 0; k < 6; k++) {
    d.service!.push({ id: `svc-${k}`, engine_id: `e${k}`, host: 'h', hostname: 'h', binary: 'heat-engine', topic: 'engine', report_interval: 60, deleted_at: k % 2 ? '2020-01-01 00:00:00' : null });
  }
  d.software_config!.push({ id: 'cfg-1', name: 'c', group: 'script', tenant: 't' });
  return d;
}

const KEY: Record<string, string> = { stack_lock: 'stack_id', sync_point: 'entity_id' };
const key = (t: string, row: R) => String(row[KEY[t] ?? 'id']);

/** SPEC §2.3, plainly: the rows left after a purge at TIME_LINE (optionally one tenant's stacks). */
export function expectedAfter(d: Dataset, tenant?: string): Record<string, string[]> {
  const expired = (s: R) => s.deleted_at !== null && String(s.deleted_at) < TIME_LINE && (tenant === undefined || s.tenant === tenant);
  const S = new Set(d.stack!.filter(expired).map((s) => String(s.id)));
  const gone = new Set<string>();
  const rmBy = (t: string, f: (row: R) => boolean) => {
    for (const row of d[t]!) if (f(row)) gone.add(`${t}:${key(t, row)}`);
  };
  for (const t of ['stack_lock', 'stack_tag', 'resource', 'event', 'sync_point', 'snapshot', 'watch_rule']) rmBy(t, (row) => S.has(String(row.stack_id)));
  const goneResources = new Set(d.resource!.filter((x) => S.has(String(x.stack_id))).map((x) => Number(x.id)));
  rmBy('resource_data', (row) => goneResources.has(Number(row.resource_id)));
  const goneRules = new Set(d.watch_rule!.filter((x) => S.has(String(x.stack_id))).map((x) => Number(x.id)));
  rmBy('watch_data', (row) => goneRules.has(Number(row.watch_rule_id)));
  rmBy('stack', (row) => S.has(String(row.id)));
  const kept = d.stack!.filter((s) => !S.has(String(s.id)));
  const keptResources = d.resource!.filter((x) => !S.has(String(x.stack_id)));
  const purged = d.stack!.filter((s) => S.has(String(s.id)));
  const T = new Set(purged.flatMap((s) => [s.raw_template_id, s.prev_raw_template_id]).filter((x) => x !== null).map(Number));
  const usedT = new Set([...kept.flatMap((s) => [s.raw_template_id, s.prev_raw_template_id]), ...keptResources.map((x) => x.current_template_id)].filter((x) => x !== null).map(Number));
  rmBy('raw_template', (row) => T.has(Number(row.id)) && !usedT.has(Number(row.id)));
  const C = new Set(purged.map((s) => s.user_creds_id).filter((x) => x !== null).map(Number));
  const usedC = new Set(kept.map((s) => s.user_creds_id).filter((x) => x !== null).map(Number));
  rmBy('user_creds', (row) => C.has(Number(row.id)) && !usedC.has(Number(row.id)));
  rmBy('service', (row) => row.deleted_at !== null && String(row.deleted_at) < TIME_LINE);
  const out: Record<string, string[]> = {};
  for (const t of Object.keys(d)) out[t] = d[t]!.filter((row) => !gone.has(`${t}:${key(t, row)}`)).map((row) => key(t, row)).sort();
  return out;
}

async function seed(h: Heat71, d: Dataset): Promise<void> {
  await h.reset();
  const order = ['raw_template', 'user_creds', 'stack', 'resource', 'resource_data', 'event', 'snapshot', 'stack_tag', 'stack_lock', 'sync_point', 'watch_rule', 'watch_data', 'service', 'software_config'];
  for (const t of order) {
    const rows = d[t]!.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k.endsWith('_at') && typeof v === 'string' ? h.ts(v) : v])));
    // Same columns in every row of a multi-row INSERT: fill the missing ones with NULL.
    const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))];
    await h.insertMany(t, rows.map((x) => Object.fromEntries(cols.map((c) => [c, x[c] ?? null]))));
  }
}

async function state(h: Heat71, tables: readonly string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const col = KEY[t] ?? 'id';
    out[t] = (await h.db.query(`SELECT ${h.text(h.q(col))} AS k FROM ${h.q(t)}`)).map((x) => String(x.k)).sort();
  }
  return out;
}

/** Rows per table that a purge to `after` deletes from `before`. */
function deleted(before: Record<string, string[]>, after: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(Object.keys(before).map((t) => [t, before[t]!.length - after[t]!.length]));
}

async function tempIndexes(h: Heat71): Promise<string[]> {
  if (h.dialect !== 'postgresql') return [];
  return (await h.db.query("SELECT indexname AS n FROM pg_indexes WHERE indexname LIKE 'migrate\\_purge\\_%' ORDER BY 1")).map((x) => String(x.n));
}

for (const dialect of ALL_DIALECTS) {
  describe(`purge_deleted on a varied dataset (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 600_000 }, () => {
    let h: Heat71;
    const data = variedDataset(160);
    const tables = Object.keys(data);
    before(async () => {
      h = await makeHeat71(dialect);
    });
    after(async () => h?.db.drop());

    test('the dataset is varied: every rule has rows to act on', () => {
      const exp = expectedAfter(data);
      const d = deleted(Object.fromEntries(tables.map((t) => [t, data[t]!.map((r) => key(t, r))])), exp);
      for (const t of ['stack', 'stack_lock', 'stack_tag', 'resource', 'resource_data', 'event', 'sync_point', 'snapshot', 'watch_rule', 'watch_data', 'raw_template', 'user_creds', 'service']) {
        assert.ok(d[t]! > 0, `${t}: some rows go`);
        assert.ok(exp[t]!.length > 0, `${t}: some rows stay`);
      }
      assert.equal(d.software_config, 0);
    });

    test('--dry-run prints what the rules delete, and changes nothing', async () => {
      await seed(h, data);
      const s0 = await state(h, tables);
      const r = await runHeat(['purge_deleted', '--dry-run'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      const d = deleted(s0, expectedAfter(data));
      const order = ['stack', 'stack_lock', 'stack_tag', 'resource', 'resource_data', 'event', 'sync_point', 'snapshot', 'watch_rule', 'watch_data', 'raw_template', 'user_creds', 'service'];
      assert.equal(r.stdout, order.map((t) => `${t} ${d[t]}\n`).join(''));
      assert.deepEqual(await state(h, tables), s0);
      assert.deepEqual(await tempIndexes(h), []);
    });

    for (const args of [[], ['-b', '3'], ['-b', '1000'], ['-p', 'tenant-b']]) {
      test(`purge_deleted ${args.join(' ') || '(defaults)'}: exactly the rows of SPEC §2.3's rules go`, async () => {
        await seed(h, data);
        const r = await runHeat(['purge_deleted', ...args], { url: h.url, env });
        assert.equal(r.code, 0, describeRun(r));
        assert.deepEqual(await state(h, tables), expectedAfter(data, args[0] === '-p' ? args[1] : undefined));
        assert.deepEqual(await tempIndexes(h), [], 'no temporary index left');
      });
    }

    test('kill -9 mid-purge, then a re-run: the same end state, no temporary index left; db_check ignores them meanwhile', async () => {
      const big = variedDataset(400, 7);
      await seed(h, big);
      const p = startHeat(['purge_deleted', '-b', '1'], { url: h.url, env });
      await p.waitFor(/batch \d+ of \d+ committed/, 120_000);
      p.kill('SIGKILL');
      const r = await p.done;
      assert.equal(r.signal, 'SIGKILL', describeRun(r));
      const mid = await state(h, tables);
      assert.ok(mid.stack!.length > expectedAfter(big).stack!.length, 'interrupted before the end');
      if (dialect === 'postgresql') {
        const left = await tempIndexes(h);
        assert.ok(left.length > 0, 'the killed run left its temporary indexes');
        const check = await runHeat(['db_check'], { url: h.url });
        assert.equal(check.code, 0, `db_check ignores migrate_purge_* indexes\n${describeRun(check)}`);
      }
      const again = await runHeat(['purge_deleted'], { url: h.url, env });
      assert.equal(again.code, 0, describeRun(again));
      assert.deepEqual(await state(h, tables), expectedAfter(big));
      assert.deepEqual(await tempIndexes(h), []);
    });

    if (dialect === 'postgresql') {
      test('an invalid leftover index (a CONCURRENTLY build that was interrupted) is dropped and the purge finishes', async () => {
        await seed(h, data);
        // An index marked invalid, as an interrupted CREATE INDEX CONCURRENTLY leaves it.
        await h.db.query('CREATE INDEX migrate_purge_event_stack_id ON event (stack_id)');
        await h.db.query("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'migrate_purge_event_stack_id'::regclass");
        const r = await runHeat(['purge_deleted'], { url: h.url, env });
        assert.equal(r.code, 0, describeRun(r));
        assert.match(r.stderr, /dropping index migrate_purge_event_stack_id, left by an interrupted run/);
        assert.deepEqual(await state(h, tables), expectedAfter(data));
        assert.deepEqual(await tempIndexes(h), []);
      });
    }
  });
}

const reachable = { mysql: await skipUnlessReachable('mysql'), postgresql: await skipUnlessReachable('postgresql') };
describe('purge_deleted connects as the other commands do (bare driver)', () => {
  for (const dialect of ['mysql', 'postgresql'] as const) {
    test(`${dialect}: a missing database is not retried and says to create it; a refused port is retried`, { ...reachable[dialect], timeout: 120_000 }, async () => {
      const h = await makeHeat71(dialect);
      try {
        const noDb = h.url.replace(/\/([^/?]+)(\?|$)/, '/heat_no_such_db$2');
        const r = await runHeat(['purge_deleted'], { url: noDb, env: { ...env, OS_DATABASE__MAX_RETRIES: '3', OS_DATABASE__RETRY_INTERVAL: '1' } });
        assert.equal(r.code, 1, describeRun(r));
        assert.match(r.stderr, /ERROR: cannot connect to .*heat_no_such_db.*\(create the database and run heat-manage db_sync first\)$/m, describeRun(r));
        assert.doesNotMatch(r.stderr, /database not reachable/, 'not retried');
        const refused = h.url.replace(/:\d+\//, ':1/');
        const q = await runHeat(['purge_deleted'], { url: refused, env: { ...env, OS_DATABASE__MAX_RETRIES: '1', OS_DATABASE__RETRY_INTERVAL: '0' } });
        assert.equal(q.code, 1, describeRun(q));
        assert.match(q.stderr, /database not reachable \(attempt 1 of 2\)/, describeRun(q));
        assert.match(q.stderr, /ERROR: cannot connect to .*gave up after 2 attempts/, describeRun(q));
      } finally {
        await h.db.drop();
      }
    });
  }
  test('sqlite: a missing file is not created', async () => {
    const url = 'sqlite:////tmp/heat-purge-no-such-dir-i19/heat.sqlite';
    const r = await runHeat(['purge_deleted'], { url, env });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^ERROR: the database .*heat\.sqlite does not exist: run heat-manage db_sync first$/m);
    const d = await runHeat(['purge_deleted', '--dry-run'], { url, env });
    assert.equal(d.code, 1, describeRun(d));
  });
});
