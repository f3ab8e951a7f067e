/** 046 — resource.properties_data (Json: LONGTEXT/TEXT). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { types } from '../lib/dialect.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['resource']);
  await addColumns(migrate_engine, 'resource', [['properties_data', types(migrate_engine.dialect).longtext]], state);
}
