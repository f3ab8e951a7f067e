/**
 * Golden-data test of Heat's data migrations (MIGRATIONS.md §2.3, §2.5, §2.6, 029-065) on MariaDB,
 * PostgreSQL and SQLite:
 *
 *   empty DB -> version control 27 -> upgrade 28 -> v28 dataset -> upgrade 34 -> v34 additions
 *   -> upgrade 71 -> every table compared with test/fixtures/heat-data/expected-71.json
 *
 * The fixture was derived from MIGRATIONS.md by an independent Python model (see its README), never
 * from our output; a few rows are also checked against literals quoted from MIGRATIONS.md. The
 * expected data is the same on every backend (the real tool's SQLite branches are bugs we do not
 * reproduce).
 *
 * Then the failure cases real Heat has (037 NULL / non-JSON template / parameter without a type,
 * 041 string resource, 045 live stack without a name, 056 two live stacks sharing one template):
 * each in a small database of its own, through the CLI: non-zero exit, a message naming the step
 * and the row, the version left at the step before, and on PostgreSQL/SQLite nothing of the step
 * left behind. After the operator's fix of that row, the upgrade reaches 71 with the right data
 * (on MariaDB after the step's partial DDL too).
 *
 * Run: npx tsc -p tsconfig.json && node scripts/postbuild.js && node --test dist/test/integration/heat-data.test.js
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { upgrade, versionControl } from '../../migrate/api.js';
import { silentLogger } from '../../migrate/logger.js';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import {
  heatDatasetJson,
  insertHeatDataset28,
  insertHeatDataset34,
  insertRows,
  MISSING_OWNER,
  R,
  S,
  type Row,
} from '../support/heat-dataset.js';

// ------------------------------------------------------------------------------------------------
// paths

const HERE = dirname(fileURLToPath(import.meta.url));
function projectRoot(): string {
  let d = HERE;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error(`no package.json above ${HERE}`);
    d = up;
  }
  return d;
}
const ROOT = projectRoot();
/** Compiled scripts when running from dist/, the .ts scripts (through tsx) otherwise. */
const REPO = HERE.includes(`${join('dist', 'test')}`) ? join(ROOT, 'dist', 'migrate_repo') : join(ROOT, 'migrate_repo');
const MIGRATE_BIN = join(ROOT, 'dist', 'bin', 'migrate.js');
const FIXTURE_FILE = join(ROOT, 'test', 'fixtures', 'heat-data', 'expected-71.json');

type Value = string | number | null | { $hex: string };
type Rec = Record<string, Value>;
interface TableFixture {
  key: string[];
  columns: string[];
  ignore: string[];
  rows: Rec[];
}
interface Fixture {
  dataset_sha256: string;
  tables: Record<string, TableFixture>;
}
const FIXTURE = JSON.parse(readFileSync(FIXTURE_FILE, 'utf8')) as Fixture;

const opts = { logger: silentLogger };

// ------------------------------------------------------------------------------------------------
// reading and normalising rows

const DATETIME_COLUMNS = new Set(['created_at', 'updated_at', 'deleted_at', 'last_evaluated']);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Normalises one cell: datetimes to 'YYYY-MM-DD HH:MM:SS', booleans to 0/1, blobs to {$hex}. */
function normalise(column: string, v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    // mysql2 and pg build DATETIME / timestamp-without-time-zone values in local time
    return `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())} ${pad(v.getHours())}:${pad(v.getMinutes())}:${pad(v.getSeconds())}`;
  }
  if (Buffer.isBuffer(v)) return { $hex: v.toString('hex') };
  if (v instanceof Uint8Array) return { $hex: Buffer.from(v).toString('hex') };
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && DATETIME_COLUMNS.has(column) && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(v)) {
    return v.slice(0, 19).replace('T', ' ');
  }
  if (typeof v === 'string' || typeof v === 'number') return v;
  return JSON.stringify(v) as string; // unexpected driver type: shown in the diff
}

function quoteIdent(db: TestDatabase, ident: string): string {
  return db.dialect === 'mysql' ? `\`${ident}\`` : `"${ident}"`;
}

