/**
 * Heat's TypeORM models (heat/db/models.ts) against real databases — the ModelsMigrationsSync check
 * of oslo.db: on each backend the entity metadata must equal the live catalog (columns, types,
 * nullability, generated ids, primary keys, indexes, unique constraints, foreign keys), both for
 * a database loaded from the target dump (test/fixtures/heat-schema/<backend>-71.sql, Heat's real
 * output) and for one built by `heat-manage db_sync`. The comparer is shown to fail: hand-made
 * schema pairs (no server needed), and deliberately altered entities against the target database.
 * Finally a Stack with its RawTemplate and UserCreds goes through the repository API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource, EntitySchema, type EntitySchemaColumnOptions, type EntitySchemaRelationOptions } from 'typeorm';
import Database from 'better-sqlite3';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { runHeat } from '../support/heat-cli.js';
import { parseUrl } from '../../migrate/url.js';
import { buildHeatEntities, HEAT_TABLES, heatEntities, heatEntitiesFor, type RawTemplate, type Stack, type UserCreds } from '../../heat/db/models.js';
import { readCatalog, sqliteFkNames } from '../../heat/db/models/catalog.js';
import { modelsMigrationsDiff } from '../../heat/db/models/sync.js';
import { canonicalType, diffSchemas, formatDifference, type SchemaModel, type TableModel } from '../../heat/db/models/schema-diff.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-schema');

type AnySchema = EntitySchema<any>;

async function openDataSource(db: TestDatabase, entities: AnySchema[]): Promise<DataSource> {
  const common = { entities, synchronize: false, logging: false } as const;
  if (db.dialect === 'sqlite') return new DataSource({ type: 'better-sqlite3', database: db.file!, ...common }).initialize();
  const u = parseUrl(db.url);
  const conn = { host: u.host, port: u.port, username: u.username, password: u.password, database: u.database };
  if (db.dialect === 'mysql') return new DataSource({ type: 'mysql', ...conn, ...common }).initialize();
  return new DataSource({ type: 'postgres', ...conn, ...common }).initialize();
}

/** A database holding exactly the target dump of Heat's schema at 71 (Heat's own output). */
async function loadTargetDump(dialect: TestDialect): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect);
  const sql = readFileSync(resolve(FIXTURES, `${dialect}-71.sql`), 'utf8');
  if (dialect === 'sqlite') {
    const s = new Database(db.file!);
    try {
      s.exec(sql);
    } finally {
      s.close();
    }
  } else if (dialect === 'mysql') {
    await db.query(sql);
  } else {
    // psql meta-commands (\restrict) are not SQL.
    await db.query(sql.split('\n').filter((l) => !l.startsWith('\\')).join('\n'));
  }
  return db;
}

async function diffLines(db: TestDatabase, entities: AnySchema[]): Promise<string[]> {
  const ds = await openDataSource(db, entities);
  try {
    return (await modelsMigrationsDiff(ds)).map(formatDifference);
  } finally {
    await ds.destroy();
  }
}

/** Counts from the target's README/MIGRATIONS.md §4: the catalog reader sees the whole schema. */
const EXPECTED_COUNTS: Record<TestDialect, { tables: number; columns: number; indexes: number; fks: number }> = {
  // MariaDB: 42 STATISTICS rows = 18 primary-key rows + 24 other index rows.
  mysql: { tables: 16, columns: 153, indexes: 24, fks: 14 },
  postgresql: { tables: 16, columns: 153, indexes: 11, fks: 14 },
  sqlite: { tables: 16, columns: 153, indexes: 11, fks: 14 },
};

function counts(s: SchemaModel) {
  const sum = (f: (t: TableModel) => number) => s.reduce((n, t) => n + f(t), 0);
  return { tables: s.length, columns: sum((t) => t.columns.length), indexes: sum((t) => t.indexes.length), fks: sum((t) => t.foreignKeys.length) };
}

