/**
 * `heat-manage purge_deleted` on MariaDB, PostgreSQL and SQLite (SPEC §2). Expected rows come from
 * the SPEC's rules, written out by hand per seed:
 * - §2.4's example, with every batch size (end state independent of -b) and --dry-run numbers;
 * - the BUG cases of §2.5 (snapshot, watch_rule/watch_data, a live resource's current_template_id);
 * - the keep rules (shared and unreferenced templates/creds), ownership ignored both ways, -p;
 * - the strict cut-off at microsecond precision, the AGE/-b checks and their texts;
 * - an interrupted purge (kill -9), then a re-run; a purge while another connection writes events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_DIALECTS, MYSQL_SERVER, PG_SERVER, skipUnlessReachable, type TestDialect } from '../support/db.js';
import { describeRun, logLines, runHeat, startHeat } from '../support/heat-cli.js';
import { makeHeat71, stackRow, type Heat71 } from '../support/heat71.js';

const NOW = '2020-06-01 00:00:00';
const env = { HEAT_MANAGE_NOW: NOW };
const TABLES = ['stack', 'stack_lock', 'stack_tag', 'resource', 'resource_data', 'event', 'sync_point', 'snapshot', 'watch_rule', 'watch_data', 'raw_template', 'user_creds', 'service'];

async function ids(h: Heat71, table: string, col = 'id'): Promise<string[]> {
  return (await h.db.query(`SELECT ${col} AS id FROM ${h.q(table)} ORDER BY ${col}`)).map((r) => String(r.id));
}

/** Every table's rows as id lists (the whole database state the purge may touch). */
async function state(h: Heat71): Promise<Record<string, string[]>> {
  const s: Record<string, string[]> = {};
  for (const t of TABLES) s[t] = await ids(h, t, t === 'stack_lock' ? 'stack_id' : t === 'sync_point' ? 'entity_id' : 'id');
  s.software_config = await ids(h, 'software_config');
  return s;
}

async function template(h: Heat71, id: number): Promise<void> {
  await h.insert('raw_template', { id, template: `{"heat_template_version": "2015-10-15", "description": "t${id} ✓"}`, environment: '{"parameters": {}}', files: '{}' });
}
async function creds(h: Heat71, id: number): Promise<void> {
  await h.insert('user_creds', { id, username: `user-${id}`, password: 'x', decrypt_method: 'cryptography_decrypt_v1', tenant: 't' });
}
let nextId = 1000;
async function resource(h: Heat71, stack: string, extra: Record<string, unknown> = {}): Promise<number> {
  const id = ++nextId;
  await h.insert('resource', { id, name: `r${id}`, stack_id: stack, status: 'COMPLETE', ...extra });
  return id;
}
async function event(h: Heat71, stack: string, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await h.insert('event', { id: ++nextId, stack_id: stack, resource_name: 'r', resource_status_reason: 'état ✓', uuid: `ev-${nextId}` });
}

/** SPEC §2.4: s1 live, s2/s3 expired, s4 deleted exactly 90 days before NOW. */
async function seedExample(h: Heat71): Promise<void> {
  await h.reset();
  for (const t of [1, 2, 3, 4]) await template(h, t);
  for (const c of [1, 2, 3]) await creds(h, c);
  await h.insert('stack', stackRow({ id: 's1', raw_template_id: 1, user_creds_id: 1 }));
  await h.insert('stack', stackRow({ id: 's2', raw_template_id: 2, prev_raw_template_id: 1, user_creds_id: 1, deleted_at: h.ts('2020-02-22 00:00:00') }));
  await h.insert('stack', stackRow({ id: 's3', raw_template_id: 3, user_creds_id: 2, deleted_at: h.ts('2020-02-20 12:00:00') }));
  await h.insert('stack', stackRow({ id: 's4', raw_template_id: 4, user_creds_id: 3, deleted_at: h.ts('2020-03-03 00:00:00') }));
  await h.insert('resource', { id: 9, name: 'r9', stack_id: 's1', current_template_id: 3 });
  await event(h, 's1');
  await event(h, 's2', 2);
  await h.insert('stack_lock', { stack_id: 's3', engine_id: 'dead-engine' });
  for (let i = 0; i < 3; i++) {
    const r = await resource(h, 's3', { current_template_id: 3 });
    await h.insert('resource_data', { id: r, resource_id: r, key: 'k', value: 'v', redact: false });
  }
  await h.insert('snapshot', { id: 'snap-1', stack_id: 's3', tenant: 't', name: 'before upgrade' });
  await event(h, 's4');
}

