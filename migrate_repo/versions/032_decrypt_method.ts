/** 032 — decrypt_method VARCHAR(64) on user_creds and resource_data, back-filled 'heat_decrypt'. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns, backfill } from '../lib/alter.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const state = await MysqlState.load(e, ['user_creds', 'resource_data']);
  for (const table of ['user_creds', 'resource_data']) {
    await addColumns(e, table, [['decrypt_method', 'VARCHAR(64)']], state);
    await backfill(e, table, 'decrypt_method', "'heat_decrypt'");
  }
}
