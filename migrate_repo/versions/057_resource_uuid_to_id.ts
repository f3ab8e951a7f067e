/**
 * 057 — resource gets an integer id (1..N in `created_at` order, ties by the old id); the old string
 * id moves to the new unique column `uuid`; resource_data.resource_id is remapped to the new ids
 * (MIGRATIONS.md §3, 057).
 *
 * MySQL/PostgreSQL end with `uuid, id` after the old columns of resource and `decrypt_method,
 * resource_id` in resource_data; the FK becomes resource_data_resource_id_fkey; PostgreSQL's id
 * default is `nextval('res')` of an unowned sequence left at N. SQLite rebuilds both tables
 * (resource: id, stack_id, uuid, name, nova_instance, ...), keeping resource_data's ids and
 * timestamps (unlike the real tool's SQLite branch).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { rows } from '../lib/progress.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';
import { withKeyedTemp } from '../lib/mysql-join.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

const RENUMBER = 'SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM resource';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') await mysql(e);
  else if (e.dialect === 'postgresql') await postgresql(e);
  else await sqlite(e);
}

/** Name of the FK resource_data(resource_id) -> resource(id), as Heat finds it with the inspector. */
async function resourceDataFk(e: MigrateEngine): Promise<string> {
  const rows =
    e.dialect === 'mysql'
      ? await e.query(
          'SELECT CONSTRAINT_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() ' +
            "AND TABLE_NAME = 'resource_data' AND COLUMN_NAME = 'resource_id' AND REFERENCED_TABLE_NAME = 'resource'",
        )
      : await e.query(
          "SELECT conname AS name FROM pg_constraint WHERE conrelid = 'resource_data'::regclass AND contype = 'f' " +
            "AND confrelid = 'resource'::regclass",
        );
  if (rows.length !== 1) {
    throw new Error(
      `migration 057: expected one foreign key from resource_data.resource_id to resource, found ${rows.length}`,
    );
  }
  return String(rows[0]!.name);
}

async function mysql(e: MigrateEngine): Promise<void> {
  const s = await MysqlState.load(e, ['resource', 'resource_data']);
  // Each ALTER below is atomic; the columns it adds or removes tell whether it already ran.
  if (s && !hasColumn(s, 'resource_data', 'tmp_res_uuid') && hasColumn(s, 'resource', 'uuid')) return;
  if (!hasColumn(s, 'resource_data', 'tmp_res_uuid')) {
    const fk = await resourceDataFk(e);
    await e.query(
      `ALTER TABLE resource_data DROP FOREIGN KEY \`${fk}\`, ` +
        'CHANGE COLUMN resource_id tmp_res_uuid VARCHAR(36) NOT NULL, ADD COLUMN resource_id INTEGER',
    );
  }
  if (!hasColumn(s, 'resource', 'uuid')) {
    await e.query('ALTER TABLE resource ADD COLUMN uuid VARCHAR(36), ADD COLUMN tmp_id INTEGER');
  }
  if (!s || hasColumn(s, 'resource', 'tmp_id') || !hasColumn(s, 'resource', 'uuid')) {
    const changed = await withKeyedTemp(e, { name: 'tmp_resource_rn', key: 'id', select: RENUMBER }, () =>
      e.execute('UPDATE resource r JOIN tmp_resource_rn n ON n.id = r.id SET r.tmp_id = n.rn, r.uuid = r.id'),
    );
    rows(e, '057', 'resource ids renumbered by created_at', changed);
    await e.query(
      'ALTER TABLE resource ADD CONSTRAINT resource_uuid_key UNIQUE (uuid), DROP COLUMN id, ' +
        'CHANGE COLUMN tmp_id id INTEGER NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (id)',
    );
  }
  const remapped = await e.execute(
    'UPDATE resource_data d JOIN resource r ON r.uuid = d.tmp_res_uuid SET d.resource_id = r.id',
  );
  rows(e, '057', 'resource_data rows pointed at the new ids', remapped);
  // Dropping tmp_res_uuid also drops the old FK's leftover index (`resource_id`), which now covers it.
  await e.query(
    'ALTER TABLE resource_data ADD CONSTRAINT resource_data_resource_id_fkey FOREIGN KEY (resource_id) ' +
      'REFERENCES resource (id), MODIFY resource_id INTEGER NOT NULL, DROP COLUMN tmp_res_uuid',
  );
}