describe('schema comparer without a database', () => {
  const base: TableModel = {
    name: 't',
    columns: [
      { name: 'id', type: 'integer', nullable: false, generated: true, default: null },
      { name: 'name', type: 'varchar(255)', nullable: true, generated: false, default: null },
      { name: 'p_id', type: 'integer', nullable: false, generated: false, default: null },
    ],
    primaryKey: { name: 't_pkey', columns: ['id'] },
    indexes: [
      { name: 'ix_t_name', columns: ['name'], unique: false },
      { name: null, columns: ['p_id'], unique: true },
    ],
    foreignKeys: [{ name: 'fk_p', columns: ['p_id'], refTable: 'p', refColumns: ['id'], onDelete: 'NO ACTION', onUpdate: 'NO ACTION' }],
  };

  test('identical schemas have no difference', () => {
    assert.deepEqual(diffSchemas([base], [structuredClone(base)]), []);
  });

  test('every kind of difference is reported, on the side it is on', () => {
    const db: TableModel = {
      ...base,
      columns: [
        { name: 'id', type: 'integer', nullable: false, generated: false, default: null },
        { name: 'name', type: 'varchar(64)', nullable: false, generated: false, default: "'x'" },
        { name: 'extra', type: 'text', nullable: true, generated: false, default: null },
      ],
      primaryKey: { name: 't_pkey', columns: ['id', 'name'] },
      indexes: [
        { name: 'ix_t_name', columns: ['name', 'id'], unique: false },
        { name: 't_p_id_key', columns: ['p_id'], unique: true },
        { name: 'ix_other', columns: ['id'], unique: false },
      ],
      foreignKeys: [{ name: 'other_name', columns: ['p_id'], refTable: 'p', refColumns: ['id'], onDelete: 'CASCADE', onUpdate: 'NO ACTION' }],
    };
    const lines = diffSchemas([base, { ...base, name: 'only_models' }], [db, { ...base, name: 'only_db' }]).map(formatDifference);
    assert.deepEqual(lines, [
      'only_db table: models=(none) database=present',
      'only_models table: models=present database=(none)',
      't.extra column: models=(none) database=text',
      't.p_id column: models=integer database=(none)',
      "t.name default: models=(none) database='x'",
      't.fk_p foreign_key: models=(p_id) -> p(id) ON DELETE NO ACTION ON UPDATE NO ACTION database=(p_id) -> p(id) ON DELETE CASCADE ON UPDATE NO ACTION',
      't.fk_p foreign_key: models=name fk_p database=name other_name',
      't.id generated: models=true database=false',
      't.(unnamed) index: models=name (unnamed) database=name t_p_id_key',
      't.ix_other index: models=(none) database=(id)',
      't.ix_t_name index: models=(name) database=(name, id)',
      't.name nullable: models=true database=false',
      't primary_key: models=(id) database=(id, name)',
      't.name type: models=varchar(255) database=varchar(64)',
    ]);
  });

  test('a primary key name counts only where both sides name it (MariaDB says PRIMARY)', () => {
    const unnamed = { ...base, primaryKey: { name: null, columns: ['id'] } };
    assert.deepEqual(diffSchemas([base], [unnamed]), []);
    const renamed = { ...base, primaryKey: { name: 'other_pkey', columns: ['id'] } };
    assert.deepEqual(diffSchemas([base], [renamed]).map(formatDifference), ['t primary_key: models=t_pkey database=other_pkey']);
  });

  test('type names of the three backends meet in one vocabulary', () => {
    const same: Array<[TestDialect, string, string]> = [
      ['mysql', 'int(11)', 'integer'],
      ['postgresql', 'integer', 'integer'],
      ['sqlite', 'INTEGER', 'integer'],
      ['mysql', 'varchar(255)', 'varchar(255)'],
      ['postgresql', 'character varying(255)', 'varchar(255)'],
      ['sqlite', 'VARCHAR(255)', 'varchar(255)'],
      ['mysql', 'longtext', 'longtext'],
      ['mysql', 'text', 'text'],
      ['postgresql', 'text', 'text'],
      ['sqlite', 'TEXT', 'text'],
      ['mysql', 'tinyint(1)', 'boolean'],
      ['postgresql', 'boolean', 'boolean'],
      ['sqlite', 'BOOLEAN', 'boolean'],
      ['mysql', 'datetime', 'datetime'],
      ['postgresql', 'timestamp without time zone', 'datetime'],
      ['postgresql', 'timestamp', 'datetime'],
      ['sqlite', 'DATETIME', 'datetime'],
      ['mysql', 'blob', 'blob'],
      ['postgresql', 'bytea', 'blob'],
      ['sqlite', 'BLOB', 'blob'],
    ];
    for (const [d, raw, canon] of same) assert.equal(canonicalType(d, raw), canon, `${d} ${raw}`);
    assert.equal(canonicalType('mysql', 'varchar', '36'), 'varchar(36)');
    assert.equal(canonicalType('mysql', 'timestamp'), 'timestamp', "MySQL's TIMESTAMP is not DATETIME");
    assert.equal(canonicalType('mysql', 'tinyint(4)'), 'tinyint');
    assert.notEqual(canonicalType('mysql', 'text'), canonicalType('mysql', 'longtext'));
  });

  test("SQLite FK names come from the table's SQL", () => {
    const sql = 'CREATE TABLE x (a INT, b INT, FOREIGN KEY(a) REFERENCES p (id), CONSTRAINT "fk b" FOREIGN KEY(b, a) REFERENCES q (x, y))';
    assert.deepEqual([...sqliteFkNames(sql)], [['b,a', 'fk b']]);
  });
});

