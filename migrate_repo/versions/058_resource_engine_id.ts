/**
 * 058 — resource.engine_id VARCHAR(36) and resource.atomic_key Integer.
 *
 * Real Heat adds them in two statements: a run stopped between them (or after both, the version not
 * bumped) is finished by adding what is missing.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, startingSchema } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await addMissingColumns(migrate_engine, await startingSchema(migrate_engine, ['resource']), 'resource', [['engine_id', 'VARCHAR(36)'], ['atomic_key', 'INTEGER']]);
}

export const assess = (s: StepState) => assessBetween(s);
