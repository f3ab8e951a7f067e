/**
 * 038 — software_config.config becomes Json (LONGTEXT/TEXT: the type it already has, so nothing to
 * alter; the text is not re-encoded) and software_config.io is dropped. A run stopped after the drop
 * but before the version bump (ours on MySQL, or real Heat's) is finished: nothing is left to do.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';

export const assess = (s: StepState) => assessBetween(s);

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (!(await e.schema(['software_config'])).hasColumn('software_config', 'io')) return;
  await e.query('ALTER TABLE software_config DROP COLUMN io');
}
