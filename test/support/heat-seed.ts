/**
 * A small Heat dataset at version 28 that exercises every data step (MIGRATIONS.md §2.3, §2.5,
 * §2.6, §3), and the values Heat's migrations give it at 71, written from the specification (the
 * same on every backend: SQLite must carry the same data as MariaDB).
 *
 *   await heatUpgrade(db.url, 28); await seedAt28(db); ... await heatUpgrade(db.url);
 *   await checkSeedAt71(db);   // node:assert failures name the value
 */
import assert from 'node:assert/strict';
import type { TestDatabase, TestDialect } from './db.js';

export const F = (d: TestDialect) => (d === 'postgresql' ? 'false' : '0');
export const T = (d: TestDialect) => (d === 'postgresql' ? 'true' : '1');
/** A timestamp column as 'YYYY-MM-DD HH:MM:SS' text. */
const ts = (d: TestDialect, col: string) =>
  d === 'mysql' ? `CAST(${col} AS CHAR)` : d === 'postgresql' ? `to_char(${col}, 'YYYY-MM-DD HH24:MI:SS')` : col;
export const bool = (v: unknown) => v === true || v === 1 || v === '1';

export const TEMPLATES: Array<[id: number, text: string, expected: string]> = [
  [
    1,
    '{"heat_template_version":"2013-05-23","parameters":{"flavor":{"Type":"String","default":"m1.small"},' +
      '"count":{"type":"Number"},"list":{"type":"CommaDelimitedList"},"ok":{"type":"string"}},"resources":{}}',
    '{"heat_template_version": "2013-05-23", "parameters": {"flavor": {"default": "m1.small", "type": "string"}, ' +
      '"count": {"type": "number"}, "list": {"type": "CommaDelimitedList"}, "ok": {"type": "string"}}, "resources": {}}',
  ],
  [2, '{"AWSTemplateFormatVersion" : "2010-09-09", "Resources" : {}}', '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}'],
  [
    3,
    '{"heat_template_version": "2014-10-16", "resources": {"server": {"Type": "OS::Nova::Server", "DependsOn": "x", ' +
      '"Properties": {"flavor": "m1"}, "Metadata": {}, "UpdatePolicy": {}, "DeletionPolicy": "Retain"}}, ' +
      '"outputs": {"o": {"Value": 1.0, "Description": "d\u00e9 \u2603"}}}',
    '{"heat_template_version": "2014-10-16", "resources": {"server": {"type": "OS::Nova::Server", ' +
      '"properties": {"flavor": "m1"}, "metadata": {}, "depends_on": "x", "deletion_policy": "Retain", ' +
      '"update_policy": {}}}, "outputs": {"o": {"description": "d\\u00e9 \\u2603", "value": 1.0}}}',
  ],
  [
    4,
    '{"heat_template_version": "2015-04-30",\n  "parameters": {"p": {"type": "string"}}\n}',
    '{"heat_template_version": "2015-04-30",\n  "parameters": {"p": {"type": "string"}}\n}',
  ],
  [
    5,
    '{"heat_template_version": "2012-01-01", "AWSTemplateFormatVersion": "2009-01-01"}',
    '{"heat_template_version": "2012-01-01", "AWSTemplateFormatVersion": "2010-09-09"}',
  ],
  [6, '{"heat_template_version": 20130523, "parameters": {}}', '{"heat_template_version": "2013-05-23", "parameters": {}}'],
  [7, '{}', '{}'],
  [8, '{ }', '{ }'],
];

// [id, name, raw_template_id, owner_id, deleted_at, created_at, parameters]
const STACKS: Array<[string, string, number, string | null, string | null, string, string | null]> = [
  ['s-root', 'root', 1, null, null, '2016-01-01 00:00:01', '{"parameters": {"a": 1}}'],
  ['s-child', 'child', 2, 's-root', null, '2016-01-01 00:00:02', null],
  ['s-grand', 'grand', 3, 's-child', null, '2016-01-01 00:00:03', '{"x": "y"}'],
  ['s-root*', 'root*', 4, 's-root', null, '2016-01-01 00:00:04', null],
  ['s-bchild', 'bchild', 5, 's-root*', null, '2016-01-01 00:00:05', null],
  ['s-gone', 'gone*', 6, null, '2016-02-01 00:00:00', '2016-01-01 00:00:06', '{"deleted": true}'],
  ['s-gonechild', 'gonechild', 6, 's-gone', '2016-02-01 00:00:00', '2016-01-01 00:00:07', null],
  ['s-orphan', 'orphan', 7, 'missing-id', null, '2016-01-01 00:00:08', null],
  ['s-empty', 'emptyowner', 8, '', null, '2016-01-01 00:00:09', null],
];

