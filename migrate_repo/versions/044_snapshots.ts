/** 044 — table snapshot (FK to stack, index ix_snapshot_tenant). */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasTable, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const my = e.dialect === 'mysql';
  const state = await MysqlState.load(e, ['snapshot']);
  if (hasTable(state, 'snapshot')) return;
  await e.query(
    `CREATE TABLE snapshot (id VARCHAR(36) NOT NULL, stack_id VARCHAR(36) NOT NULL, name VARCHAR(255), ` +
      `created_at ${t.datetime}, updated_at ${t.datetime}, status VARCHAR(255), status_reason VARCHAR(255), ` +
      `data ${t.longtext}, tenant VARCHAR(64) NOT NULL, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id)` +
      (my ? ', KEY ix_snapshot_tenant (tenant)' : '') +
      `)${t.tableOptions}`,
  );
  if (!my) await e.query('CREATE INDEX ix_snapshot_tenant ON snapshot (tenant)');
}