function compareKeys(a: Value[], b: Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Reads a whole table, normalised and sorted by the fixture's key. */
async function readTable(db: TestDatabase, table: string, key: string[]): Promise<{ columns: string[]; rows: Rec[] }> {
  const sql = `SELECT * FROM ${quoteIdent(db, table)} ORDER BY ${key.map((k) => quoteIdent(db, k)).join(', ')}`;
  const raw = await db.query(sql);
  let columns: string[];
  if (raw.length) columns = Object.keys(raw[0]!);
  else columns = await columnNames(db, table);
  const rows = raw.map((r) => Object.fromEntries(Object.entries(r).map(([c, v]) => [c, normalise(c, v)])) as Rec);
  rows.sort((a, b) => compareKeys(key.map((k) => a[k]!), key.map((k) => b[k]!)));
  return { columns, rows };
}

async function columnNames(db: TestDatabase, table: string): Promise<string[]> {
  if (db.dialect === 'sqlite') return (await db.query(`PRAGMA table_info("${table}")`)).map((r) => String(r.name));
  if (db.dialect === 'mysql') {
    return (
      await db.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [table])
    ).map((r) => String(r.c));
  }
  return (
    await db.query("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position", [table])
  ).map((r) => String(r.c));
}

async function currentVersion(db: TestDatabase): Promise<number> {
  const rows = await db.query("SELECT version FROM migrate_version WHERE repository_id = 'heat'");
  return Number(rows[0]?.version);
}

// ------------------------------------------------------------------------------------------------
// diffs

