/** 058 — resource.engine_id VARCHAR(36) and resource.atomic_key Integer. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['resource']);
  await addColumns(migrate_engine, 'resource', [['engine_id', 'VARCHAR(36)'], ['atomic_key', 'INTEGER']], state);
}
