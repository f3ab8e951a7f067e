/**
 * 035 — event gets an integer id again; the old string id moves to the new unique column `uuid`.
 * New ids are 1..N in `created_at` order (the backend's NULL ordering; ties broken by the old id).
 *
 * MySQL/PostgreSQL append `uuid` and `id` as the last two columns (MIGRATIONS.md §3, 035); on
 * PostgreSQL `id` keeps the default `nextval('evt')` of an unowned sequence left at N, and the old
 * owned `event_id_seq` goes with the old column. SQLite rebuilds the table as
 * id, stack_id, uuid, ..., created_at, updated_at, keeping every value (the real tool's SQLite branch
 * lost created_at and re-pickled resource_properties; we keep the same data as MariaDB).
 * Heat's transient back-fill of `uuid` with a function repr is overwritten at once, so it is skipped.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { rows } from '../lib/progress.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';
import { withKeyedTemp } from '../lib/mysql-join.js';

const RENUMBER = 'SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM event';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    const s = await MysqlState.load(e, ['event']);
    if (s && hasColumn(s, 'event', 'uuid') && !hasColumn(s, 'event', 'tmp_id')) return; // all done
    if (!hasColumn(s, 'event', 'uuid')) await e.query('ALTER TABLE event ADD COLUMN uuid VARCHAR(36), ADD COLUMN tmp_id INTEGER');
    const changed = await withKeyedTemp(e, { name: 'tmp_event_rn', key: 'id', select: RENUMBER }, () =>
      e.execute('UPDATE event e JOIN tmp_event_rn r ON r.id = e.id SET e.tmp_id = r.rn, e.uuid = e.id'),
    );
    rows(e, '035', 'event ids renumbered by created_at', changed);
    await e.query(
      'ALTER TABLE event ADD CONSTRAINT event_uuid_key UNIQUE (uuid), DROP COLUMN id, ' +
        'CHANGE COLUMN tmp_id id INTEGER NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (id)',
    );
  } else if (e.dialect === 'postgresql') {
    await e.query('CREATE SEQUENCE evt START WITH 1');
    // The volatile default numbers the existing rows 1..N and leaves evt at N, as Heat does.
    await e.query("ALTER TABLE event ADD COLUMN uuid VARCHAR(36), ADD COLUMN tmp_id INTEGER DEFAULT nextval('evt')");
    const changed = await e.execute(
      `UPDATE event SET tmp_id = r.rn, uuid = event.id FROM (${RENUMBER}) r WHERE r.id = event.id`,
    );
    rows(e, '035', 'event ids renumbered by created_at', changed);
    await e.query('ALTER TABLE event ADD CONSTRAINT event_uuid_key UNIQUE (uuid), DROP COLUMN id');
    await e.query('ALTER TABLE event RENAME COLUMN tmp_id TO id');
    await e.query('ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (id)');
  } else {
    const rest = [
      'resource_action', 'resource_status', 'resource_name', 'physical_resource_id', 'resource_status_reason',
      'resource_type', 'resource_properties', 'created_at', 'updated_at',
    ];
    await rebuildTable(e, {
      table: 'event',
      body:
        'id INTEGER NOT NULL, stack_id VARCHAR(36) NOT NULL, uuid VARCHAR(36), resource_action VARCHAR(255), ' +
        'resource_status VARCHAR(255), resource_name VARCHAR(255), physical_resource_id VARCHAR(255), ' +
        'resource_status_reason VARCHAR(255), resource_type VARCHAR(255), resource_properties BLOB, ' +
        'created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id), ' +
        'UNIQUE (uuid)',
      columns: ['id', 'stack_id', 'uuid', ...rest],
      select: ['ROW_NUMBER() OVER (ORDER BY created_at, id)', 'stack_id', 'id', ...rest],
    });
  }
}
