/**
 * 029 — event.id becomes VARCHAR(36), still the primary key; existing integer ids become their
 * decimal text ('7'). PostgreSQL keeps the column's `nextval('event_id_seq')` default and the owned
 * sequence (035 removes both). SQLite rebuilds the table.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    // Idempotent: re-running it on a resumed step changes nothing.
    await e.query('ALTER TABLE event MODIFY id VARCHAR(36) NOT NULL');
  } else if (e.dialect === 'postgresql') {
    await e.query('ALTER TABLE event ALTER COLUMN id TYPE VARCHAR(36)');
  } else {
    const cols = [
      'id', 'stack_id', 'created_at', 'updated_at', 'resource_action', 'resource_status', 'resource_name',
      'physical_resource_id', 'resource_status_reason', 'resource_type', 'resource_properties',
    ];
    await rebuildTable(e, {
      table: 'event',
      body:
        'id VARCHAR(36) NOT NULL, stack_id VARCHAR(36) NOT NULL, created_at DATETIME, updated_at DATETIME, ' +
        'resource_action VARCHAR(255), resource_status VARCHAR(255), resource_name VARCHAR(255), ' +
        'physical_resource_id VARCHAR(255), resource_status_reason VARCHAR(255), resource_type VARCHAR(255), ' +
        'resource_properties BLOB, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id)',
      columns: cols,
      select: ['CAST(id AS TEXT)', ...cols.slice(1)],
    });
  }
}
