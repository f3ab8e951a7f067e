/**
 * Heat's schema on each backend.
 *
 *  - Empty database -> version_control 27 -> upgrade to 71: the dumps equal the target files
 *    (test/fixtures/heat-schema, copied from ../shared/heat-schema) byte for byte; on MariaDB also
 *    the tables' engine and charset.
 *  - Every intermediate version 28..71: the column lists (and order) of every table, the index and
 *    FK names (MariaDB), constraint/index names and sequences (PostgreSQL), indexes and FKs (SQLite),
 *    and the column types where a step changes them, as MIGRATIONS.md §3 describes them.
 *    The expected model below is written from the specification, step by step.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { dumpMysql, dumpPg, dumpSqlite, mysqlDefaultCollation, mysqlTableOptions } from '../support/dump.js';
import * as api from '../../migrate/api.js';
import type { Logger } from '../../migrate/script/contract.js';
import { HEAT_REPO, heatUpgrade, heatVersionControl } from '../support/heat-run.js';

const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as Logger;

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

// ------------------------------------------------------------------------------------------------
// The expected schema at version n, from MIGRATIONS.md §3.

type Lists = Map<string, string[]>;

interface Model {
  /** Column names in order, MySQL and PostgreSQL. */
  columns: Lists;
  /** Column names in order, SQLite (rebuilt tables differ). */
  sqliteColumns: Lists;
  /** MariaDB index names other than PRIMARY. */
  mysqlIndexes: Lists;
  /** MariaDB FK constraint names. */
  mysqlFks: Lists;
  /** PostgreSQL constraint names. */
  pgConstraints: Lists;
  /** PostgreSQL index names. */
  pgIndexes: Lists;
  /** PostgreSQL sequences -> 'owned by t.c' | 'not owned'. */
  pgSequences: Map<string, string>;
  /** SQLite `index:origin`. */
  sqliteIndexes: Lists;
  /** SQLite FKs `from->table(to)`. */
  sqliteFks: Lists;
}

