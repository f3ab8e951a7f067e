/**
 * `heat-manage update_params encrypt|decrypt [PREVIOUS_KEY]` on MariaDB, PostgreSQL and SQLite
 * (SPEC §3). Seeds hold what Heat's databases hold: HOT and CFN templates with every `hidden` /
 * `NoEcho` shape, the environment shapes on which Heat 6.0.0 fails (BUG, §3.6), resources plain,
 * empty, locked and already encrypted (by Python's cryptography), and the SPEC's oslo vector.
 * Expected values follow the SPEC's rules; encrypted results are opened with Python's Fernet and
 * with ours (whose vectors are checked in test/unit/heat-crypt.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { decrypt } from '../../heat/common/crypt.js';
import { ALL_DIALECTS, skipUnlessReachable } from '../support/db.js';
import { describeRun, runHeat } from '../support/heat-cli.js';
import { makeHeat71, stackRow, type Heat71 } from '../support/heat71.js';

const A = 'spec-vector-key-A-0123456789abcd';
const B = 'spec-key-B-16chr';
const Z = 'spec-vector-key-Z-0123456789abcd';
const O1 = '1IsbevVxNtmZM3qLBraA86NVzxOfmuP2XS7nBK9aAho=';
const NOW = '2020-06-01 00:00:00';
const OLD = '2019-01-01 00:00:00';
const FERNET = 'cryptography_decrypt_v1';

function py(script: string, input: unknown): unknown {
  const r = spawnSync('python3', ['-c', `import base64, json, sys\nfrom cryptography.fernet import Fernet\ndef f(k):\n    k = k if len(k) >= 32 else k + k\n    return Fernet(base64.b64encode(k[:32].encode()))\n${script}`], {
    input: JSON.stringify(input),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const havePython = spawnSync('python3', ['-c', 'import cryptography.fernet']).status === 0;
/** Fernet tokens made by Python's cryptography. */
const pyEncrypt = (key: string, plains: string[]) => py('k, ps = json.load(sys.stdin)\nprint(json.dumps([f(k).encrypt(p.encode()).decode() for p in ps]))', [key, plains]) as string[];
const pyDecrypt = (key: string, tokens: string[]) => py('k, ts = json.load(sys.stdin)\nprint(json.dumps([f(k).decrypt(t.encode()).decode() for t in ts]))', [key, tokens]) as string[];

/** JSON as Heat writes it (json.dumps' ensure_ascii): MariaDB's utf8mb3 columns hold no emoji. */
const ascii = (text: string) => text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const HOT = (params: Record<string, unknown>) => JSON.stringify({ heat_template_version: '2015-10-15', parameters: params });

interface Seeded {
  pyParam: string;
  pyProp: string;
}

