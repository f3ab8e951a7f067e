/** 040 — software_deployment.signal_id is dropped (its values are discarded). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const s = await MysqlState.load(e, ['software_deployment']);
  if (s && !hasColumn(s, 'software_deployment', 'signal_id')) return;
  await e.query('ALTER TABLE software_deployment DROP COLUMN signal_id');
}
