/**
 * 062 — stack.parent_resource_name VARCHAR(255).
 *
 * One statement: a run stopped after it (the version not bumped) finds the column there and is done.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, startingSchema } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await addMissingColumns(migrate_engine, await startingSchema(migrate_engine, ['stack']), 'stack', [['parent_resource_name', 'VARCHAR(255)']]);
}

export const assess = (s: StepState) => assessBetween(s);