async function seed(h: Heat71): Promise<Seeded> {
  await h.reset();
  const [pyParam, pyProp] = havePython ? pyEncrypt(A, ['already-encrypted', '"v"']) : ['x', 'x'];
  const tpl = (id: number, template: string | null, environment: string | null) =>
    h.insert('raw_template', { id, template, environment: environment === null ? null : ascii(environment), files: '{"f.yaml": "ü"}', created_at: h.ts(OLD), updated_at: h.ts(OLD) });
  await tpl(
    1,
    HOT({ db_pass: { type: 'string', hidden: true }, flavor: { type: 'string' } }),
    JSON.stringify({ parameters: { db_pass: 'pw-1 ✓😀', flavor: 'm1.small' }, parameter_defaults: { db_pass: 'd' }, encrypted_param_names: [] }),
  );
  await tpl(
    2,
    HOT({
      s_false: { type: 'string', hidden: 'false' },
      zero: { type: 'string', hidden: 0 },
      empty: { type: 'string', hidden: '' },
      num: { type: 'number', hidden: true },
      flag: { type: 'boolean', hidden: true },
      lst: { type: 'comma_delimited_list', hidden: true },
      obj: { type: 'json', hidden: true },
      nul: { type: 'string', hidden: true },
      three: { type: 'string', hidden: true },
    }),
    JSON.stringify({
      parameters: { s_false: 'sf', zero: 'z', empty: 'e', num: 12345, flag: true, lst: ['a', 'b'], obj: { k: 'v' }, nul: null, three: '3', extra: 'not declared' },
    }),
  );
  await tpl(
    3,
    JSON.stringify({ HeatTemplateFormatVersion: '2012-12-12', Parameters: { Pw: { Type: 'String', NoEcho: 'TRUE' }, Y: { Type: 'String', NoEcho: 'yes' }, One: { Type: 'String', NoEcho: 1 } } }),
    JSON.stringify({ parameters: { Pw: 'cfn-secret', Y: 'y', One: '1' } }),
  );
  await tpl(4, HOT({ pw: { type: 'string', hidden: true } }), JSON.stringify({ pw: 'legacy-secret', resource_registry: { 'OS::X': 'x.yaml' } }));
  await tpl(5, HOT({ pw: { type: 'string', hidden: true } }), null);
  await tpl(6, JSON.stringify({ foo: 1 }), JSON.stringify({ parameters: { a: 'b' } }));
  await tpl(7, HOT({ p: { type: 'string', hidden: true } }), JSON.stringify({ parameters: { p: [FERNET, pyParam] }, encrypted_param_names: ['p'] }));
  await tpl(8, HOT({ flavor: { type: 'string' } }), JSON.stringify({ parameters: { flavor: 'x' }, encrypted_param_names: [] }));
  await tpl(9, HOT({ old: { type: 'string', hidden: true } }), JSON.stringify({ parameters: { old: ['oslo_decrypt_v1', O1] }, encrypted_param_names: ['old'] }));
  await h.insert('stack', stackRow({ id: 's1', raw_template_id: 1, deleted_at: h.ts(OLD) }));
  const res = (id: number, r: Record<string, unknown>) => h.insert('resource', { id, name: `r${id}`, stack_id: 's1', updated_at: h.ts(OLD), ...r });
  await res(1, {
    properties_data: ascii('{"name": "web-1", "count": 2, "big": 12345678901234567890, "nested": {"a": [1, "ü😀"]}, "nul": null}'),
    properties_data_encrypted: false,
    atomic_key: 4,
  });
  await res(2, { properties_data: '{}', properties_data_encrypted: null, atomic_key: null });
  await res(3, { properties_data: '{"x": "y"}', properties_data_encrypted: false, atomic_key: 7, engine_id: 'eng-1' });
  await res(4, { properties_data: JSON.stringify({ p: [FERNET, pyProp] }), properties_data_encrypted: true, atomic_key: 2 });
  await res(5, { properties_data: null, properties_data_encrypted: null, atomic_key: 1 });
  return { pyParam, pyProp };
}

interface Row {
  id: number;
  env: Record<string, unknown> | null;
  envText: string | null;
  updated: string;
}
async function templates(h: Heat71): Promise<Map<number, Row>> {
  const rows = await h.db.query(`SELECT id, environment, ${h.text('updated_at')} AS u FROM raw_template ORDER BY id`);
  return new Map(
    rows.map((r) => [
      Number(r.id),
      { id: Number(r.id), envText: r.environment as string | null, env: r.environment === null ? null : (JSON.parse(String(r.environment)) as Record<string, unknown>), updated: String(r.u).replace(/\.0+$/, '') },
    ]),
  );
}
async function resources(h: Heat71) {
  const rows = await h.db.query(`SELECT id, properties_data AS d, properties_data_encrypted AS f, atomic_key AS k, engine_id AS e, ${h.text('updated_at')} AS u FROM resource ORDER BY id`);
  return new Map(rows.map((r) => [Number(r.id), { d: r.d as string | null, f: r.f === null ? null : Number(r.f), k: r.k === null ? null : Number(r.k), e: r.e, u: String(r.u).replace(/\.0+$/, '') }]));
}
const params = (r: Row) => (r.env as { parameters: Record<string, unknown> }).parameters;
const open = (v: unknown, key = A) => {
  assert.ok(Array.isArray(v) && v.length === 2 && v[0] === FERNET && typeof v[1] === 'string', `a Fernet pair: ${JSON.stringify(v)}`);
  return decrypt(v[0], v[1], key);
};