function modelAt(n: number): Model {
  const m: Model = {
    columns: new Map(), sqliteColumns: new Map(), mysqlIndexes: new Map(), mysqlFks: new Map(),
    pgConstraints: new Map(), pgIndexes: new Map(), pgSequences: new Map(), sqliteIndexes: new Map(), sqliteFks: new Map(),
  };
  const words = (s: string) => (s ? s.split(' ') : []);
  const put = (l: Lists, t: string, items: string) => l.set(t, [...(l.get(t) ?? []), ...words(items)]);
  const del = (l: Lists, t: string, items: string) => l.set(t, (l.get(t) ?? []).filter((x) => !words(items).includes(x)));
  /** A new table: columns (both orders), PG pkey + its index. */
  const table = (t: string, cols: string) => {
    put(m.columns, t, cols);
    put(m.sqliteColumns, t, cols);
    put(m.pgConstraints, t, `${t}_pkey`);
    put(m.pgIndexes, t, `${t}_pkey`);
    m.mysqlIndexes.set(t, m.mysqlIndexes.get(t) ?? []);
    m.mysqlFks.set(t, []);
    m.sqliteIndexes.set(t, []);
    m.sqliteFks.set(t, []);
  };
  const addCols = (t: string, cols: string) => {
    put(m.columns, t, cols);
    put(m.sqliteColumns, t, cols);
  };
  const dropCols = (t: string, cols: string) => {
    del(m.columns, t, cols);
    del(m.sqliteColumns, t, cols);
  };
  /** An unnamed FK declared in CREATE TABLE: `<t>_ibfk_<k>` with a column-named index (MariaDB). */
  const ibfk = (t: string, k: number, col: string, ref: string, reuseIndex = false) => {
    put(m.mysqlFks, t, `${t}_ibfk_${k}`);
    if (!reuseIndex) put(m.mysqlIndexes, t, col);
    put(m.pgConstraints, t, `${t}_${col}_fkey`);
    put(m.sqliteFks, t, `${col}->${ref}(id)`);
  };
  /** A named FK: the same name everywhere, and the name of its index on MariaDB. */
  const namedFk = (t: string, name: string, col: string, ref: string) => {
    put(m.mysqlFks, t, name);
    put(m.mysqlIndexes, t, name);
    put(m.pgConstraints, t, name);
    put(m.sqliteFks, t, `${col}->${ref}(id)`);
  };
  const index = (t: string, name: string) => {
    put(m.mysqlIndexes, t, name);
    put(m.pgIndexes, t, name);
    put(m.sqliteIndexes, t, `${name}:c`);
  };
  const owned = (t: string) => m.pgSequences.set(`${t}_id_seq`, `owned by ${t}.id`);
  const sqlitePk = (t: string) => put(m.sqliteIndexes, t, `sqlite_autoindex_${t}_1:pk`);

  table('migrate_version', 'repository_id repository_path version');
  sqlitePk('migrate_version');
  if (n >= 28) {
    table('raw_template', 'id created_at updated_at template');
    table('user_creds', 'id created_at updated_at username password tenant auth_url tenant_id trust_id trustor_user_id');
    table(
      'stack',
      'id created_at updated_at deleted_at name raw_template_id user_creds_id username owner_id action status ' +
        'status_reason parameters timeout tenant disable_rollback',
    );
    ibfk('stack', 1, 'raw_template_id', 'raw_template');
    ibfk('stack', 2, 'user_creds_id', 'user_creds');
    sqlitePk('stack');
    table('resource', 'id nova_instance name created_at updated_at action status status_reason stack_id rsrc_metadata');
    ibfk('resource', 1, 'stack_id', 'stack');
    sqlitePk('resource');
    table('resource_data', 'id created_at updated_at key value redact resource_id');
    ibfk('resource_data', 1, 'resource_id', 'resource');
    table(
      'event',
      'id stack_id created_at updated_at resource_action resource_status resource_name physical_resource_id ' +
        'resource_status_reason resource_type resource_properties',
    );
    ibfk('event', 1, 'stack_id', 'stack');
    table('watch_rule', 'id created_at updated_at name state rule last_evaluated stack_id');
    ibfk('watch_rule', 1, 'stack_id', 'stack');
    table('watch_data', 'id created_at updated_at data watch_rule_id');
    ibfk('watch_data', 1, 'watch_rule_id', 'watch_rule');
    for (const t of ['raw_template', 'user_creds', 'resource_data', 'event', 'watch_rule', 'watch_data']) owned(t);
  }
  if (n >= 29) sqlitePk('event'); // event.id is a VARCHAR primary key now
  if (n >= 31) {
    table('stack_lock', 'stack_id created_at updated_at engine_id');
    ibfk('stack_lock', 1, 'stack_id', 'stack', true);
    sqlitePk('stack_lock');
  }
  if (n >= 32) {
    addCols('user_creds', 'decrypt_method');
    addCols('resource_data', 'decrypt_method');
  }
  if (n >= 33) {
    table('software_config', 'id created_at updated_at name group config io tenant');
    sqlitePk('software_config');
    index('software_config', 'ix_software_config_tenant');
    table(
      'software_deployment',
      'id created_at updated_at server_id config_id input_values output_values signal_id action status status_reason tenant',
    );
    sqlitePk('software_deployment');
    ibfk('software_deployment', 1, 'config_id', 'software_config');
    for (const c of ['created_at', 'server_id', 'tenant']) index('software_deployment', `ix_software_deployment_${c}`);
  }
  if (n >= 34) addCols('raw_template', 'files');
  if (n >= 35) {
    del(m.columns, 'event', 'id');
    put(m.columns, 'event', 'uuid id');
    m.sqliteColumns.set(
      'event',
      words(
        'id stack_id uuid resource_action resource_status resource_name physical_resource_id resource_status_reason ' +
          'resource_type resource_properties created_at updated_at',
      ),
    );
    put(m.mysqlIndexes, 'event', 'event_uuid_key');
    put(m.pgConstraints, 'event', 'event_uuid_key');
    put(m.pgIndexes, 'event', 'event_uuid_key');
    m.sqliteIndexes.set('event', ['sqlite_autoindex_event_1:u']);
    m.pgSequences.delete('event_id_seq');
    m.pgSequences.set('evt', 'not owned');
  }
  if (n >= 36) addCols('stack', 'stack_user_project_id');
  if (n >= 38) dropCols('software_config', 'io');
  if (n >= 40) dropCols('software_deployment', 'signal_id');
  if (n >= 42) addCols('software_deployment', 'stack_user_project_id');
  if (n >= 44) {
    table('snapshot', 'id stack_id name created_at updated_at status status_reason data tenant');
    sqlitePk('snapshot');
    ibfk('snapshot', 1, 'stack_id', 'stack');
    index('snapshot', 'ix_snapshot_tenant');
  }
  if (n >= 45) addCols('stack', 'backup');
  if (n >= 46) addCols('resource', 'properties_data');
  if (n >= 47) addCols('stack', 'nested_depth');
  if (n >= 49) addCols('user_creds', 'region_name');
  if (n >= 50) addCols('stack', 'tags');
  if (n >= 51) {
    table('service', 'id engine_id host hostname binary topic report_interval created_at updated_at deleted_at');
    sqlitePk('service');
  }
  if (n >= 52) addCols('stack', 'convergence');
  if (n >= 53) {
    index('stack', 'ix_stack_name');
    index('stack', 'ix_stack_tenant');
  }
  if (n >= 54) {
    dropCols('stack', 'tags');
    table('stack_tag', 'id created_at updated_at tag stack_id');
    ibfk('stack_tag', 1, 'stack_id', 'stack');
    owned('stack_tag');
  }
  if (n >= 55) {
    addCols('stack', 'prev_raw_template_id current_traversal current_deps');
    namedFk('stack', 'prev_raw_template_ref', 'prev_raw_template_id', 'raw_template');
  }
  if (n >= 56) {
    addCols('raw_template', 'environment predecessor');
    namedFk('raw_template', 'predecessor_fkey_ref', 'predecessor', 'raw_template');
    dropCols('stack', 'parameters');
  }
  if (n >= 57) {
    del(m.columns, 'resource', 'id');
    put(m.columns, 'resource', 'uuid id');
    m.sqliteColumns.set(
      'resource',
      words('id stack_id uuid name nova_instance action status status_reason rsrc_metadata properties_data created_at updated_at'),
    );
    dropCols('resource_data', 'resource_id');
    addCols('resource_data', 'resource_id');
    put(m.mysqlIndexes, 'resource', 'resource_uuid_key');
    put(m.pgConstraints, 'resource', 'resource_uuid_key');
    put(m.pgIndexes, 'resource', 'resource_uuid_key');
    m.sqliteIndexes.set('resource', ['sqlite_autoindex_resource_1:u']);
    m.mysqlFks.set('resource_data', ['resource_data_resource_id_fkey']);
    m.mysqlIndexes.set('resource_data', ['resource_data_resource_id_fkey']);
    m.pgSequences.set('res', 'not owned');
  }
  if (n >= 58) addCols('resource', 'engine_id atomic_key');
  if (n >= 59) {
    table('sync_point', 'entity_id traversal_id is_update atomic_key stack_id input_data created_at updated_at');
    sqlitePk('sync_point');
    namedFk('sync_point', 'fk_stack_id', 'stack_id', 'stack');
  }
  if (n >= 60) {
    addCols('resource', 'needed_by requires replaces replaced_by current_template_id');
    namedFk('resource', 'current_template_fkey_ref', 'current_template_id', 'raw_template');
  }
  if (n >= 62) addCols('stack', 'parent_resource_name');
  if (n >= 63) addCols('resource', 'properties_data_encrypted');
  if (n >= 64) {
    dropCols('raw_template', 'predecessor');
    for (const l of [m.mysqlFks, m.mysqlIndexes, m.pgConstraints]) del(l, 'raw_template', 'predecessor_fkey_ref');
    m.sqliteFks.set('raw_template', []);
  }
  if (n >= 65) {
    addCols('resource', 'root_stack_id');
    index('resource', 'ix_resource_root_stack_id');
  }
  if (n >= 71) index('stack', 'ix_stack_owner_id');
  return m;
}

