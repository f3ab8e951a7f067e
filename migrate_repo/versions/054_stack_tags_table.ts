/**
 * 054 — stack.tags is dropped (values discarded) and table stack_tag is created. A run stopped
 * between the two (real Heat's: tags dropped, no stack_tag yet) is finished by creating the table;
 * nothing is lost that the step keeps.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const c = await startingSchema(e, ['stack', 'stack_tag']);
  if (!c || c.hasColumn('stack', 'tags')) await e.query('ALTER TABLE stack DROP COLUMN tags');
  if (c?.hasTable('stack_tag')) return;
  await e.query(
    `CREATE TABLE stack_tag (id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, tag VARCHAR(80), ` +
      `stack_id VARCHAR(36) NOT NULL, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id))${t.tableOptions}`,
  );
}

/** stack.tags dropped (its values are discarded by the step anyway), stack_tag created or not. */
export const assess = (s: StepState) => assessBetween(s);
