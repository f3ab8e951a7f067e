/**
 * 063 — resource.properties_data_encrypted (Boolean), back-filled false.
 *
 * A run stopped after the column was added (ours or Heat's) finds it there and back-fills every row
 * again (the same value: nothing is lost).
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, count, startingSchema } from '../lib/assess.js';
import { backfill } from '../lib/alter.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  await addMissingColumns(e, await startingSchema(e, ['resource']), 'resource', [['properties_data_encrypted', t.boolean]]);
  await backfill(e, 'resource', 'properties_data_encrypted', t.false);
}

export const assess = (s: StepState) =>
  assessBetween(s, {
    data: async () =>
      s.live.hasColumn('resource', 'properties_data_encrypted')
        ? `${await count(s, 'SELECT COUNT(*) FROM resource WHERE properties_data_encrypted IS NULL')} resources not yet back-filled`
        : 'column not yet added',
  });
