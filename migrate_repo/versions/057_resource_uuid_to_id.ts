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
 *
 * Any state a run of this step stopped in — ours or real Heat's, which sends a dozen statements
 * without a transaction on MySQL and PostgreSQL — is finished from what the catalog and the rows
 * show (`assess` says which states those are): resource_data's column rename, resource's
 * renumbering (redone in full while the old string ids are there), the new primary key, the
 * remapping of resource_data. Once resource.id is gone the old ids live on in resource.uuid, so no
 * state is lost unless the new ids are incomplete (refused: restore from a backup).
 */
import type { Catalog, MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, count, type LooseFact } from '../lib/assess.js';
import { rows } from '../lib/progress.js';
import { withKeyedTemp } from '../lib/mysql-join.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

const RENUMBER = 'SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM resource';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'sqlite') return sqlite(e);
  const c = await e.schema(['resource', 'resource_data', '']);
  await resourceDataFirst(e, c);
  await renumberResources(e, c);
  await remapResourceData(e);
}

/** The columns this step changes: any form of them is one of its states. */
const MOVING: Readonly<Record<string, readonly string[]>> = {
  resource: ['id', 'uuid', 'tmp_id'],
  resource_data: ['resource_id', 'tmp_res_uuid'],
};

/** A fact about a column (or an index, key or FK on one) that this step moves. */
function moving(f: LooseFact): boolean {
  const cols = MOVING[f.table];
  if (!cols) return f.kind === 'sequence' && f.name === 'res';
  return f.text.split('\t').some((cell) => cols.some((c) => cell === c || cell.includes(`(${c})`) || cell.includes(`(${c} `)));
}

export async function assess(s: StepState) {
  return assessBetween(s, {
    temporary: moving,
    data: async () => {
      const res = s.live.find('column', 'resource', 'id');
      const stringIds = isString(res);
      if (!stringIds) {
        const newId = res ? 'id' : s.live.hasColumn('resource', 'tmp_id') ? 'tmp_id' : undefined;
        const missing = newId ? await count(s, `SELECT COUNT(*) FROM resource WHERE ${newId} IS NULL`) : await count(s, 'SELECT COUNT(*) FROM resource');
        if (missing > 0) {
          return {
            state: 'refuse' as const,
            reason: `resource.id (the old string ids) was dropped before ${missing} resources got their new integer id, so resource_data cannot be pointed at them; restore the database from a backup taken before step 057`,
          };
        }
      }
      if (!s.live.hasColumn('resource_data', 'tmp_res_uuid') && s.live.hasColumn('resource_data', 'resource_id')) {
        const rd = s.live.find('column', 'resource_data', 'resource_id');
        if (rd && !isString(rd)) {
          const orphans = await count(s, 'SELECT COUNT(*) FROM resource_data WHERE resource_id IS NULL');
          if (orphans > 0) {
            return {
              state: 'refuse' as const,
              reason: `resource_data.tmp_res_uuid (the old resource ids) was dropped while ${orphans} resource_data rows had no new resource_id; restore the database from a backup taken before step 057`,
            };
          }
        }
      }
      return stringIds ? 'resource ids not yet renumbered' : 'resource ids renumbered; resource_data not yet finished';
    },
  });
}

/** The foreign key of resource_data on `column`, by whatever name it has (MySQL: resource_data_ibfk_1 at 56). */
function foreignKeyOn(c: Catalog, column: string): string | undefined {
  return c.all('foreign key', 'resource_data').find((o) => {
    const cols = o.attrs.columns ?? /FOREIGN KEY \(([^)]*)\)/.exec(String(o.attrs.definition))?.[1] ?? '';
    return String(cols).split(/,\s*/).includes(column);
  })?.name;
}

const isString = (col: Readonly<Record<string, unknown>> | undefined) => col !== undefined && /char/i.test(String(col.type));

/** resource_data.resource_id (a string) becomes tmp_res_uuid, without its FK; a new integer resource_id is added. */
async function resourceDataFirst(e: MigrateEngine, c: Catalog): Promise<void> {
  const col = c.find('column', 'resource_data', 'resource_id');
  const q = (id: string) => (e.dialect === 'mysql' ? `\`${id}\`` : `"${id}"`);
  const dropFk = e.dialect === 'mysql' ? 'DROP FOREIGN KEY' : 'DROP CONSTRAINT';
  if (!c.hasColumn('resource_data', 'tmp_res_uuid')) {
    if (!isString(col)) return; // done already
    const fk = foreignKeyOn(c, 'resource_id');
    if (e.dialect === 'mysql') {
      await e.query(
        `ALTER TABLE resource_data ${fk ? `${dropFk} ${q(fk)}, ` : ''}` +
          'CHANGE COLUMN resource_id tmp_res_uuid VARCHAR(36) NOT NULL, ADD COLUMN resource_id INTEGER',
      );
    } else {
      if (fk) await e.query(`ALTER TABLE resource_data ${dropFk} ${q(fk)}`);
      await e.query('ALTER TABLE resource_data RENAME COLUMN resource_id TO tmp_res_uuid');
      await e.query('ALTER TABLE resource_data ADD COLUMN resource_id INTEGER');
    }
    return;
  }
  // Renamed already (real Heat renames, then adds the new column, in separate statements).
  const fk = foreignKeyOn(c, 'tmp_res_uuid');
  if (fk) await e.query(`ALTER TABLE resource_data ${dropFk} ${q(fk)}`);
  if (!col) await e.query('ALTER TABLE resource_data ADD COLUMN resource_id INTEGER');
}

