/**
 * 053 — ix_stack_name and ix_stack_tenant. MySQL gets prefix length 255 on both; MariaDB keeps it
 * only on tenant (varchar(256)).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { hasIndex, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    const s = await MysqlState.load(e, ['stack']);
    if (hasIndex(s, 'stack', 'ix_stack_tenant')) return;
    await e.query('ALTER TABLE stack ADD INDEX ix_stack_name (name(255)), ADD INDEX ix_stack_tenant (tenant(255))');
  } else {
    await e.query('CREATE INDEX ix_stack_name ON stack (name)');
    await e.query('CREATE INDEX ix_stack_tenant ON stack (tenant)');
  }
}