describe('entity sets', () => {
  test('one entity per table at 71, the same tables in every flavour', () => {
    for (const f of ['mysql', 'postgresql', 'sqlite', 'portable'] as const) {
      const tables = heatEntitiesFor(f).map((e) => e.options.tableName).sort();
      assert.deepEqual(tables, [...HEAT_TABLES], f);
    }
    assert.equal(heatEntities, heatEntitiesFor('portable'));
  });
});

/** Changes to the models that the comparison must catch, and what it must say (per backend). */
function alterEntities(dialect: TestDialect): { entities: AnySchema[]; expected: string[] } {
  const entities = buildHeatEntities(dialect);
  const by = (table: string) => entities.find((e) => e.options.tableName === table)!.options;
  const stack = by('stack');
  const cols = stack.columns as Record<string, EntitySchemaColumnOptions>;
  cols.name = { ...cols.name!, nullable: false };
  delete cols.parent_resource_name;
  stack.indices = stack.indices!.filter((i) => i.name !== 'ix_stack_name');
  const snapCols = by('snapshot').columns as Record<string, EntitySchemaColumnOptions>;
  snapCols.status_reason = { ...snapCols.status_reason!, length: 200 };
  const rd = by('resource_data').relations as Record<string, EntitySchemaRelationOptions>;
  rd.resource = { ...rd.resource!, joinColumn: { name: 'resource_id', foreignKeyConstraintName: 'renamed_fkey' } };
  by('event').uniques = [];
  entities.push(new EntitySchema({ name: 'Bogus', tableName: 'bogus', columns: { id: { type: 'integer', primary: true } } }));

  const oldFk = { mysql: 'resource_data_resource_id_fkey', postgresql: 'resource_data_resource_id_fkey', sqlite: '(unnamed)' }[dialect];
  const uuidKey = dialect === 'sqlite' ? '(unnamed)' : 'event_uuid_key';
  const expected = [
    'bogus table: models=present database=(none)',
    `event.${uuidKey} index: models=(none) database=UNIQUE (uuid)`,
    `resource_data.renamed_fkey foreign_key: models=name renamed_fkey database=name ${oldFk}`,
    'snapshot.status_reason type: models=varchar(200) database=varchar(255)',
    'stack.parent_resource_name column: models=(none) database=varchar(255)',
    'stack.ix_stack_name index: models=(none) database=(name)',
    'stack.name nullable: models=false database=true',
  ];
  return { entities, expected };
}