/** Per table, the type facts a step changes: [table, column, MySQL COLUMN_TYPE, PG type, SQLite type, nullable]. */
function typesAt(n: number): Array<[string, string, string, string, string, boolean]> {
  const facts: Array<[string, string, string, string, string, boolean]> = [];
  if (n >= 28) {
    facts.push(
      n >= 29 && n < 35
        ? ['event', 'id', 'varchar(36)', 'character varying(36)', 'VARCHAR(36)', false]
        : ['event', 'id', 'int(11)', 'integer', 'INTEGER', false],
      ['stack', 'user_creds_id', 'int(11)', 'integer', 'INTEGER', n >= 39],
      n >= 57
        ? ['resource', 'id', 'int(11)', 'integer', 'INTEGER', false]
        : ['resource', 'id', 'varchar(36)', 'character varying(36)', 'VARCHAR(36)', false],
      n >= 57
        ? ['resource_data', 'resource_id', 'int(11)', 'integer', 'INTEGER', false]
        : ['resource_data', 'resource_id', 'varchar(36)', 'character varying(36)', 'VARCHAR(36)', false],
    );
    for (const t of ['stack', 'resource']) {
      facts.push(n >= 61 ? [t, 'status_reason', 'text', 'text', 'TEXT', true] : [t, 'status_reason', 'varchar(255)', 'character varying(255)', 'VARCHAR(255)', true]);
    }
  }
  if (n >= 33) {
    facts.push(
      n >= 61
        ? ['software_deployment', 'status_reason', 'text', 'text', 'TEXT', true]
        : ['software_deployment', 'status_reason', 'varchar(255)', 'character varying(255)', 'VARCHAR(255)', true],
      ['software_config', 'config', 'longtext', 'text', 'TEXT', true],
    );
  }
  if (n >= 35) facts.push(['event', 'uuid', 'varchar(36)', 'character varying(36)', 'VARCHAR(36)', true]);
  if (n >= 57) facts.push(['resource', 'uuid', 'varchar(36)', 'character varying(36)', 'VARCHAR(36)', true]);
  return facts;
}