/** resource gets uuid (the old id) and an integer id numbered by created_at, its new primary key. */
async function renumberResources(e: MigrateEngine, c: Catalog): Promise<void> {
  const stringIds = isString(c.find('column', 'resource', 'id'));
  const mysql = e.dialect === 'mysql';
  if (stringIds) {
    if (!c.hasColumn('resource', 'uuid')) await e.query('ALTER TABLE resource ADD COLUMN uuid VARCHAR(36)');
    if (!c.hasColumn('resource', 'tmp_id')) {
      if (mysql) await e.query('ALTER TABLE resource ADD COLUMN tmp_id INTEGER');
      else {
        // The volatile default numbers the rows and leaves `res` at N, as Heat does.
        if (!c.find('sequence', '', 'res')) await e.query('CREATE SEQUENCE res START WITH 1');
        await e.query("ALTER TABLE resource ADD COLUMN tmp_id INTEGER DEFAULT nextval('res')");
      }
    }
    const changed = mysql
      ? await withKeyedTemp(e, { name: 'tmp_resource_rn', key: 'id', select: RENUMBER }, () =>
          e.execute('UPDATE resource r JOIN tmp_resource_rn n ON n.id = r.id SET r.tmp_id = n.rn, r.uuid = r.id'),
        )
      : await e.execute(`UPDATE resource SET tmp_id = n.rn, uuid = resource.id FROM (${RENUMBER}) n WHERE n.id = resource.id`);
    rows(e, '057', 'resource ids renumbered by created_at', changed);
  }
  const hasUnique = c.find(mysql ? 'index' : 'constraint', 'resource', 'resource_uuid_key') !== undefined;
  if (mysql) {
    const parts: string[] = [];
    if (!hasUnique) parts.push('ADD CONSTRAINT resource_uuid_key UNIQUE (uuid)');
    if (stringIds) parts.push('DROP COLUMN id');
    if (stringIds || c.hasColumn('resource', 'tmp_id')) parts.push('CHANGE COLUMN tmp_id id INTEGER NOT NULL AUTO_INCREMENT', 'ADD PRIMARY KEY (id)');
    else {
      // Real Heat renames tmp_id first, then adds the key, then AUTO_INCREMENT: finish what is missing.
      const pk = c.find('index', 'resource', 'PRIMARY') !== undefined;
      const ai = /auto_increment/i.test(String(c.find('column', 'resource', 'id')?.extra ?? ''));
      if (!ai) parts.push('MODIFY id INTEGER NOT NULL AUTO_INCREMENT');
      if (!pk) parts.push('ADD PRIMARY KEY (id)');
    }
    if (parts.length) await e.query(`ALTER TABLE resource ${parts.join(', ')}`);
    return;
  }
  if (!hasUnique) await e.query('ALTER TABLE resource ADD CONSTRAINT resource_uuid_key UNIQUE (uuid)');
  if (stringIds) await e.query('ALTER TABLE resource DROP COLUMN id');
  if (stringIds || c.hasColumn('resource', 'tmp_id')) await e.query('ALTER TABLE resource RENAME COLUMN tmp_id TO id');
  // Version 56's resource_pkey (on the string id) went with the column: look again.
  if (!(await e.schema(['resource'])).find('constraint', 'resource', 'resource_pkey')) {
    await e.query('ALTER TABLE resource ADD CONSTRAINT resource_pkey PRIMARY KEY (id)');
  }
}

/** resource_data.resource_id points at the new ids; the FK, NOT NULL, and tmp_res_uuid goes. */
async function remapResourceData(e: MigrateEngine): Promise<void> {
  const c = await e.schema(['resource_data']);
  if (!c.hasColumn('resource_data', 'tmp_res_uuid')) return;
  const remapped =
    e.dialect === 'mysql'
      ? await e.execute('UPDATE resource_data d JOIN resource r ON r.uuid = d.tmp_res_uuid SET d.resource_id = r.id')
      : await e.execute('UPDATE resource_data SET resource_id = r.id FROM resource r WHERE r.uuid = resource_data.tmp_res_uuid');
  rows(e, '057', 'resource_data rows pointed at the new ids', remapped);
  const fk = foreignKeyOn(c, 'resource_id') ? '' : 'ADD CONSTRAINT resource_data_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES resource (id), ';
  // Dropping tmp_res_uuid also drops the old FK's leftover index on MySQL (`resource_id`), which now covers it.
  await e.query(
    `ALTER TABLE resource_data ${fk}` +
      (e.dialect === 'mysql' ? 'MODIFY resource_id INTEGER NOT NULL' : 'ALTER COLUMN resource_id SET NOT NULL') +
      ', DROP COLUMN tmp_res_uuid',
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
