/** 064 — raw_template.predecessor and its FK predecessor_fkey_ref are dropped (values discarded). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    const s = await MysqlState.load(e, ['raw_template']);
    if (s && !hasColumn(s, 'raw_template', 'predecessor')) return;
    // InnoDB drops the FK's index with the column.
    await e.query('ALTER TABLE raw_template DROP FOREIGN KEY predecessor_fkey_ref, DROP COLUMN predecessor');
  } else if (e.dialect === 'postgresql') {
    await e.query('ALTER TABLE raw_template DROP CONSTRAINT predecessor_fkey_ref, DROP COLUMN predecessor');
  } else {
    await rebuildTable(e, {
      table: 'raw_template',
      body:
        'id INTEGER NOT NULL, created_at DATETIME, updated_at DATETIME, template TEXT, files TEXT, ' +
        'environment TEXT, PRIMARY KEY (id)',
      columns: ['id', 'created_at', 'updated_at', 'template', 'files', 'environment'],
    });
  }
}