// ------------------------------------------------------------------------------------------------
// Parsing the dumps.

function rows(tsvText: string): string[][] {
  return tsvText
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

function group(items: Array<[string, string]>): Lists {
  const out: Lists = new Map();
  for (const [t, v] of items) out.set(t, [...(out.get(t) ?? []), v]);
  return out;
}

const sorted = (l: Lists) => new Map([...l].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].sort()]));
const ordered = (l: Lists) => new Map([...l].sort(([a], [b]) => (a < b ? -1 : 1)));
/** Lists with an entry for every table of `tables` (tables without items get []). */
function complete(l: Lists, tables: Iterable<string>): Lists {
  const out: Lists = new Map();
  for (const t of tables) out.set(t, l.get(t) ?? []);
  return out;
}

async function checkVersion(db: TestDatabase, n: number): Promise<void> {
  const m = modelAt(n);
  const facts = typesAt(n);
  const tables = [...m.columns.keys()];
  const at = `at version ${n}`;
  if (db.dialect === 'mysql') {
    const d = await dumpMysql(db.name);
    const cols = rows(d.columns);
    assert.deepEqual(ordered(group(cols.map((r) => [r[0]!, r[1]!]))), ordered(m.columns), `columns ${at}`);
    const idx = rows(d.indexesExt).filter((r) => r[1] !== 'PRIMARY' && r[3] === '1');
    assert.deepEqual(sorted(complete(group(idx.map((r) => [r[0]!, r[1]!])), tables)), sorted(m.mysqlIndexes), `indexes ${at}`);
    const fks = rows(d.fks);
    assert.deepEqual(sorted(complete(group(fks.map((r) => [r[1]!, r[0]!])), tables)), sorted(m.mysqlFks), `FKs ${at}`);
    for (const [t, c, type, , , nullable] of facts) {
      const r = cols.find((x) => x[0] === t && x[1] === c)!;
      assert.deepEqual([r[3], r[4]], [type, nullable ? 'YES' : 'NO'], `${t}.${c} ${at}`);
    }
    const eventId = cols.find((x) => x[0] === 'event' && x[1] === 'id');
    if (n >= 28) assert.equal(eventId?.[7], n >= 29 && n < 35 ? '' : 'auto_increment', `event.id extra ${at}`);
    if (n >= 53) {
      const tenant = rows(d.indexesExt).find((r) => r[1] === 'ix_stack_tenant')!;
      assert.equal(tenant[5], '255', `ix_stack_tenant prefix ${at}`);
    }
    for (const o of await mysqlTableOptions(db.name)) {
      if (o.table !== 'migrate_version') assert.deepEqual([o.engine, o.collation], ['InnoDB', 'utf8mb3_general_ci'], `${o.table} ${at}`);
    }
  } else if (db.dialect === 'postgresql') {
    const cat = rows(await dumpPg(db.name));
    const kind = (k: string) => cat.filter((r) => r[0] === k);
    assert.deepEqual(ordered(group(kind('column').map((r) => [r[1]!, r[2]!]))), ordered(m.columns), `columns ${at}`);
    assert.deepEqual(sorted(complete(group(kind('constraint').map((r) => [r[1]!, r[2]!])), tables)), sorted(m.pgConstraints), `constraints ${at}`);
    assert.deepEqual(sorted(complete(group(kind('index').map((r) => [r[1]!, r[2]!])), tables)), sorted(m.pgIndexes), `indexes ${at}`);
    assert.deepEqual(
      new Map(kind('sequence').map((r) => [r[2]!, r[4]!])),
      new Map([...m.pgSequences].sort(([a], [b]) => (a < b ? -1 : 1))),
      `sequences ${at}`,
    );
    for (const [t, c, , type, , nullable] of facts) {
      const r = kind('column').find((x) => x[1] === t && x[2] === c)!;
      assert.deepEqual([r[4], r[5]], [type, nullable ? 'NULL' : 'NOT NULL'], `${t}.${c} ${at}`);
    }
    const dflt = (t: string) => kind('column').find((x) => x[1] === t && x[2] === 'id')?.[6];
    if (n >= 28) assert.equal(dflt('event'), n >= 35 ? "nextval('evt'::regclass)" : "nextval('event_id_seq'::regclass)", `event.id default ${at}`);
    if (n >= 28) assert.equal(dflt('resource'), n >= 57 ? "nextval('res'::regclass)" : '\\N', `resource.id default ${at}`);
  } else {
    const cat = rows(await dumpSqlite(db.file!));
    const kind = (k: string) => cat.filter((r) => r[0] === k);
    assert.deepEqual(ordered(group(kind('column').map((r) => [r[1]!, r[2]!]))), ordered(m.sqliteColumns), `columns ${at}`);
    assert.deepEqual(
      sorted(complete(group(kind('index').map((r) => [r[1]!, `${r[2]}:${r[5]!.replace('origin=', '')}`])), tables)),
      sorted(m.sqliteIndexes),
      `indexes ${at}`,
    );
    assert.deepEqual(
      sorted(complete(group(kind('fk').map((r) => [r[1]!, `${r[2]}->${r[4]}`])), tables)),
      sorted(m.sqliteFks),
      `FKs ${at}`,
    );
    for (const [t, c, , , type, nullable] of facts) {
      const r = kind('column').find((x) => x[1] === t && x[2] === c)!;
      assert.deepEqual([r[4], r[5]], [type, nullable ? 'NULL' : 'NOT NULL'], `${t}.${c} ${at}`);
    }
  }
}

