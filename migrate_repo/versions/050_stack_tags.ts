/** 050 — stack.tags (Json: LONGTEXT/TEXT); 054 drops it again. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { types } from '../lib/dialect.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const state = await MysqlState.load(migrate_engine, ['stack']);
  await addColumns(migrate_engine, 'stack', [['tags', types(migrate_engine.dialect).longtext]], state);
}
