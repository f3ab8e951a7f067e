/**
 * 052 — stack.convergence (Boolean), back-filled false. A run stopped after adding the column is
 * finished by the same statements (the column added if missing, the back-fill again).
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { backfill } from '../lib/alter.js';
import { addMissingColumns, assessBetween, count, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  await addMissingColumns(e, await startingSchema(e, ['stack']), 'stack', [['convergence', t.boolean]]);
  await backfill(e, 'stack', 'convergence', t.false);
}

export const assess = (s: StepState) =>
  assessBetween(s, {
    data: async () => `stack.convergence added, ${await count(s, 'SELECT COUNT(*) FROM stack WHERE convergence IS NULL')} stacks not yet back-filled`,
  });