for (const dialect of ALL_DIALECTS) {
  describe(`update_params (${dialect})`, { ...(await skipUnlessReachable(dialect)), timeout: 300_000 }, () => {
    let h: Heat71;
    before(async () => {
      h = await makeHeat71(dialect);
    });
    after(async () => h?.db.drop());
    const run = (args: string[], key = A) => runHeat(['update_params', ...args], { url: h.url, env: { HEAT_MANAGE_NOW: NOW, OS_DEFAULT__AUTH_ENCRYPTION_KEY: key } });

    test('encrypt: hidden parameters and plain properties as the SPEC says; a second encrypt changes nothing; decrypt gives the values back', async () => {
      const seeded = await seed(h);
      const t0 = await templates(h);
      const r0 = await resources(h);
      const e = await run(['encrypt']);
      assert.equal(e.code, 0, describeRun(e));
      assert.equal(e.stdout, '');
      assert.ok(!e.stderr.includes(A) && !e.stderr.includes('pw-1'), 'no key or plaintext in the log');
      const t = await templates(h);
      // 1: HOT hidden: encrypted, listed, parameter_defaults untouched, updated_at = NOW
      const p1 = params(t.get(1)!);
      assert.equal(open(p1.db_pass), 'pw-1 ✓😀');
      assert.equal(p1.flavor, 'm1.small');
      assert.deepEqual((t.get(1)!.env as Record<string, unknown>).parameter_defaults, { db_pass: 'd' });
      assert.deepEqual((t.get(1)!.env as Record<string, unknown>).encrypted_param_names, ['db_pass']);
      assert.equal(t.get(1)!.updated, NOW);
      if (dialect === 'mysql') assert.ok(/^[\x00-\x7f]*$/.test(t.get(1)!.envText!), 'ASCII-only JSON on MariaDB (utf8mb3)');
      if (havePython) assert.deepEqual(pyDecrypt(A, [(p1.db_pass as string[])[1]!]), ['pw-1 ✓😀'], "Python's Fernet opens ours");
      // 2: Python truthiness; non-string values as the text the engine parses back; null -> [null, null]
      const p2 = params(t.get(2)!);
      assert.equal(open(p2.s_false), 'sf');
      assert.equal(p2.zero, 'z');
      assert.equal(p2.empty, 'e');
      assert.equal(open(p2.num), '12345');
      assert.equal(open(p2.flag), 'true');
      assert.equal(open(p2.lst), 'a,b');
      assert.deepEqual(JSON.parse(open(p2.obj)!), { k: 'v' });
      assert.deepEqual(p2.nul, [null, null]);
      assert.equal(open(p2.three), '3');
      assert.equal(p2.extra, 'not declared');
      assert.deepEqual(new Set((t.get(2)!.env as { encrypted_param_names: string[] }).encrypted_param_names), new Set(['s_false', 'num', 'flag', 'lst', 'obj', 'nul', 'three']));
      // 3: CFN NoEcho: only true / "true" in any case
      const p3 = params(t.get(3)!);
      assert.equal(open(p3.Pw), 'cfn-secret');
      assert.equal(p3.Y, 'y');
      assert.equal(p3.One, '1');
      // 4: flat legacy environment: moved into parameters, then encrypted
      const e4 = t.get(4)!.env as Record<string, unknown>;
      assert.equal(open((e4.parameters as Record<string, unknown>).pw), 'legacy-secret');
      assert.deepEqual(e4.resource_registry, { 'OS::X': 'x.yaml' });
      assert.ok(!('pw' in e4));
      // 5 (NULL env), 6 (unknown format), 7 (already encrypted), 8 (nothing hidden), 9 (listed): unchanged
      for (const id of [5, 6, 7, 8, 9]) assert.deepEqual(t.get(id), t0.get(id), `template ${id} unchanged`);
      assert.equal(params(t.get(7)!).p![1 as never], seeded.pyParam);
      // resources
      const r = await resources(h);
      const d1 = JSON.parse(r.get(1)!.d!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(d1), ['name', 'count', 'big', 'nested', 'nul']);
      assert.equal(open(d1.name), '"web-1"');
      assert.equal(open(d1.count), '2');
      assert.equal(open(d1.big), '12345678901234567890', 'integers beyond 2^53 exact');
      assert.deepEqual(JSON.parse(open(d1.nested)!), { a: [1, 'ü😀'] });
      assert.equal(open(d1.nul), 'null');
      assert.deepEqual({ f: r.get(1)!.f, k: r.get(1)!.k, u: r.get(1)!.u }, { f: 1, k: 5, u: OLD });
      assert.deepEqual({ d: r.get(2)!.d, f: r.get(2)!.f, k: r.get(2)!.k }, { d: '{}', f: 1, k: 1 });
      assert.equal(open((JSON.parse(r.get(3)!.d!) as Record<string, unknown>).x), '"y"');
      assert.deepEqual({ f: r.get(3)!.f, k: r.get(3)!.k, e: r.get(3)!.e }, { f: 1, k: 7, e: 'eng-1' }, 'locked: rewritten, atomic_key and engine_id kept');
      assert.deepEqual(r.get(4), r0.get(4), 'already encrypted: untouched');
      assert.deepEqual(r.get(5), r0.get(5), 'NULL properties: untouched');

      const again = await run(['encrypt']);
      assert.equal(again.code, 0, describeRun(again));
      assert.deepEqual(await templates(h), t, 'a second encrypt changes no template');
      assert.deepEqual(await resources(h), r, 'nor any resource');

      const d = await run(['decrypt']);
      assert.equal(d.code, 0, describeRun(d));
      const td = await templates(h);
      assert.deepEqual(params(td.get(1)!), { db_pass: 'pw-1 ✓😀', flavor: 'm1.small' });
      assert.deepEqual((td.get(1)!.env as Record<string, unknown>).encrypted_param_names, []);
      assert.deepEqual(params(td.get(2)!), { s_false: 'sf', zero: 'z', empty: 'e', num: '12345', flag: 'true', lst: 'a,b', obj: '{"k":"v"}', nul: null, three: '3', extra: 'not declared' });
      assert.deepEqual(params(td.get(7)!), { p: 'already-encrypted' }, 'a Python-made token decrypts');
      assert.deepEqual(params(td.get(9)!), { old: 'fifteen-chars-x' }, 'an oslo_decrypt_v1 value decrypts');
      const rd = await resources(h);
      assert.ok(rd.get(1)!.d!.includes('12345678901234567890'));
      assert.deepEqual(JSON.parse(rd.get(1)!.d!), JSON.parse(r0.get(1)!.d!));
      assert.deepEqual({ f: rd.get(1)!.f, k: rd.get(1)!.k }, { f: 0, k: 6 });
      assert.deepEqual({ d: rd.get(2)!.d, f: rd.get(2)!.f }, { d: '{}', f: 0 });
      assert.deepEqual(JSON.parse(rd.get(4)!.d!), { p: 'v' });
      assert.deepEqual({ f: rd.get(3)!.f, k: rd.get(3)!.k }, { f: 0, k: 7 });
    });

    test('decrypt with the wrong key: one line naming the row, exit 1, nothing written; decrypt KEY opens KEY-data under another configured key', async () => {
      await seed(h);
      assert.equal((await run(['encrypt'])).code, 0);
      const t = await templates(h);
      const r = await resources(h);
      const bad = await run(['decrypt'], Z);
      assert.equal(bad.code, 1, describeRun(bad));
      assert.equal(bad.stdout, '');
      assert.match(bad.stderr, /^ERROR: (raw_template \d+ parameter '\w+'|resource \d+ property '\w+'): cannot decrypt \(\w+\) with the given key$/m);
      assert.ok(!bad.stderr.includes(Z) && !bad.stderr.includes(A));
      assert.deepEqual(await templates(h), t);
      assert.deepEqual(await resources(h), r);
      const ok = await run(['decrypt', A], Z);
      assert.equal(ok.code, 0, describeRun(ok));
      assert.deepEqual(params((await templates(h)).get(1)!), { db_pass: 'pw-1 ✓😀', flavor: 'm1.small' });
    });

    test('encrypt PREVIOUS_KEY rotates to the configured key (Heat encrypts with the old key); a re-run changes nothing', async () => {
      await seed(h);
      assert.equal((await run(['encrypt'])).code, 0);
      const rot = await run(['encrypt', A], B);
      assert.equal(rot.code, 0, describeRun(rot));
      const t = await templates(h);
      assert.equal(open(params(t.get(1)!).db_pass, B), 'pw-1 ✓😀');
      assert.equal(open(params(t.get(7)!).p, B), 'already-encrypted');
      assert.throws(() => open(params(t.get(1)!).db_pass, A));
      const r = await resources(h);
      assert.equal(open((JSON.parse(r.get(1)!.d!) as Record<string, unknown>).name, B), '"web-1"');
      assert.equal(open((JSON.parse(r.get(4)!.d!) as Record<string, unknown>).p, B), '"v"');
      const again = await run(['encrypt', A], B);
      assert.equal(again.code, 0, describeRun(again));
      assert.deepEqual(await templates(h), t);
      assert.deepEqual(await resources(h), r);
      // A plain decrypt with the configured key B now works.
      assert.equal((await run(['decrypt'], B)).code, 0);
    });

    test('decrypt on environments Heat fails on: no encrypted_param_names (pre-Liberty) is left alone; a listed plain value is kept and unlisted', async () => {
      await h.reset();
      await h.insert('raw_template', { id: 1, template: HOT({ a: { type: 'string', hidden: true } }), environment: JSON.stringify({ parameters: { a: 'plain' } }), updated_at: h.ts(OLD) });
      await h.insert('raw_template', { id: 2, template: HOT({ a: { type: 'string', hidden: true } }), environment: JSON.stringify({ parameters: { a: 'plain-listed' }, encrypted_param_names: ['a'] }), updated_at: h.ts(OLD) });
      const before = await templates(h);
      const d = await run(['decrypt']);
      assert.equal(d.code, 0, describeRun(d));
      const t = await templates(h);
      assert.deepEqual(t.get(1), before.get(1));
      assert.deepEqual(t.get(2)!.env, { parameters: { a: 'plain-listed' }, encrypted_param_names: [] });
      assert.equal(t.get(2)!.updated, NOW);
    });
  });
}
