/** 063 — resource.properties_data_encrypted (Boolean), back-filled false. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns, backfill } from '../lib/alter.js';
import { types } from '../lib/dialect.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const state = await MysqlState.load(e, ['resource']);
  await addColumns(e, 'resource', [['properties_data_encrypted', t.boolean]], state);
  await backfill(e, 'resource', 'properties_data_encrypted', t.false);
}
