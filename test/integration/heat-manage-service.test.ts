/**
 * `heat-manage service list|clean` on MariaDB, PostgreSQL and SQLite (SPEC §6): Heat's table
 * format byte for byte, ORDER BY id, the up/down rule on each row's own report_interval (boundary
 * included), created_at when updated_at is NULL, both NULL shown `down` (Heat crashes), the stored
 * updated_at printed as it is; `clean` soft-deletes exactly the services that are down, at NOW.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_DIALECTS, skipUnlessReachable } from '../support/db.js';
import { describeRun, runHeat } from '../support/heat-cli.js';
import { makeHeat71, type Heat71 } from '../support/heat71.js';

const NOW = '2020-06-01 12:00:00';
const env = { HEAT_MANAGE_NOW: NOW };

/** Python's "%-Ns" for ASCII text. */
const p = (s: string, n: number) => s.padEnd(n);
const HEADER = `${p('Hostname', 16)} ${p('Binary', 16)} ${p('Engine_Id', 36)} ${p('Host', 10)} ${p('Topic', 10)} ${p('Status', 10)} ${p('Updated At', 10)}`;

const E = (n: number) => `0f6a4b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5${n}`;
const ID = (n: number) => `0000000${n}-aaaa-4bbb-8ccc-dddddddddddd`;

