/** 034 — raw_template.files (Json: LONGTEXT/TEXT), back-filled with '{}'. */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns, backfill } from '../lib/alter.js';
import { types } from '../lib/dialect.js';
import { MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const state = await MysqlState.load(e, ['raw_template']);
  await addColumns(e, 'raw_template', [['files', types(e.dialect).longtext]], state);
  await backfill(e, 'raw_template', 'files', "'{}'");
}
