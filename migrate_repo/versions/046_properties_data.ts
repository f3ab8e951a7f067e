/** 046 — resource.properties_data (Json: LONGTEXT/TEXT). */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  await addMissingColumns(e, await startingSchema(e, ['resource']), 'resource', [['properties_data', types(e.dialect).longtext]]);
}

/** The column added, the version not bumped: nothing left but the bump. */
export const assess = (s: StepState) => assessBetween(s);
