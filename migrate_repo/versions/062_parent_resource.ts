/** 062 — stack.parent_resource_name VARCHAR(255). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['stack']);
  await addColumns(migrate_engine, 'stack', [['parent_resource_name', 'VARCHAR(255)']], state);
}