async function postgresql(e: MigrateEngine): Promise<void> {
  const fk = await resourceDataFk(e);
  await e.query('ALTER TABLE resource_data RENAME COLUMN resource_id TO tmp_res_uuid');
  await e.query(`ALTER TABLE resource_data DROP CONSTRAINT "${fk}", ADD COLUMN resource_id INTEGER`);
  await e.query('CREATE SEQUENCE res START WITH 1');
  // The volatile default numbers the existing rows 1..N and leaves res at N, as Heat does.
  await e.query("ALTER TABLE resource ADD COLUMN uuid VARCHAR(36), ADD COLUMN tmp_id INTEGER DEFAULT nextval('res')");
  const changed = await e.execute(
    `UPDATE resource SET tmp_id = n.rn, uuid = resource.id FROM (${RENUMBER}) n WHERE n.id = resource.id`,
  );
  rows(e, '057', 'resource ids renumbered by created_at', changed);
  await e.query('ALTER TABLE resource ADD CONSTRAINT resource_uuid_key UNIQUE (uuid), DROP COLUMN id');
  await e.query('ALTER TABLE resource RENAME COLUMN tmp_id TO id');
  await e.query('ALTER TABLE resource ADD CONSTRAINT resource_pkey PRIMARY KEY (id)');
  const remapped = await e.execute(
    'UPDATE resource_data SET resource_id = r.id FROM resource r WHERE r.uuid = resource_data.tmp_res_uuid',
  );
  rows(e, '057', 'resource_data rows pointed at the new ids', remapped);
  await e.query(
    'ALTER TABLE resource_data ADD CONSTRAINT resource_data_resource_id_fkey FOREIGN KEY (resource_id) ' +
      'REFERENCES resource (id), ALTER COLUMN resource_id SET NOT NULL, DROP COLUMN tmp_res_uuid',
  );
}

async function sqlite(e: MigrateEngine): Promise<void> {
  // SQLite never enforced Heat's FKs: a resource_data row may point at no resource.
  const orphan = await e.query(
    'SELECT d.id, d.resource_id FROM resource_data d LEFT JOIN resource r ON r.id = d.resource_id ' +
      'WHERE r.id IS NULL ORDER BY d.id LIMIT 1',
  );
  if (orphan.length > 0) {
    throw new Error(
      `migration 057: resource_data row id=${String(orphan[0]!.id)} refers to resource ` +
        `'${String(orphan[0]!.resource_id)}', which does not exist, so it cannot be given the resource's new ` +
        'integer id. Delete the orphaned resource_data rows and run the upgrade again.',
    );
  }
  const rest = [
    'name', 'nova_instance', 'action', 'status', 'status_reason', 'rsrc_metadata', 'properties_data', 'created_at',
    'updated_at',
  ];
  await e.query(
    'CREATE TABLE new_resource (id INTEGER NOT NULL, stack_id VARCHAR(36) NOT NULL, uuid VARCHAR(36), ' +
      'name VARCHAR(255), nova_instance VARCHAR(255), action VARCHAR(255), status VARCHAR(255), ' +
      'status_reason VARCHAR(255), rsrc_metadata TEXT, properties_data TEXT, created_at DATETIME, ' +
      'updated_at DATETIME, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id), UNIQUE (uuid))',
  );
  await e.query(
    `INSERT INTO new_resource (id, stack_id, uuid, ${rest.join(', ')}) ` +
      `SELECT ROW_NUMBER() OVER (ORDER BY created_at, id), stack_id, id, ${rest.join(', ')} FROM resource`,
  );
  const data = ['id', 'created_at', 'updated_at', '"key"', 'value', 'redact', 'decrypt_method'];
  await rebuildTable(e, {
    table: 'resource_data',
    body:
      'id INTEGER NOT NULL, created_at DATETIME, updated_at DATETIME, "key" VARCHAR(255), value TEXT, ' +
      'redact BOOLEAN, decrypt_method VARCHAR(64), resource_id INTEGER NOT NULL, PRIMARY KEY (id), ' +
      'FOREIGN KEY (resource_id) REFERENCES resource (id)',
    columns: [...data, 'resource_id'],
    select: [...data.map((c) => `d.${c}`), 'r.id'],
    from: 'resource_data d JOIN new_resource r ON r.uuid = d.resource_id',
  });
  await e.query('DROP TABLE resource');
  await e.query('ALTER TABLE new_resource RENAME TO resource');
}
