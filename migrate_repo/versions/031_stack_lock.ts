/** 031 — table stack_lock (its FK reuses the primary key's index on MariaDB). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasTable, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const state = await MysqlState.load(e, ['stack_lock']);
  if (hasTable(state, 'stack_lock')) return;
  await e.query(
    `CREATE TABLE stack_lock (stack_id VARCHAR(36) NOT NULL, created_at ${t.datetime}, updated_at ${t.datetime}, ` +
      `engine_id VARCHAR(36), PRIMARY KEY (stack_id), FOREIGN KEY (stack_id) REFERENCES stack (id))${t.tableOptions}`,
  );
}
