/** 049 — user_creds.region_name VARCHAR(255). */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, startingSchema } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  await addMissingColumns(e, await startingSchema(e, ['user_creds']), 'user_creds', [['region_name', 'VARCHAR(255)']]);
}

/** The column added, the version not bumped: nothing left but the bump. */
export const assess = (s: StepState) => assessBetween(s);
