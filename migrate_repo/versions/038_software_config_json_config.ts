/**
 * 038 — software_config.config becomes Json (LONGTEXT/TEXT: the type it already has, so nothing to
 * alter; the text is not re-encoded) and software_config.io is dropped.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const s = await MysqlState.load(e, ['software_config']);
  if (s && !hasColumn(s, 'software_config', 'io')) return;
  await e.query('ALTER TABLE software_config DROP COLUMN io');
}