const EXAMPLE_AFTER = {
  stack: ['s1', 's4'],
  stack_lock: [],
  stack_tag: [],
  resource: ['9'],
  resource_data: [],
  snapshot: [],
  watch_rule: [],
  watch_data: [],
  raw_template: ['1', '3', '4'],
  user_creds: ['1', '3'],
  service: [],
  sync_point: [],
  software_config: [],
};

for (const dialect of ALL_DIALECTS) {
  describe(`purge_deleted (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 600_000 }, () => {
    let h: Heat71;
    before(async () => {
      h = await makeHeat71(dialect);
    });
    after(async () => h?.db.drop());

    test('SPEC §2.4: --dry-run prints what a run deletes, and changes nothing', async () => {
      await seedExample(h);
      const before = await state(h);
      const r = await runHeat(['purge_deleted', '--dry-run'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(
        r.stdout,
        'stack 2\nstack_lock 1\nstack_tag 0\nresource 3\nresource_data 3\nevent 2\nsync_point 0\nsnapshot 1\nwatch_rule 0\nwatch_data 0\nraw_template 1\nuser_creds 1\nservice 0\n',
      );
      assert.deepEqual(await state(h), before);
    });

    for (const batch of [[], ['-b', '1'], ['--batch_size=2'], ['-b', '1000']]) {
      test(`SPEC §2.4 ${batch.join(' ') || '(default batch)'}: s2, s3 and theirs go; t2 and c2 go; t1, t3 (r9), c1, s4 (exactly 90 days) stay`, async () => {
        await seedExample(h);
        const r = await runHeat(['purge_deleted', ...batch], { url: h.url, env });
        assert.equal(r.code, 0, describeRun(r));
        assert.equal(r.stdout, '', 'nothing on stdout');
        const s = await state(h);
        const events = await h.db.query('SELECT stack_id FROM event ORDER BY stack_id');
        assert.deepEqual(events.map((e) => e.stack_id), ['s1', 's4']);
        delete (s as Record<string, unknown>).event;
        assert.deepEqual(s, EXAMPLE_AFTER);
        const msgs = logLines(r.stderr).map((l) => l.msg);
        for (const [t, n] of [['event', 2], ['stack', 2], ['raw_template', 1], ['user_creds', 1], ['snapshot', 1], ['resource', 3]] as const) {
          assert.ok(msgs.includes(`purge_deleted: deleted ${n} rows from ${t}`), `summary for ${t}\n${r.stderr}`);
        }
        // Nothing left to purge: a re-run deletes nothing.
        const again = await runHeat(['purge_deleted', '--dry-run'], { url: h.url, env });
        assert.match(again.stdout, /^stack 0\n/);
      });
    }

    test('BUG cases: watch rules and data go; a template a live resource uses stays; ownership ignored both ways; -p', async () => {
      await h.reset();
      for (const t of [10, 11, 12, 13, 14, 15, 16, 17, 18]) await template(h, t);
      for (const c of [10, 11, 12]) await creds(h, c);
      const old = h.ts('2020-01-01 00:00:00');
      // parent expired, child live (owner_id now dangles); child expired, parent live; a backup stack;
      // a dangling owner_id; another tenant's expired stack (-p keeps it).
      await h.insert('stack', stackRow({ id: 'p-exp', raw_template_id: 10, user_creds_id: 10, deleted_at: old }));
      await h.insert('stack', stackRow({ id: 'c-live', raw_template_id: 11, owner_id: 'p-exp', user_creds_id: 10 }));
      await h.insert('stack', stackRow({ id: 'p-live', raw_template_id: 12 }));
      await h.insert('stack', stackRow({ id: 'c-exp', raw_template_id: 13, owner_id: 'p-live', deleted_at: old, user_creds_id: 11 }));
      await h.insert('stack', stackRow({ id: 'b-exp', name: 'p-live*', backup: true, raw_template_id: 14, prev_raw_template_id: 13, deleted_at: old }));
      await h.insert('stack', stackRow({ id: 'd-exp', raw_template_id: 15, owner_id: 'gone', deleted_at: old }));
      await h.insert('stack', stackRow({ id: 'o-exp', raw_template_id: 16, tenant: 'tenant-b', deleted_at: old, user_creds_id: 12 }));
      // a future deleted_at is never purged
      await h.insert('stack', stackRow({ id: 'f-exp', raw_template_id: 17, deleted_at: h.ts('2030-01-01 00:00:00') }));
      // watch rule + data of an expired stack (Heat fails on watch_rule_ibfk_1)
      await h.insert('watch_rule', { id: 1, name: 'w', stack_id: 'c-exp', state: 'NORMAL' });
      await h.insert('watch_data', { id: 1, watch_rule_id: 1, data: '{}' });
      await h.insert('watch_rule', { id: 2, name: 'w2', stack_id: 'p-live', state: 'NORMAL' });
      await h.insert('watch_data', { id: 2, watch_rule_id: 2, data: '{}' });
      // a live resource pointing at an expired stack's template (Heat fails on current_template_fkey_ref)
      await resource(h, 'p-live', { current_template_id: 15 });
      // an expired stack's resource pointing at a template no purged stack uses: kept (template 18)
      await resource(h, 'd-exp', { current_template_id: 18 });
      await h.insert('stack_tag', { id: 1, tag: 'tag-ü', stack_id: 'c-exp' });
      await h.insert('sync_point', { entity_id: 'e1', traversal_id: 't1', is_update: true, atomic_key: 0, stack_id: 'd-exp' });
      await h.insert('software_config', { id: 'sc-1', tenant: 't', name: 'untouched' });
      await h.insert('service', { id: 'svc-old', engine_id: 'e', host: 'h', hostname: 'h', binary: 'heat-engine', topic: 'engine', report_interval: 60, deleted_at: old });

      const p = await runHeat(['purge_deleted', '30', '-p', 'tenant-a', '-b', '1'], { url: h.url, env });
      assert.equal(p.code, 0, describeRun(p));
      assert.deepEqual(await state(h), {
        stack: ['c-live', 'f-exp', 'o-exp', 'p-live'],
        stack_lock: [],
        stack_tag: [],
        resource: [String(nextId - 1)],
        resource_data: [],
        event: [],
        sync_point: [],
        snapshot: [],
        watch_rule: ['2'],
        watch_data: ['2'],
        // 10 (p-exp) stays for c-live? no: c-live uses 11; 10 goes. 13 and 14 go (c-exp, b-exp);
        // 15 stays (live resource), 16 is tenant-b's, 18 was referenced by no purged stack.
        raw_template: ['11', '12', '15', '16', '17', '18'],
        // 10 is c-live's too, 11 (c-exp) goes, 12 is tenant-b's
        user_creds: ['10', '12'],
        service: [],
        software_config: ['sc-1'],
      });
      // The other tenant's stack goes with a purge without -p.
      const all = await runHeat(['purge_deleted', '30'], { url: h.url, env });
      assert.equal(all.code, 0, describeRun(all));
      assert.deepEqual(await ids(h, 'stack'), ['c-live', 'f-exp', 'p-live']);
      assert.deepEqual(await ids(h, 'raw_template'), ['11', '12', '15', '17', '18']);
      assert.deepEqual(await ids(h, 'user_creds'), ['10']);
    });

    test('shared rows across batches: a template shared by expired stacks, or used by an expired resource of another batch, goes with the last user', async () => {
      for (const b of ['1', '20']) {
        await h.reset();
        for (const t of [20, 21, 22]) await template(h, t);
        await creds(h, 20);
        const old = h.ts('2020-01-01 00:00:00');
        await h.insert('stack', stackRow({ id: 'a1', raw_template_id: 20, user_creds_id: 20, deleted_at: old }));
        await h.insert('stack', stackRow({ id: 'a2', raw_template_id: 20, user_creds_id: 20, deleted_at: old }));
        await h.insert('stack', stackRow({ id: 'a3', raw_template_id: 21, deleted_at: old }));
        await h.insert('stack', stackRow({ id: 'z9', raw_template_id: 22, deleted_at: old }));
        await resource(h, 'z9', { current_template_id: 21 }); // z9 (purged later in id order) uses a3's template
        const r = await runHeat(['purge_deleted', '-b', b], { url: h.url, env });
        assert.equal(r.code, 0, describeRun(r));
        assert.deepEqual(await ids(h, 'stack'), []);
        assert.deepEqual(await ids(h, 'raw_template'), [], `-b ${b}`);
        assert.deepEqual(await ids(h, 'user_creds'), []);
      }
    });

    test('the cut-off is strict, at full precision: 1 day keeps a stack deleted exactly 24 h ago; 0 -g seconds keeps deleted_at = now', async () => {
      await h.reset();
      await template(h, 30);
      const micro = dialect !== 'mysql';
      const rows: [string, string][] = [
        ['exact-day', '2020-05-31 00:00:00'],
        ['day-plus-1s', '2020-05-30 23:59:59'],
        ['now', NOW],
        ['future', '2020-06-01 00:00:01'],
      ];
      if (micro) rows.push(['day-plus-1us', '2020-05-30 23:59:59.999999'], ['day-minus-1us', '2020-05-31 00:00:00.000001']);
      for (const [id, t] of rows) await h.insert('stack', stackRow({ id, raw_template_id: 30, deleted_at: h.ts(t) }));
      const r = await runHeat(['purge_deleted', '1'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      assert.deepEqual(await ids(h, 'stack'), ['day-minus-1us', 'exact-day', 'future', 'now'].filter((x) => micro || !x.includes('us')));
      const s = await runHeat(['purge_deleted', '0', '-g', 'seconds'], { url: h.url, env });
      assert.equal(s.code, 0, describeRun(s));
      assert.deepEqual(await ids(h, 'stack'), ['future', 'now']);
      // A fractional NOW is used as it is (no rounding): deleted_at = NOW - 0.5 s is before it.
      if (micro) {
        const f = await runHeat(['purge_deleted', '0', '-g', 'seconds'], { url: h.url, env: { HEAT_MANAGE_NOW: '2020-06-01 00:00:00.500000' } });
        assert.equal(f.code, 0, describeRun(f));
        assert.deepEqual(await ids(h, 'stack'), ['future']);
      }
    });

    const badArgs: [string[], number, RegExp, string?][] = [
      [['abc'], 1, /^ERROR: age should be an integer$/m],
      [['1.5'], 1, /^ERROR: age should be an integer$/m],
      [['-1'], 1, /^ERROR: age should be a positive integer$/m],
      [['736061'], 1, /^ERROR: date value out of range$/m, '2016-04-07 12:00:00'],
      [['-b', '0'], 1, /^ERROR: batch_size should be a positive integer$/m],
      [['-b', 'ten'], 1, /^ERROR: batch_size should be an integer$/m],
      [['-g', 'weeks'], 2, /granularity.*days, hours, minutes, seconds/],
      [['-p', ''], 2, /project-id/],
      [['1', '2'], 2, /unexpected argument '2'/],
    ];
    for (const [args, code, pattern, now] of badArgs) {
      test(`purge_deleted ${args.join(' ')}: exit ${code}, nothing deleted`, async () => {
        await seedExample(h);
        const before = await state(h);
        const r = await runHeat(['purge_deleted', ...args], { url: h.url, env: { HEAT_MANAGE_NOW: now ?? NOW } });
        assert.equal(r.code, code, describeRun(r));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, pattern);
        assert.deepEqual(await state(h), before);
      });
    }
    test('purge_deleted 736060 at 2016-04-07 12:00 passes the range check (time line 0001-01-01 12:00:00)', async () => {
      await seedExample(h);
      const r = await runHeat(['purge_deleted', '736060'], { url: h.url, env: { HEAT_MANAGE_NOW: '2016-04-07 12:00:00' } });
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stderr, /0001-01-01 12:00:00/);
    });

    // -------------------------------------------------------------------------------------------
    const N = 240;
    async function seedMany(): Promise<void> {
      await h.reset();
      await template(h, 1);
      const stacks = [];
      const templates = [];
      const resources = [];
      const data = [];
      const events = [];
      for (let i = 0; i < N; i++) {
        templates.push({ id: 100 + i, template: '{"heat_template_version": "2015-10-15"}', environment: '{}' });
        stacks.push(stackRow({ id: `x-${String(i).padStart(4, '0')}`, raw_template_id: 100 + i, deleted_at: h.ts('2020-01-01 00:00:00') }));
      }
      stacks.push(stackRow({ id: 'live-1', raw_template_id: 1 }));
      for (const s of stacks) {
        for (let k = 0; k < 2; k++) {
          const id = ++nextId;
          resources.push({ id, name: `r-${id}`, stack_id: s.id, status: 'COMPLETE' });
          data.push({ id, resource_id: id, key: 'k', value: 'v', redact: false });
        }
        for (let k = 0; k < 4; k++) events.push({ id: ++nextId, stack_id: s.id, resource_name: 'r', uuid: `e-${nextId}` });
      }
      await h.insertMany('raw_template', templates);
      await h.insertMany('stack', stacks);
      await h.insertMany('resource', resources);
      await h.insertMany('resource_data', data);
      await h.insertMany('event', events);
    }

    /** Each expired stack is either whole (its 2 resources, 2 data rows, 4 events, template) or wholly gone. */
    async function consistent(): Promise<number> {
      const stacks = new Set(await ids(h, 'stack'));
      const per = async (sql: string) => {
        const m = new Map<string, number>();
        for (const r of await h.db.query(sql)) m.set(String(r.k), Number(r.n));
        return m;
      };
      const res = await per('SELECT stack_id AS k, COUNT(*) AS n FROM resource GROUP BY stack_id');
      const ev = await per('SELECT stack_id AS k, COUNT(*) AS n FROM event GROUP BY stack_id');
      const rd = await per('SELECT r.stack_id AS k, COUNT(*) AS n FROM resource_data d JOIN resource r ON r.id = d.resource_id GROUP BY r.stack_id');
      assert.equal(await h.count('resource_data', 'resource_id NOT IN (SELECT id FROM resource)'), 0, 'no orphan resource_data');
      const templates = new Set(await ids(h, 'raw_template'));
      for (let i = 0; i < N; i++) {
        const id = `x-${String(i).padStart(4, '0')}`;
        const whole = stacks.has(id);
        assert.equal(res.get(id) ?? 0, whole ? 2 : 0, `${id} resources`);
        assert.equal(ev.get(id) ?? 0, whole ? 4 : 0, `${id} events`);
        assert.equal(rd.get(id) ?? 0, whole ? 2 : 0, `${id} resource_data`);
        assert.equal(templates.has(String(100 + i)), whole, `${id} template`);
      }
      assert.ok(stacks.has('live-1'));
      assert.equal(ev.get('live-1'), 4);
      return stacks.size - 1;
    }

    test('kill -9 in the middle: committed batches done, the rest whole; a re-run finishes with the same end state', async () => {
      await seedMany();
      const p = startHeat(['purge_deleted', '-b', '1'], { url: h.url, env });
      await p.waitFor(/batch 1 of \d+ committed/, 60_000);
      p.kill('SIGKILL');
      const r = await p.done;
      assert.equal(r.signal, 'SIGKILL', describeRun(r));
      const left = await consistent();
      assert.ok(left > 0 && left < N, `interrupted mid-run (${left} of ${N} expired stacks left)`);
      const again = await runHeat(['purge_deleted', '-b', '7'], { url: h.url, env });
      assert.equal(again.code, 0, describeRun(again));
      assert.equal(await consistent(), 0);
      assert.deepEqual(await ids(h, 'raw_template'), ['1']);
    });

    if (dialect !== 'sqlite') {
      test('a purge while another connection keeps writing events to a live stack: no failure, no live row lost', async () => {
        await seedMany();
        const writer = await openWriter(dialect, h.db.name);
        let written = 0;
        let stop = false;
        const errors: string[] = [];
        const loop = (async () => {
          while (!stop) {
            try {
              await writer.txn([
                ['INSERT INTO event (stack_id, resource_name, resource_status_reason, uuid) VALUES (?, ?, ?, ?)', ['live-1', 'r', 'écrit pendant la purge', `w-${written}`]],
                ['UPDATE resource SET status_reason = ? WHERE stack_id = ?', [`tick ${written}`, 'live-1']],
              ]);
              written++;
            } catch (e) {
              errors.push((e as Error).message);
            }
          }
        })();
        const r = await runHeat(['purge_deleted', '-b', '3'], { url: h.url, env, timeoutMs: 300_000 });
        stop = true;
        await loop;
        await writer.close();
        assert.equal(r.code, 0, describeRun(r));
        assert.deepEqual(errors, [], 'the writer never failed');
        assert.ok(written > 10, `the writer kept writing (${written} transactions)`);
        assert.equal(await h.count('event', "stack_id = 'live-1'"), 4 + written, 'every event of the live stack is there');
        assert.equal(await h.count('stack', "id LIKE 'x-%'"), 0);
        assert.equal(await h.count('resource', "stack_id = 'live-1'"), 2);
      });
    }
  });
}

/** A dedicated writer connection (autocommit between transactions), like a running engine. */
async function openWriter(dialect: TestDialect, database: string) {
  if (dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const u = new URL(MYSQL_SERVER.replace(/^mysql/, 'http'));
    const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: u.username || 'root', database });
    return {
      async txn(stmts: [string, unknown[]][]) {
        await c.query('BEGIN');
        try {
          for (const [s, p] of stmts) await c.query(s, p);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        }
      },
      close: () => c.end(),
    };
  }
  const pg = (await import('pg')).default;
  const u = new URL(PG_SERVER.replace(/^postgresql/, 'http'));
  const c = new pg.Client({ host: u.hostname, port: Number(u.port || 5432), user: u.username || 'postgres', database });
  await c.connect();
  return {
    async txn(stmts: [string, unknown[]][]) {
      await c.query('BEGIN');
      try {
        for (const [s, p] of stmts) {
          let i = 0;
          await c.query(s.replace(/\?/g, () => `$${++i}`), p);
        }
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK');
        throw e;
      }
    },
    close: () => c.end(),
  };
}
