/**
 * 071 — index ix_stack_owner_id on stack(owner_id).
 *
 * One statement: a run stopped after it (the version not bumped) finds the index there and is done.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if ((await e.schema(['stack'])).find('index', 'stack', 'ix_stack_owner_id')) return;
  await e.query('CREATE INDEX ix_stack_owner_id ON stack (owner_id)');
}

export const assess = (s: StepState) => assessBetween(s);
