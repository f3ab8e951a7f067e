/**
 * 036 — stack.stack_user_project_id VARCHAR(64). A run stopped after the column was added but before
 * the version bump (ours on MySQL, or real Heat's) is finished: the column is not added twice.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { assessBetween } from '../lib/assess.js';

export const assess = (s: StepState) => assessBetween(s);

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  if ((await migrate_engine.schema(['stack'])).hasColumn('stack', 'stack_user_project_id')) return;
  await addColumns(migrate_engine, 'stack', [['stack_user_project_id', 'VARCHAR(64)']]);
}
