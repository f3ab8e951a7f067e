/** 054 — stack.tags is dropped (values discarded) and table stack_tag is created. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasColumn, hasTable, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const s = await MysqlState.load(e, ['stack', 'stack_tag']);
  if (!s || hasColumn(s, 'stack', 'tags')) await e.query('ALTER TABLE stack DROP COLUMN tags');
  if (hasTable(s, 'stack_tag')) return;
  await e.query(
    `CREATE TABLE stack_tag (id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, tag VARCHAR(80), ` +
      `stack_id VARCHAR(36) NOT NULL, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id))${t.tableOptions}`,
  );
}
