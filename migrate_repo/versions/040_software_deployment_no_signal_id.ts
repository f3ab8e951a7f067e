/**
 * 040 — software_deployment.signal_id is dropped (its values are discarded). A run stopped after the
 * drop but before the version bump (ours on MySQL, or real Heat's) is finished: nothing is left to do.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';

export const assess = (s: StepState) => assessBetween(s);

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (!(await e.schema(['software_deployment'])).hasColumn('software_deployment', 'signal_id')) return;
  await e.query('ALTER TABLE software_deployment DROP COLUMN signal_id');
}
