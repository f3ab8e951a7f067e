/** 071 — index ix_stack_owner_id on stack(owner_id). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasIndex, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const s = await MysqlState.load(e, ['stack']);
  if (hasIndex(s, 'stack', 'ix_stack_owner_id')) return;
  await e.query('CREATE INDEX ix_stack_owner_id ON stack (owner_id)');
}
