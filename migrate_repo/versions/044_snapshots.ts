/**
 * 044 — table snapshot (FK to stack, index ix_snapshot_tenant).
 *
 * Real Heat sends CREATE TABLE, then CREATE INDEX: on MySQL (DDL commits by itself) a run killed
 * between them leaves the table without its index, which `upgrade` adds.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const my = e.dialect === 'mysql';
  const c = await startingSchema(e, ['snapshot']);
  const table = c?.hasTable('snapshot') ?? false;
  if (!table) {
    await e.query(
      `CREATE TABLE snapshot (id VARCHAR(36) NOT NULL, stack_id VARCHAR(36) NOT NULL, name VARCHAR(255), ` +
        `created_at ${t.datetime}, updated_at ${t.datetime}, status VARCHAR(255), status_reason VARCHAR(255), ` +
        `data ${t.longtext}, tenant VARCHAR(64) NOT NULL, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id)` +
        (my ? ', KEY ix_snapshot_tenant (tenant)' : '') +
        `)${t.tableOptions}`,
    );
  }
  if ((table || !my) && !c?.find('index', 'snapshot', 'ix_snapshot_tenant')) {
    await e.query('CREATE INDEX ix_snapshot_tenant ON snapshot (tenant)');
  }
}

/** Any state between 43 and 44 (the table, with or without its index): nothing to lose. */
export const assess = (s: StepState) => assessBetween(s);