// [old id, stack_id, created_at] -> new id by created_at order, root stack
const RESOURCES: Array<[string, string, string, number, string]> = [
  ['r-b', 's-child', '2016-01-02 00:00:02', 2, 's-root'],
  ['r-a', 's-root', '2016-01-02 00:00:01', 1, 's-root'],
  ['r-c', 's-grand', '2016-01-02 00:00:03', 3, 's-root'],
  ['r-d', 's-orphan', '2016-01-02 00:00:04', 4, 'missing-id'],
  ['r-e', 's-bchild', '2016-01-02 00:00:05', 5, 's-root'],
  ['r-f', 's-empty', '2016-01-02 00:00:06', 6, 's-empty'],
  ['r-g', 's-gonechild', '2016-01-02 00:00:07', 7, 's-gone'],
];

const PICKLE = Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);

export async function seedAt28(db: TestDatabase): Promise<void> {
  const d = db.dialect;
  await db.query("INSERT INTO user_creds (id, username, password) VALUES (1, 'u', 'p')");
  for (const [id, text] of TEMPLATES) await db.query('INSERT INTO raw_template (id, template) VALUES (?, ?)', [id, text]);
  for (const [id, name, tpl, owner, deleted, created, params] of STACKS) {
    await db.query(
      'INSERT INTO stack (id, name, raw_template_id, user_creds_id, owner_id, deleted_at, created_at, parameters, ' +
        `username, disable_rollback) VALUES (?, ?, ?, 1, ?, ?, ?, ?, 'someone', ${F(d)})`,
      [id, name, tpl, owner, deleted, created, params],
    );
  }
  for (const [id, stack, created] of RESOURCES) {
    await db.query("INSERT INTO resource (id, stack_id, name, created_at, status_reason) VALUES (?, ?, ?, ?, 'why')", [
      id, stack, id.toUpperCase(), created,
    ]);
  }
  const rd: Array<[number, string, string, boolean, string | null]> = [
    [1, 'r-c', 'k1', false, '2016-01-03 00:00:01'],
    [2, 'r-a', 'k2', true, '2016-01-03 00:00:02'],
    [5, 'r-a', 'k3', false, null],
  ];
  for (const [id, res, key, redact, created] of rd) {
    await db.query(
      `INSERT INTO resource_data (id, resource_id, ${d === 'mysql' ? '`key`' : '"key"'}, value, redact, created_at) ` +
        `VALUES (?, ?, ?, ?, ${redact ? T(d) : F(d)}, ?)`,
      [id, res, key, `v-${key}`, created],
    );
  }
  const ev: Array<[number, string, string, Buffer | null]> = [
    [1, 's-root', '2016-01-03 00:00:03', PICKLE],
    [2, 's-root', '2016-01-03 00:00:01', null],
    [3, 's-child', '2016-01-03 00:00:02', Buffer.from('abc')],
  ];
  for (const [id, stack, created, props] of ev) {
    await db.query("INSERT INTO event (id, stack_id, created_at, resource_properties, resource_name) VALUES (?, ?, ?, ?, 'n')", [
      id, stack, created, props,
    ]);
  }
}

function byId<T extends Record<string, unknown>>(rows: T[], key = 'id'): Map<string, T> {
  return new Map(rows.map((r) => [String(r[key]), r]));
}

/**
 * Asserts the seed's values after the upgrade to 71, then inserts one event and one resource to
 * check that new rows get the next ids (MySQL auto-increment, PostgreSQL evt/res, SQLite rowid).
 */
