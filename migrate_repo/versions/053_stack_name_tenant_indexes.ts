/**
 * 053 — ix_stack_name and ix_stack_tenant. MySQL gets prefix length 255 on both; MariaDB keeps it
 * only on tenant (varchar(256)). Real Heat creates them one statement at a time: a run stopped
 * between them is finished by creating the one still missing.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, startingSchema } from '../lib/assess.js';

const INDEXES = [
  ['ix_stack_name', 'name'],
  ['ix_stack_tenant', 'tenant'],
] as const;

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const c = await startingSchema(e, ['stack']);
  const missing = INDEXES.filter(([name]) => !c?.find('index', 'stack', name));
  if (missing.length === 0) return;
  if (e.dialect === 'mysql') {
    await e.query(`ALTER TABLE stack ${missing.map(([name, col]) => `ADD INDEX ${name} (${col}(255))`).join(', ')}`);
  } else {
    for (const [name, col] of missing) await e.query(`CREATE INDEX ${name} ON stack (${col})`);
  }
}

/** One index or both, the version not bumped. */
export const assess = (s: StepState) => assessBetween(s);