// ------------------------------------------------------------------------------------------------

for (const dialect of ALL_DIALECTS) {
  describe(`Heat schema on ${dialect}`, async () => {
    const opts = await skipUnlessReachable(dialect);

    test('empty database -> version_control 27 -> upgrade: equals the target dumps', opts, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await heatVersionControl(db.url);
        const result = await heatUpgrade(db.url);
        assert.deepEqual([result.from, result.to, result.steps.length], [27, 71, 44]);
        const row = await db.query('SELECT repository_id, version FROM migrate_version');
        assert.deepEqual(row.map((r) => [r.repository_id, Number(r.version)]), [['heat', 71]]);
        if (dialect === 'mysql') {
          const d = await dumpMysql(db.name);
          assert.equal(d.columns, fixture('mysql-71-columns.tsv'));
          assert.equal(d.indexes, fixture('mysql-71-indexes.tsv'));
          assert.equal(d.indexesExt, fixture('mysql-71-indexes-ext.tsv'));
          assert.equal(d.fks, fixture('mysql-71-fks.tsv'));
          const options = await mysqlTableOptions(db.name);
          assert.equal(options.length, 16);
          const dflt = await mysqlDefaultCollation(db.name);
          for (const o of options) {
            const want = o.table === 'migrate_version' ? dflt : 'utf8mb3_general_ci';
            assert.deepEqual([o.table, o.engine, o.collation], [o.table, 'InnoDB', want]);
          }
        } else if (dialect === 'postgresql') {
          assert.equal(await dumpPg(db.name), fixture('postgresql-71-catalog.tsv'));
        } else {
          assert.equal(await dumpSqlite(db.file!), fixture('sqlite-71-catalog.tsv'));
          // The whole catalog, not only what the dumper shows: the target's tables plus the engine's
          // migrate_* tables, nothing else (no sqlite_sequence: migrate_log has no AUTOINCREMENT).
          const target = [...fixture('sqlite-71.sql').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?(\w+)"?/g)].map((m) => m[1]!);
          const have = (await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => String(r.name));
          assert.deepEqual(target.filter((n) => !have.includes(n)), [], 'every table of the target exists');
          assert.deepEqual(have.filter((n) => !target.includes(n) && !n.startsWith('migrate_')).sort(), [], 'nothing but migrate_* tables added');
        }
        // No script defines downgrade(): a downgrade fails on 071 before any SQL (MIGRATIONS.md §1.4).
        await assert.rejects(api.downgrade(db.url, HEAT_REPO, 70, { logger: silent }), /Function 'downgrade' is not defined in this script \(versions\/071_stack_owner_id_index/);
        assert.deepEqual((await db.query('SELECT version FROM migrate_version')).map((r) => Number(r.version)), [71]);
      } finally {
        await db.drop();
      }
    });

    test('every version 28..71 has the schema MIGRATIONS.md describes', opts, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await heatVersionControl(db.url);
        await checkVersion(db, 27);
        for (let n = 28; n <= 71; n++) {
          await heatUpgrade(db.url, n);
          assert.equal(Number((await db.query('SELECT version FROM migrate_version'))[0]!.version), n);
          await checkVersion(db, n);
        }
        // The model at 71 agrees with the target dumps (so the model itself is checked).
        await checkVersion(db, 71);
      } finally {
        await db.drop();
      }
    });
  });
}
