/** 049 — user_creds.region_name VARCHAR(255). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['user_creds']);
  await addColumns(migrate_engine, 'user_creds', [['region_name', 'VARCHAR(255)']], state);
}