export async function checkSeedAt71(db: TestDatabase): Promise<void> {
  const dialect = db.dialect;
  // 034 files, 037/041/043 template rewrites, 056 environment copy.
  const tpl = byId(await db.query('SELECT id, template, files, environment FROM raw_template'));
  for (const [id, , expected] of TEMPLATES) {
    assert.equal(tpl.get(String(id))!.template, expected, `raw_template ${id}`);
    assert.equal(tpl.get(String(id))!.files, '{}', `raw_template ${id} files`);
  }
  const env = new Map([...tpl].map(([id, r]) => [id, r.environment]));
  assert.deepEqual(Object.fromEntries(env), {
    '1': '{"parameters": {"a": 1}}', '2': null, '3': '{"x": "y"}', '4': null, '5': null, '6': null, '7': null, '8': null,
  });

  // 045 backup, 047 nested_depth, 052 convergence; 039/061 rebuilds keep the rest.
  const st = byId(
    await db.query(`SELECT id, backup, nested_depth, convergence, username, ${ts(dialect, 'created_at')} AS created, status_reason FROM stack`),
  );
  const backup = Object.fromEntries([...st].map(([id, r]) => [id, bool(r.backup)]));
  assert.deepEqual(backup, {
    's-root': false, 's-child': false, 's-grand': false, 's-root*': true, 's-bchild': false, 's-gone': false,
    's-gonechild': false, 's-orphan': false, 's-empty': false,
  });
  const depth = Object.fromEntries([...st].map(([id, r]) => [id, Number(r.nested_depth)]));
  assert.deepEqual(depth, {
    's-root': 0, 's-child': 1, 's-grand': 2, 's-root*': 0, 's-bchild': 0, 's-gone': 0, 's-gonechild': 1,
    's-orphan': 0, 's-empty': 0,
  });
  for (const [id, , , , , created] of STACKS) {
    const r = st.get(id)!;
    assert.equal(bool(r.convergence), false);
    assert.notEqual(r.convergence, null);
    assert.equal(r.username, 'someone');
    assert.equal(r.created, created);
  }

  // 057 resource ids by created_at, uuid = old id; 063 back-fill; 065 root_stack_id.
  const res = byId(
    await db.query(`SELECT id, uuid, name, stack_id, properties_data_encrypted, root_stack_id, status_reason, ${ts(dialect, 'created_at')} AS created FROM resource`),
    'uuid',
  );
  assert.equal(res.size, RESOURCES.length);
  for (const [old, stack, created, newId, root] of RESOURCES) {
    const r = res.get(old)!;
    assert.equal(Number(r.id), newId, `resource ${old} id`);
    assert.equal(r.stack_id, stack);
    assert.equal(r.name, old.toUpperCase());
    assert.equal(r.created, created);
    assert.equal(r.status_reason, 'why');
    assert.equal(bool(r.properties_data_encrypted), false);
    assert.notEqual(r.properties_data_encrypted, null);
    assert.equal(r.root_stack_id, root, `resource ${old} root`);
  }

  // 032 decrypt_method, 057 remapped resource_id with ids and timestamps kept.
  const rd = await db.query(
    `SELECT id, resource_id, value, redact, decrypt_method, ${ts(dialect, 'created_at')} AS created FROM resource_data ORDER BY id`,
  );
  assert.deepEqual(
    rd.map((r) => [Number(r.id), Number(r.resource_id), r.value, bool(r.redact), r.decrypt_method, r.created]),
    [
      [1, 3, 'v-k1', false, 'heat_decrypt', '2016-01-03 00:00:01'],
      [2, 1, 'v-k2', true, 'heat_decrypt', '2016-01-03 00:00:02'],
      [5, 1, 'v-k3', false, 'heat_decrypt', null],
    ],
  );
  const uc = await db.query('SELECT decrypt_method FROM user_creds');
  assert.deepEqual(uc.map((r) => r.decrypt_method), ['heat_decrypt']);

  // 029/035 event ids: old ints became strings, then 1..N by created_at; blobs untouched.
  const evs = await db.query(`SELECT id, uuid, stack_id, resource_properties, ${ts(dialect, 'created_at')} AS created FROM event ORDER BY id`);
  assert.deepEqual(
    evs.map((r) => [Number(r.id), r.uuid, r.stack_id, r.created]),
    [
      [1, '2', 's-root', '2016-01-03 00:00:01'],
      [2, '3', 's-child', '2016-01-03 00:00:02'],
      [3, '1', 's-root', '2016-01-03 00:00:03'],
    ],
  );
  assert.equal(evs[0]!.resource_properties, null);
  assert.deepEqual(Buffer.from(evs[1]!.resource_properties as Uint8Array), Buffer.from('abc'));
  assert.deepEqual(Buffer.from(evs[2]!.resource_properties as Uint8Array), PICKLE);

  // 054: stack_tag exists and the old tags were not copied.
  assert.equal((await db.query('SELECT COUNT(*) AS n FROM stack_tag'))[0]!.n, dialect === 'postgresql' ? '0' : 0);

  // New rows get the next ids (MySQL auto-increment, PG evt/res at N, SQLite rowid).
  if (dialect === 'postgresql') {
    assert.deepEqual(await db.query('SELECT last_value::int AS v, is_called FROM evt'), [{ v: 3, is_called: true }]);
    assert.deepEqual(await db.query('SELECT last_value::int AS v, is_called FROM res'), [{ v: 7, is_called: true }]);
  }
  await db.query("INSERT INTO event (stack_id, resource_name) VALUES ('s-root', 'new')");
  await db.query("INSERT INTO resource (stack_id, name) VALUES ('s-root', 'new')");
  assert.equal(Number((await db.query("SELECT id FROM event WHERE resource_name = 'new'"))[0]!.id), 4);
  assert.equal(Number((await db.query("SELECT id FROM resource WHERE name = 'new'"))[0]!.id), 8);
}
