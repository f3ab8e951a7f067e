/**
 * `heat-manage resource_data_list RESOURCE_ID` on the three backends (SPEC §5), and the check every
 * management command makes first: the database must be at schema 71 (SPEC §1.2).
 * Encrypted values are the SPEC's vectors (made with Heat 6.0.0's own code) and a Fernet token
 * made by Python's cryptography.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable } from '../support/db.js';
import { describeRun, runHeat } from '../support/heat-cli.js';
import { heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { makeHeat71, stackRow, type Heat71 } from '../support/heat71.js';

const KEY_A = 'spec-vector-key-A-0123456789abcd';
const KEY_Z = 'spec-vector-key-Z-0123456789abcd';
const F1 = 'gAAAAABrEOOnVnNuvVKc9GvvO9fzEbSH5Rpg4BZev_p0iNtgEo7xX0-7VHfWPb8cBm5gwFg5UONT39mgaCy6XznJD7IknhGWG6JBpVM8UsxcVSgh3Xn-9rw=';
const O1 = '1IsbevVxNtmZM3qLBraA86NVzxOfmuP2XS7nBK9aAho=';
const H1 = 'TAg1AnBCeeyfcD4I/55/AxUjpfpZd24D3aAft6I=';

function pythonFernet(key: string, plain: string): string | undefined {
  const r = spawnSync(
    'python3',
    ['-c', 'import base64,sys\nfrom cryptography.fernet import Fernet\nk=sys.argv[1]\nk=k if len(k)>=32 else k+k\nsys.stdout.write(Fernet(base64.b64encode(k[:32].encode())).encrypt(sys.argv[2].encode()).decode())', key, plain],
    { encoding: 'utf8' },
  );
  return r.status === 0 ? r.stdout : undefined;
}

/** "%-16s %-64s" for ASCII text. */
const line = (k: string, v: string) => `${k.padEnd(16)} ${v.padEnd(64)}\n`;

