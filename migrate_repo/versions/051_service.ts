/** 051 — table service (no FKs, no extra indexes). */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  if ((await startingSchema(e, ['service']))?.hasTable('service')) return;
  await e.query(
    `CREATE TABLE service (id VARCHAR(36) NOT NULL, engine_id VARCHAR(36) NOT NULL, host VARCHAR(255) NOT NULL, ` +
      `hostname VARCHAR(255) NOT NULL, ${t.quote('binary')} VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, ` +
      `report_interval ${t.integer} NOT NULL, created_at ${t.datetime}, updated_at ${t.datetime}, ` +
      `deleted_at ${t.datetime}, PRIMARY KEY (id))${t.tableOptions}`,
  );
}

/** The table created, the version not bumped: nothing left but the bump. */
export const assess = (s: StepState) => assessBetween(s);
