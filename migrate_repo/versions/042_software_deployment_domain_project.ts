/** 042 — software_deployment.stack_user_project_id VARCHAR(64). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['software_deployment']);
  await addColumns(migrate_engine, 'software_deployment', [['stack_user_project_id', 'VARCHAR(64)']], state);
}