for (const dialect of ALL_DIALECTS) {
  describe(`resource_data_list (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 180_000 }, () => {
    let h: Heat71;
    const env = { OS_DEFAULT__AUTH_ENCRYPTION_KEY: KEY_A };
    const pyToken = pythonFernet(KEY_A, 'made by Python ✓');
    before(async () => {
      h = await makeHeat71(dialect);
      await h.insert('raw_template', { id: 1, template: '{"heat_template_version": "2015-10-15"}', environment: '{}' });
      // A soft-deleted stack: its resources are listed like any other.
      await h.insert('stack', stackRow({ id: 'st-1', raw_template_id: 1, deleted_at: h.ts('2020-01-01 00:00:00') }));
      await h.insert('resource', { id: 8, name: 'wc', stack_id: 'st-1' });
      await h.insert('resource', { id: 9, name: 'other', stack_id: 'st-1' });
      const d = (id: number, key: string, value: string | null, redact: boolean, method: string | null = null, rid = 8) =>
        h.insert('resource_data', { id, resource_id: rid, key, value, redact, decrypt_method: method });
      await d(1, 'password', F1, true, 'cryptography_decrypt_v1');
      await d(2, 'endpoint_url', 'https://api.example.org:8004/v1', false);
      await d(3, 'handle_id_of_the_waitcondition', 'wc-42', false);
      await d(4, 'note', 'Zürich ✓', false);
      await d(5, 'user_token', null, false);
      await d(6, 'legacy_oslo', O1, true, 'oslo_decrypt_v1');
      await d(7, 'legacy_havana', H1, true, 'heat_decrypt');
      await d(8, 'endpoint_url', 'https://new.example.org', false); // seen again: new value, first position
      await d(9, 'multi', 'line one\nline two', false);
      await d(10, 'redacted_null', null, true, null);
      if (pyToken) await d(11, 'python', pyToken, true, 'cryptography_decrypt_v1');
      await d(20, 'broken', F1, true, 'cryptography_decrypt_v1', 9);
      await d(21, 'wrong_method', 'abc', true, 'rot13', 9);
    });
    after(async () => h?.db.drop());

    test("Heat's format: decrypted values (all three formats), dict order, None, raw newlines", async () => {
      const r = await runHeat(['resource_data_list', '8'], { url: h.url, env });
      assert.equal(r.code, 0, describeRun(r));
      const expected =
        line('password', 'correct horse battery staple') +
        line('endpoint_url', 'https://new.example.org') +
        `handle_id_of_the_waitcondition ${'wc-42'.padEnd(64)}\n` +
        `note             Zürich ✓${' '.repeat(56)}\n` +
        line('user_token', 'None') +
        line('legacy_oslo', 'fifteen-chars-x') +
        line('legacy_havana', 'havana-secret') +
        line('multi', 'line one\nline two') +
        line('redacted_null', 'None') +
        (pyToken ? `python           made by Python ✓${' '.repeat(48)}\n` : '');
      assert.equal(r.stdout, expected);
      assert.ok(!r.stderr.includes(KEY_A), 'the key is never printed');
    });

    test('the wrong configured key: exit 1, ERROR naming the row, nothing on stdout', async () => {
      const r = await runHeat(['resource_data_list', '8'], { url: h.url, env: { OS_DEFAULT__AUTH_ENCRYPTION_KEY: KEY_Z } });
      assert.equal(r.code, 1, describeRun(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^ERROR: resource_data 1 \(key 'password'\) of resource 8: cannot decrypt \(cryptography_decrypt_v1\)/m);
      assert.ok(!r.stderr.includes(KEY_Z) && !r.stderr.includes('correct horse'), 'neither key nor plaintext printed');
    });

    test('an unknown decrypt method: exit 1 naming the row (Heat: AttributeError)', async () => {
      await h.db.query('DELETE FROM resource_data WHERE id = 20');
      const r = await runHeat(['resource_data_list', '9'], { url: h.url, env });
      assert.equal(r.code, 1, describeRun(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^ERROR: resource_data 21 \(key 'wrong_method'\).*rot13/m);
    });

    for (const id of ['12345', '2147483648', '99999999999999999999']) {
      test(`resource ${id} has no data: "ERROR: no resource data found", exit 1`, async () => {
        const r = await runHeat(['resource_data_list', id], { url: h.url, env });
        assert.equal(r.code, 1, describeRun(r));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^ERROR: no resource data found/m);
      });
    }

    for (const id of ['abc', '8abc', '-8', '1.0']) {
      test(`resource_data_list ${id}: usage error on every backend, exit 2`, async () => {
        const r = await runHeat(['resource_data_list', id], { url: h.url, env });
        assert.equal(r.code, 2, describeRun(r));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /resource_id must be an integer/);
      });
    }
  });

  describe(`schema version check (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 180_000 }, () => {
    const commands = [['service', 'list'], ['purge_deleted'], ['update_params', 'encrypt'], ['resource_data_list', '1']];
    test('a database at 70: every command says "run heat-manage db_sync first", exit 1, nothing changed', async () => {
      const db = await createTestDatabase(dialect);
      try {
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 70);
        for (const c of commands) {
          const r = await runHeat(c, { url: db.url });
          assert.equal(r.code, 1, describeRun(r));
          assert.equal(r.stdout, '');
          assert.match(r.stderr, /^ERROR: .*\b70\b.*run heat-manage db_sync first/m);
        }
        assert.deepEqual(await db.query('SELECT version FROM migrate_version'), [{ version: 70 }]);
      } finally {
        await db.drop();
      }
    });
    test('a database at 73 (Train): "run heat-manage db_sync head"; past the lineage: "newer than this heat-manage (71)", exit 1; an empty one: "db_sync first"', async () => {
      const db = await createTestDatabase(dialect);
      try {
        if (dialect === 'sqlite') await db.query('CREATE TABLE migrate_version (repository_id VARCHAR(250) PRIMARY KEY, repository_path TEXT, version INTEGER)');
        const empty = await runHeat(['service', 'list'], { url: db.url });
        assert.equal(empty.code, 1, describeRun(empty));
        assert.match(empty.stderr, /^ERROR: .*run heat-manage db_sync first/m);
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 71);
        await db.query("UPDATE migrate_version SET version = 73 WHERE repository_id = 'heat'");
        let r = await runHeat(['purge_deleted'], { url: db.url });
        assert.equal(r.code, 1, describeRun(r));
        assert.match(r.stderr, /^ERROR: .*\b73\b.*run heat-manage db_sync head$/m);
        await db.query("UPDATE migrate_version SET version = 99 WHERE repository_id = 'heat'");
        r = await runHeat(['purge_deleted'], { url: db.url });
        assert.equal(r.code, 1, describeRun(r));
        assert.match(r.stderr, /^ERROR: .*\b99\b.*newer than this heat-manage \(71\)/m);
      } finally {
        await db.drop();
      }
    });
  });
}