for (const dialect of ALL_DIALECTS) {
  describe(`Heat models on ${dialect}`, async () => {
    const opts = await skipUnlessReachable(dialect);

    describe('against the target dump', opts, () => {
      let target: TestDatabase | undefined;
      before(async () => {
        target = await loadTargetDump(dialect);
      });
      after(async () => {
        await target?.drop();
      });

      test('the catalog reader sees the whole schema', async () => {
        const ds = await openDataSource(target!, heatEntitiesFor(dialect));
        try {
          assert.deepEqual(counts(await readCatalog(dialect, ds)), EXPECTED_COUNTS[dialect]);
        } finally {
          await ds.destroy();
        }
      });

      test('the models equal the schema Heat builds (ModelsMigrationsSync)', async () => {
        assert.deepEqual(await diffLines(target!, heatEntitiesFor(dialect)), []);
      });

      test('altered models are reported: nullability, a column, an index, a unique, a length, an FK name, a table', async () => {
        const { entities, expected } = alterEntities(dialect);
        assert.deepEqual(await diffLines(target!, entities), expected);
      });

      test('the portable entity set is not exact here, and the comparison says where', async () => {
        const lines = await diffLines(target!, heatEntities);
        const expected = {
          mysql: 'raw_template.template type: models=text database=longtext',
          postgresql: 'event.resource_properties type: models=text database=blob',
          sqlite: 'event.event_stack_id_fkey foreign_key: models=name event_stack_id_fkey database=name (unnamed)',
        }[dialect];
        assert.ok(lines.includes(expected), lines.join('\n'));
      });

      // Last in this suite: it changes the database.
      test('a database that drifted from the models is reported; migrate_* bookkeeping is not', async () => {
        const dropIndex = dialect === 'mysql' ? 'DROP INDEX ix_stack_owner_id ON stack' : 'DROP INDEX ix_stack_owner_id';
        for (const sql of [
          dropIndex,
          'ALTER TABLE stack ADD COLUMN extra_col TEXT',
          'CREATE TABLE extra_table (id INTEGER NOT NULL, PRIMARY KEY (id))',
          'CREATE TABLE migrate_something (id INTEGER NOT NULL, PRIMARY KEY (id))',
        ]) {
          await target!.query(sql);
        }
        assert.deepEqual(await diffLines(target!, heatEntitiesFor(dialect)), [
          'extra_table table: models=(none) database=present',
          'stack.extra_col column: models=(none) database=text',
          'stack.ix_stack_owner_id index: models=(owner_id) database=(none)',
        ]);
      });
    });

    describe('after heat-manage db_sync', opts, () => {
      let synced: TestDatabase | undefined;
      before(async () => {
        synced = await createTestDatabase(dialect);
      });
      after(async () => {
        await synced?.drop();
      });

      test('db_sync reaches 71 and the models equal the migrated schema (ModelsMigrationsSync)', async () => {
        const sync = await runHeat(['db_sync'], { url: synced!.url });
        assert.equal(sync.code, 0, sync.stderr);
        const version = await runHeat(['db_version'], { url: synced!.url });
        assert.equal(version.stdout.trim(), '71', version.stderr);
        assert.deepEqual(await diffLines(synced!, heatEntitiesFor(dialect)), []);
      });

      for (const [label, entities] of [
        [`heatEntitiesFor('${dialect}')`, heatEntitiesFor(dialect)],
        ['the portable heatEntities', heatEntities],
      ] as const) {
        test(`a Stack with its RawTemplate and UserCreds round-trips through the repository API (${label})`, async () => {
          const ds = await openDataSource(synced!, entities);
          try {
            const created = new Date(Date.UTC(2016, 3, 7, 12, 30, 45));
            const template = { heat_template_version: '2015-10-15', resources: { r: { type: 'OS::Heat::None' } } };
            const id = randomUUID();
            const ids = await ds.transaction(async (m) => {
              const rt = await m.getRepository<RawTemplate>('RawTemplate').save({ template, files: {}, environment: { parameters: { p: 1 } }, created_at: created });
              const uc = await m.getRepository<UserCreds>('UserCreds').save({ username: 'demo', tenant: 'demo-project', region_name: 'RegionOne' });
              await m.getRepository<Stack>('Stack').save({
                id,
                name: 'teststack',
                raw_template_id: rt.id,
                user_creds_id: uc.id,
                tenant: 'demo-project',
                disable_rollback: true,
                backup: false,
                nested_depth: 0,
                created_at: created,
              });
              return { rt: rt.id, uc: uc.id };
            });
            assert.ok(Number.isInteger(ids.rt) && ids.rt > 0, `generated raw_template.id ${ids.rt}`);
            assert.ok(Number.isInteger(ids.uc) && ids.uc > 0, `generated user_creds.id ${ids.uc}`);

            const s = await ds.getRepository<Stack>('Stack').findOneOrFail({ where: { id }, relations: { raw_template: true, user_creds: true } });
            assert.equal(s.name, 'teststack');
            assert.equal(s.disable_rollback, true);
            assert.equal(s.backup, false);
            assert.equal(s.convergence, null);
            assert.equal(s.created_at?.getTime(), created.getTime());
            assert.equal(s.raw_template!.id, ids.rt);
            assert.deepEqual(s.raw_template!.template, template);
            assert.deepEqual(s.raw_template!.environment, { parameters: { p: 1 } });
            assert.equal(s.user_creds!.id, ids.uc);
            assert.equal(s.user_creds!.username, 'demo');
            assert.equal(s.user_creds!.region_name, 'RegionOne');

            // Stored the way Heat's Json type stores it: JSON text, readable without TypeORM.
            const raw = await synced!.query('SELECT template FROM raw_template WHERE id = ?', [ids.rt]);
            assert.deepEqual(JSON.parse(String(raw[0]!.template)), template);
            const fk = await synced!.query('SELECT raw_template_id, user_creds_id FROM stack WHERE id = ?', [id]);
            assert.deepEqual([Number(fk[0]!.raw_template_id), Number(fk[0]!.user_creds_id)], [ids.rt, ids.uc]);
          } finally {
            await ds.destroy();
          }
        });
      }
    });
  });
}
