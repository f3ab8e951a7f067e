/**
 * 059 — table sync_point (composite primary key, FK fk_stack_id -> stack.id).
 *
 * One statement: a run stopped after it (the version not bumped) finds the table there and is done.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  if ((await e.schema(['sync_point'])).hasTable('sync_point')) return;
  await e.query(
    `CREATE TABLE sync_point (entity_id VARCHAR(36) NOT NULL, traversal_id VARCHAR(36) NOT NULL, ` +
      `is_update ${t.boolean} NOT NULL, atomic_key ${t.integer} NOT NULL, stack_id VARCHAR(36) NOT NULL, ` +
      `input_data ${t.longtext}, created_at ${t.datetime}, updated_at ${t.datetime}, ` +
      'PRIMARY KEY (entity_id, traversal_id, is_update), ' +
      `CONSTRAINT fk_stack_id FOREIGN KEY (stack_id) REFERENCES stack (id))${t.tableOptions}`,
  );
}

export const assess = (s: StepState) => assessBetween(s);