for (const dialect of ALL_DIALECTS) {
  describe(`service (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 180_000 }, () => {
    let h: Heat71;
    before(async () => {
      h = await makeHeat71(dialect);
    });
    after(async () => h?.db.drop());

    const fraction = dialect === 'mysql' ? '' : '.125';
    async function seed(): Promise<void> {
      await h.reset();
      const svc = (n: number, r: Record<string, unknown>) =>
        h.insert('service', { id: ID(n), engine_id: E(n), host: `ctl-${n}`, hostname: `ctl-${n}`, binary: 'heat-engine', topic: 'engine', report_interval: 60, ...r });
      // Inserted out of id order: the output is ordered by id.
      await svc(6, { updated_at: h.ts('2030-01-01 00:00:00'), created_at: h.ts('2019-01-01 00:00:00') }); // future: up
      await svc(1, { updated_at: h.ts('2020-06-01 11:59:00'), created_at: h.ts('2019-01-01 00:00:00') }); // exactly 60 s: up
      await svc(2, {
        hostname: 'ctl-2.cloud.example.net',
        updated_at: h.ts(`2020-06-01 11:58:59${fraction}`),
        created_at: h.ts('2019-01-01 00:00:00'),
      }); // 60.875 s (61 s on MariaDB): down
      await svc(3, { hostname: 'kontrollü-3', updated_at: null, created_at: h.ts('2020-06-01 11:59:50') }); // created_at: up
      await svc(4, { updated_at: null, created_at: null }); // no timestamps: down (Heat: TypeError)
      await svc(5, { updated_at: h.ts('2020-01-01 00:00:00'), deleted_at: h.ts('2020-01-02 00:00:00') }); // deleted: not listed
      await svc(7, { report_interval: 3600, updated_at: h.ts('2020-06-01 11:30:00'), created_at: h.ts('2019-01-01 00:00:00') }); // its own interval: up
    }

    test('service list: header, rows ordered by id, Heat status rule, stored updated_at', async () => {
      await seed();
      const r = await runHeat(['service', 'list'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      const row = (host: string, n: number, status: string, updated: string) =>
        `${p(host, 16)} ${p('heat-engine', 16)} ${p(E(n), 36)} ${p(`ctl-${n}`, 10)} ${p('engine', 10)} ${p(status, 10)} ${p(updated, 10)}`;
      const expected = [
        HEADER,
        row('ctl-1', 1, 'up', '2020-06-01 11:59:00'),
        row('ctl-2.cloud.example.net', 2, 'down', dialect === 'mysql' ? '2020-06-01 11:58:59' : '2020-06-01 11:58:59.125000'),
        `kontrollü-3      ${p('heat-engine', 16)} ${p(E(3), 36)} ${p('ctl-3', 10)} ${p('engine', 10)} ${p('up', 10)} None      `,
        row('ctl-4', 4, 'down', 'None'),
        row('ctl-6', 6, 'up', '2030-01-01 00:00:00'),
        row('ctl-7', 7, 'up', '2020-06-01 11:30:00'),
      ];
      assert.equal(r.stdout, expected.map((l) => `${l}\n`).join(''));
    });

    if (dialect !== 'sqlite') {
      test("service list connects as db_sync does: the URL's TLS CA file missing fails both, naming the file", async () => {
        const missing = '/nonexistent-certs/heat-ca.pem';
        const tls = dialect === 'mysql' ? `ssl_ca=${missing}` : `sslmode=verify-ca&sslrootcert=${missing}`;
        const url = `${h.url}${h.url.includes('?') ? '&' : '?'}${tls}`;
        const noRetry = { ...env, OS_DATABASE__MAX_RETRIES: '0' };
        for (const args of [['db_sync'], ['service', 'list']]) {
          const r = await runHeat(args, { url, env: noRetry });
          assert.equal(r.code, 1, `${args.join(' ')}: ${describeRun(r)}`);
          assert.match(r.stderr, /ERROR: cannot connect to .*ENOENT.*\/nonexistent-certs\/heat-ca\.pem/, `${args.join(' ')}: ${describeRun(r)}`);
          assert.equal(r.stdout, '', args.join(' '));
        }
      });

      test('service list: errors classified as db_sync classifies them: a missing database is not retried and says to create it; a refused port is retried', async () => {
        const noDb = h.url.replace(/\/([^/?]+)(\?|$)/, '/heat_no_such_db$2');
        const r = await runHeat(['service', 'list'], { url: noDb, env: { ...env, OS_DATABASE__MAX_RETRIES: '3', OS_DATABASE__RETRY_INTERVAL: '1' } });
        assert.equal(r.code, 1, describeRun(r));
        assert.match(r.stderr, /ERROR: cannot connect to .*heat_no_such_db.*\(create the database and run heat-manage db_sync first\)$/m, describeRun(r));
        assert.doesNotMatch(r.stderr, /database not reachable/, 'not retried');
        const refused = h.url.replace(/:\d+\//, ':1/');
        const q = await runHeat(['service', 'list'], { url: refused, env: { ...env, OS_DATABASE__MAX_RETRIES: '1', OS_DATABASE__RETRY_INTERVAL: '0' } });
        assert.equal(q.code, 1, describeRun(q));
        assert.match(q.stderr, /database not reachable \(attempt 1 of 2\)/, describeRun(q));
        assert.match(q.stderr, /ERROR: cannot connect to .*gave up after 2 attempts/, describeRun(q));
      });
    }

    test('service list with no services: the header only', async () => {
      await h.reset();
      const r = await runHeat(['service', 'list'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.stdout, `${HEADER}\n`);
    });

    test('service clean: exactly the down services get deleted_at = updated_at = NOW; a purge in the same instant keeps them', async () => {
      await seed();
      const before = await h.db.query(`SELECT id, ${h.text('updated_at')} AS u, ${h.text('deleted_at')} AS d, report_interval FROM service ORDER BY id`);
      const r = await runHeat(['service', 'clean'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.stdout, 'Dead engines are removed.\n');
      const after = await h.db.query(`SELECT id, ${h.text('updated_at')} AS u, ${h.text('deleted_at')} AS d, report_interval FROM service ORDER BY id`);
      const cleaned = new Set([ID(2), ID(4)]);
      const nowText = (v: unknown) => String(v).replace(/\.0+$/, '');
      for (const [i, a] of after.entries()) {
        if (cleaned.has(String(a.id))) {
          assert.equal(nowText(a.d), NOW, `${a.id} deleted_at`);
          assert.equal(nowText(a.u), NOW, `${a.id} updated_at`);
        } else assert.deepEqual(a, before[i], `${a.id} unchanged`);
      }
      const l = await runHeat(['service', 'list'], { url: h.url, env });
      assert.deepEqual(
        l.stdout.split('\n').slice(1, -1).map((x) => x.split(/\s+/)[0]),
        ['ctl-1', 'kontrollü-3', 'ctl-6', 'ctl-7'],
      );
      // Nothing down any more: a second clean changes nothing.
      const again = await runHeat(['service', 'clean'], { url: h.url, env });
      assert.equal(again.stdout, 'Dead engines are removed.\n');
      assert.deepEqual(await h.db.query(`SELECT id, ${h.text('updated_at')} AS u, ${h.text('deleted_at')} AS d, report_interval FROM service ORDER BY id`), after);
      // deleted_at = time line is not "<": the cleaned services survive a purge at the same NOW;
      // the service deleted long before goes.
      const purge = await runHeat(['purge_deleted', '0', '-g', 'seconds'], { url: h.url, env });
      assert.equal(purge.code, 0, describeRun(purge));
      const left = (await h.db.query('SELECT id FROM service ORDER BY id')).map((x) => String(x.id));
      assert.deepEqual(left, [1, 2, 3, 4, 6, 7].map(ID));
    });

    test('service without an action: usage error, exit 2 (Heat: exit 1 "no such option func")', async () => {
      const r = await runHeat(['service'], { url: h.url, env });
      assert.equal(r.code, 2, describeRun(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /an action is required: list or clean/);
    });

    test('a malformed HEAT_MANAGE_NOW is an error (exit 1), changing nothing', async () => {
      await seed();
      const before = await h.rows('service');
      const r = await runHeat(['service', 'clean'], { url: h.url, env: { HEAT_MANAGE_NOW: '2020-06-01T12:00' } });
      assert.equal(r.code, 1, describeRun(r));
      assert.match(r.stderr, /^ERROR: HEAT_MANAGE_NOW/m);
      assert.equal(r.stdout, '');
      assert.deepEqual(await h.rows('service'), before);
    });
  });
}