function show(v: Value | undefined): string {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 160)}… (${s.length} chars)` : s;
}

/** A readable description of how two cells differ (for long texts: where they start to differ). */
function cellDiff(expected: Value | undefined, got: Value | undefined): string {
  if (typeof expected === 'string' && typeof got === 'string' && (expected.length > 60 || got.length > 60)) {
    let i = 0;
    while (i < expected.length && i < got.length && expected[i] === got[i]) i++;
    const from = Math.max(0, i - 30);
    return (
      `texts differ at offset ${i} (lengths ${expected.length} / ${got.length})\n` +
      `        expected …${JSON.stringify(expected.slice(from, i + 50))}…\n` +
      `        got      …${JSON.stringify(got.slice(from, i + 50))}…`
    );
  }
  return `expected ${show(expected)}, got ${show(got)}`;
}

const same = (a: Value | undefined, b: Value | undefined) => JSON.stringify(a) === JSON.stringify(b);

/** Every difference between a table and its fixture, one message per cell / row / column set. */
function tableDiff(table: string, fx: TableFixture, actual: { columns: string[]; rows: Rec[] }): string[] {
  const out: string[] = [];
  const cols = fx.columns.filter((c) => !fx.ignore.includes(c));
  const missingCols = fx.columns.filter((c) => !actual.columns.includes(c));
  const extraCols = actual.columns.filter((c) => !fx.columns.includes(c));
  if (missingCols.length) out.push(`${table}: columns missing: ${missingCols.join(', ')}`);
  if (extraCols.length) out.push(`${table}: unexpected columns: ${extraCols.join(', ')}`);
  const keyOf = (r: Rec) => fx.key.map((k) => `${k}=${show(r[k])}`).join(',');
  const got = new Map(actual.rows.map((r) => [keyOf(r), r]));
  const want = new Map(fx.rows.map((r) => [keyOf(r), r]));
  if (actual.rows.length !== fx.rows.length) out.push(`${table}: ${fx.rows.length} rows expected, ${actual.rows.length} found`);
  for (const [k, e] of want) {
    const g = got.get(k);
    if (!g) {
      out.push(`${table}[${k}]: row missing (expected ${show(JSON.stringify(e))})`);
      continue;
    }
    for (const c of cols) {
      if (!same(e[c], g[c])) out.push(`${table}[${k}].${c}: ${cellDiff(e[c], g[c])}`);
    }
  }
  for (const [k, g] of got) if (!want.has(k)) out.push(`${table}[${k}]: unexpected row ${show(JSON.stringify(g))}`);
  return out;
}

// ------------------------------------------------------------------------------------------------
// the golden run

test('the fixture was derived from the current dataset', () => {
  const sha = createHash('sha256').update(heatDatasetJson(), 'utf8').digest('hex');
  assert.equal(
    FIXTURE.dataset_sha256,
    sha,
    'expected-71.json is stale: the dataset changed. Re-derive it (test/fixtures/heat-data/README.md).',
  );
});

async function prepare(dialect: TestDialect): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  await versionControl(db.url, REPO, 27, opts);
  await upgrade(db.url, REPO, 28, opts);
  return db;
}

for (const dialect of ALL_DIALECTS) {
  describe(`heat data 28/34 -> 71 on ${dialect}`, await skipUnlessReachable(dialect), () => {
    let db: TestDatabase | undefined;
    const actual = new Map<string, { columns: string[]; rows: Rec[] }>();

    before(async () => {
      db = await prepare(dialect);
      await insertHeatDataset28(db);
      await upgrade(db.url, REPO, 34, opts);
      assert.equal(await currentVersion(db), 34);
      await insertHeatDataset34(db);
      await upgrade(db.url, REPO, 71, opts);
      for (const [table, fx] of Object.entries(FIXTURE.tables)) actual.set(table, await readTable(db, table, fx.key));
    });
    after(async () => {
      await db?.drop();
    });

    for (const [table, fx] of Object.entries(FIXTURE.tables)) {
      test(`${table}: ${fx.rows.length} rows as MIGRATIONS.md gives them`, () => {
        const diffs = tableDiff(table, fx, actual.get(table)!);
        if (diffs.length) assert.fail(`${diffs.length} difference(s) on ${dialect}:\n  ${diffs.join('\n  ')}`);
      });
    }

    test('rows quoted from MIGRATIONS.md (independent of the derivation)', () => {
      const tmpl = (id: number) => actual.get('raw_template')!.rows.find((r) => r.id === id)!;
      // §043: "Observed: {...2012-01-01, ...2009-01-01} became {...2012-01-01, ...2010-09-09}"
      assert.equal(tmpl(11).template, '{"heat_template_version": "2012-01-01", "AWSTemplateFormatVersion": "2010-09-09"}');
      // §041: Type, DependsOn, Properties, Metadata, UpdatePolicy, DeletionPolicy comes out as
      // type, properties, metadata, depends_on, deletion_policy, update_policy
      const t1 = JSON.parse(String(tmpl(1).template)) as { resources: { server: object } };
      assert.deepEqual(Object.keys(t1.resources.server), ['type', 'properties', 'metadata', 'depends_on', 'deletion_policy', 'update_policy']);
      // §2.5: floats keep their repr, non-ASCII is \uXXXX lower-case, untouched rows byte-identical
      assert.ok(String(tmpl(1).template).includes('"default": 10.0'));
      assert.ok(String(tmpl(1).template).includes('"Serveur caf\\u00e9"'));
      assert.ok(String(tmpl(17).template).includes('\\ud83d\\ude00'));
      assert.ok(String(tmpl(2).template).startsWith('{\n  "heat_template_version": "2014-10-16",\n'));
      // §2.3 back-fills
      assert.equal(tmpl(1).files, '{}');
      assert.ok(actual.get('user_creds')!.rows.filter((r) => Number(r.id) <= 3).every((r) => r.decrypt_method === 'heat_decrypt'));
      // 045: live 'prod*' is a backup; the deleted 'x*' is not
      const st = (n: number) => actual.get('stack')!.rows.find((r) => r.id === S(n))!;
      assert.deepEqual([st(5).backup, st(8).backup, st(17).backup, st(16).backup], [1, 0, 1, 0]);
      // 047: depth along the chain; backup stacks and their descendants keep 0
      assert.deepEqual([1, 2, 3, 4, 19, 5, 6, 8, 9, 12].map((n) => st(n).nested_depth), [0, 1, 2, 3, 4, 0, 0, 1, 2, 0]);
      // 065: the orphan's resources get the missing owner id as root; the backup's get prod's
      const rs = (n: number) => actual.get('resource')!.rows.find((r) => r.uuid === R(n))!;
      assert.equal(rs(9).root_stack_id, MISSING_OWNER);
      assert.equal(rs(6).root_stack_id, S(1));
      // 056: copied verbatim (no re-encoding of 10.0 or \/)
      assert.equal(tmpl(9).environment, '{"parameters": {"n": 10.0, "big": 12345678901234567890, "url": "http:\\/\\/x\\/y"}}');
      // 035 / 057: renumbered by created_at, old ids kept as uuid
      const evs = actual.get('event')!.rows;
      assert.deepEqual(evs.slice(0, 4).map((e) => e.uuid), ['7', '2', '10', '1']);
      assert.deepEqual(actual.get('resource')!.rows.slice(0, 3).map((r) => r.uuid), [R(2), R(4), R(1)]);
    });

    test('new events and resources continue after the renumbered ids', async () => {
      const events = FIXTURE.tables.event!.rows.length;
      const resources = FIXTURE.tables.resource!.rows.length;
      await db!.query(`INSERT INTO event (stack_id, uuid, created_at) VALUES (?, ?, ?)`, [S(1), 'f0000000-0000-4000-a000-000000000001', '2016-04-01 00:00:00']);
      await db!.query(`INSERT INTO resource (stack_id, uuid, name, created_at) VALUES (?, ?, ?, ?)`, [S(1), 'f0000000-0000-4000-a000-000000000002', 'new', '2016-04-01 00:00:00']);
      const ev = await db!.query(`SELECT id FROM event WHERE uuid = ?`, ['f0000000-0000-4000-a000-000000000001']);
      const rs = await db!.query(`SELECT id FROM resource WHERE uuid = ?`, ['f0000000-0000-4000-a000-000000000002']);
      assert.equal(Number(ev[0]!.id), events + 1, 'next event id');
      assert.equal(Number(rs[0]!.id), resources + 1, 'next resource id');
    });
  });
}

// ------------------------------------------------------------------------------------------------
// failure cases

interface RunResult {
  code: number | null;
  stderr: string;
  /** stdout and stderr, for failure messages. */
  output: string;
}

function runCli(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MIGRATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, output }));
  });
}

const BAD = 4242; // the raw_template id of the offending row
const GOOD = 4240; // a row the failing step would rewrite (must be untouched after a rollback)
const CFN = '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}';

const tmpl28 = (id: number, template: string | null): Row => ({ id, created_at: `2013-11-05 09:00:${pad(id % 60)}`, updated_at: null, template });
const creds28: Row = {
  id: 1, created_at: '2013-11-05 08:00:00', updated_at: null, username: 'demo', password: 'x', tenant: 'demo',
  auth_url: 'http://keystone:5000/v2.0', tenant_id: 't', trust_id: null, trustor_user_id: null,
};
function stack28(id: string, name: string | null, tmpl: number, created: string, params: string | null): Row {
  return {
    id, created_at: created, updated_at: null, deleted_at: null, name, raw_template_id: tmpl, user_creds_id: 1,
    username: 'demo', owner_id: null, action: 'CREATE', status: 'COMPLETE', status_reason: '', parameters: params,
    timeout: 60, tenant: 't', disable_rollback: 1,
  };
}

interface FailureCase {
  readonly name: string;
  /** The step that must fail (version N: the version stays at N-1). */
  readonly step: number;
  /** Inserts the rows at version 28. */
  readonly rows: ReadonlyArray<readonly [string, readonly Row[]]>;
  /** Identifiers of which at least one must appear in the message. */
  readonly rowIds: readonly string[];
  /** PostgreSQL/SQLite: nothing of the failed step is left. */
  readonly rolledBack: (db: TestDatabase) => Promise<void>;
  /** What an operator does about the row, after which the upgrade must reach 71 (on MariaDB too). */
  readonly repair: readonly [string, readonly unknown[]];
  /** The data after the repaired run (MIGRATIONS.md: worked out by hand). */
  readonly afterRepair: (db: TestDatabase) => Promise<void>;
}

const HOT_CHANGING = '{"heat_template_version": "2013-05-23", "parameters": {"a": {"Type": "String"}}, "resources": {"r": {"Type": "OS::Heat::None"}}}';
/** HOT_CHANGING after 037 (Type -> type, String -> string), 041 (Type -> type) and 043 (re-serialised). */
const HOT_CHANGED = '{"heat_template_version": "2013-05-23", "parameters": {"a": {"type": "string"}}, "resources": {"r": {"type": "OS::Heat::None"}}}';
const HOT_041 = '{"heat_template_version": "2014-10-16", "resources": {"r": {"Type": "OS::Heat::None"}}}';
const HOT_041_CHANGED = '{"heat_template_version": "2014-10-16", "resources": {"r": {"type": "OS::Heat::None"}}}';
const deleteBad: readonly [string, readonly unknown[]] = ['DELETE FROM raw_template WHERE id = ?', [BAD]];

async function templateUnchanged(db: TestDatabase, id: number, text: string | null): Promise<void> {
  const rows = await db.query('SELECT template FROM raw_template WHERE id = ?', [id]);
  assert.equal(rows[0]?.template ?? null, text, `raw_template ${id} must be as before the failed step`);
}

const FAILURES: readonly FailureCase[] = [
  {
    name: '037: NULL template',
    step: 37,
    rows: [['raw_template', [tmpl28(GOOD, HOT_CHANGING), tmpl28(BAD, null)]]],
    rowIds: [String(BAD)],
    rolledBack: (db) => templateUnchanged(db, GOOD, HOT_CHANGING),
    repair: deleteBad,
    afterRepair: (db) => templateUnchanged(db, GOOD, HOT_CHANGED),
  },
  {
    name: '037: template that is not JSON',
    step: 37,
    rows: [['raw_template', [tmpl28(GOOD, HOT_CHANGING), tmpl28(BAD, 'heat_template_version: 2013-05-23\nparameters:\n  a: {type: string}\n')]]],
    rowIds: [String(BAD)],
    rolledBack: (db) => templateUnchanged(db, GOOD, HOT_CHANGING),
    repair: deleteBad,
    afterRepair: (db) => templateUnchanged(db, GOOD, HOT_CHANGED),
  },
  {
    name: '037: HOT parameter without a type',
    step: 37,
    rows: [
      [
        'raw_template',
        [tmpl28(GOOD, HOT_CHANGING), tmpl28(BAD, '{"heat_template_version": "2013-05-23", "parameters": {"a": {"Type": "String"}, "b": {"description": "no type"}}}')],
      ],
    ],
    rowIds: [String(BAD)],
    rolledBack: (db) => templateUnchanged(db, GOOD, HOT_CHANGING),
    repair: deleteBad,
    afterRepair: (db) => templateUnchanged(db, GOOD, HOT_CHANGED),
  },
  {
    name: '041: a resource that is a string',
    step: 41,
    rows: [
      [
        'raw_template',
        [
          tmpl28(GOOD, HOT_041),
          tmpl28(BAD, '{"heat_template_version": "2014-10-16", "resources": {"server": "Type: OS::Nova::Server"}}'),
        ],
      ],
    ],
    rowIds: [String(BAD)],
    rolledBack: (db) => templateUnchanged(db, GOOD, HOT_041),
    repair: deleteBad,
    afterRepair: (db) => templateUnchanged(db, GOOD, HOT_041_CHANGED),
  },
  {
    name: '045: live stack with a NULL name',
    step: 45,
    rows: [
      ['raw_template', [tmpl28(1, CFN), tmpl28(2, CFN)]],
      ['user_creds', [creds28]],
      [
        'stack',
        [
          stack28('a0000000-0000-4000-a000-000000000045', 'web*', 1, '2013-11-05 10:00:00', null),
          stack28('badbadba-0000-4000-a000-000000000045', null, 2, '2013-11-05 10:00:01', null),
        ],
      ],
    ],
    rowIds: ['badbadba-0000-4000-a000-000000000045'],
    rolledBack: async (db) => {
      assert.ok(!(await columnNames(db, 'stack')).includes('backup'), 'stack.backup must not exist after the rollback');
    },
    repair: ['UPDATE stack SET name = ? WHERE id = ?', ['named', 'badbadba-0000-4000-a000-000000000045']],
    afterRepair: async (db) => {
      const rows = await db.query('SELECT id, backup FROM stack ORDER BY id');
      assert.deepEqual(
        rows.map((r) => [r.id, normalise('backup', r.backup)]),
        [['a0000000-0000-4000-a000-000000000045', 1], ['badbadba-0000-4000-a000-000000000045', 0]],
      );
    },
  },
  {
    name: '056: two live stacks sharing one template',
    step: 56,
    rows: [
      ['raw_template', [tmpl28(BAD, CFN)]],
      ['user_creds', [creds28]],
      [
        'stack',
        [
          stack28('badbadba-0000-4000-a000-000000000561', 'one', BAD, '2013-11-05 10:00:00', '{"parameters": {"a": "1"}}'),
          stack28('badbadba-0000-4000-a000-000000000562', 'two', BAD, '2013-11-05 10:00:01', '{"parameters": {"a": "2"}}'),
        ],
      ],
    ],
    rowIds: [String(BAD), 'badbadba-0000-4000-a000-000000000561', 'badbadba-0000-4000-a000-000000000562'],
    rolledBack: async (db) => {
      assert.ok((await columnNames(db, 'stack')).includes('parameters'), 'stack.parameters must still exist');
      const cols = await columnNames(db, 'raw_template');
      assert.ok(!cols.includes('environment') && !cols.includes('predecessor'), `raw_template must not have 056's columns: ${cols.join(', ')}`);
      const params = await db.query('SELECT parameters FROM stack ORDER BY id');
      assert.deepEqual(params.map((r) => r.parameters), ['{"parameters": {"a": "1"}}', '{"parameters": {"a": "2"}}']);
    },
    repair: ['UPDATE stack SET deleted_at = ? WHERE id = ?', ['2013-11-06 00:00:00', 'badbadba-0000-4000-a000-000000000562']],
    afterRepair: async (db) => {
      const rows = await db.query('SELECT environment FROM raw_template WHERE id = ?', [BAD]);
      assert.equal(rows[0]?.environment, '{"parameters": {"a": "1"}}');
    },
  },
];

for (const dialect of ALL_DIALECTS) {
  // independent databases: run the cases side by side
  describe(`heat data migration failures on ${dialect}`, { ...(await skipUnlessReachable(dialect)), concurrency: 3 }, () => {
    for (const fc of FAILURES) {
      test(`${fc.name}: fails at ${fc.step}, then succeeds once the row is repaired`, async () => {
        const db = await prepare(dialect);
        try {
          for (const [table, rows] of fc.rows) await insertRows(db, 28, table, rows);
          const r = await runCli(['upgrade', db.url, REPO]);
          assert.notEqual(r.code, 0, `upgrade must fail at ${fc.step}; output:\n${r.output}`);
          assert.equal(await currentVersion(db), fc.step - 1, `version must stay at ${fc.step - 1}; output:\n${r.output}`);
          // the error (stderr) itself, not the progress lines, must name the step and the row
          assert.match(r.stderr, new RegExp(`\\b0?${fc.step}\\b`), `the error must name step ${fc.step}:\n${r.output}`);
          assert.ok(
            fc.rowIds.some((id) => new RegExp(`\\b${id}\\b`).test(r.stderr)),
            `the error must name the row (${fc.rowIds.join(' or ')}):\n${r.output}`,
          );
          if (dialect !== 'mysql') await fc.rolledBack(db);
          // the failed step can be run again once the row is dealt with (MariaDB: after partial DDL)
          await db.query(fc.repair[0], [...fc.repair[1]]);
          await upgrade(db.url, REPO, 71, opts);
          assert.equal(await currentVersion(db), 71);
          await fc.afterRepair(db);
        } finally {
          await db.drop();
        }
      });
    }
  });
}
