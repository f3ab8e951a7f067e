/**
 * 079 — table resource_properties_data (id, data, encrypted, created_at, updated_at), and the
 * columns resource.rsrc_prop_data_id (FK rsrc_rsrc_prop_data_ref) and event.rsrc_prop_data_id (FK
 * ev_rsrc_prop_data_ref) to it (Heat 13.0.0's `079_resource_properties_data.py`; SPEC A3). No data
 * moves: properties stay in resource.properties_data, the new columns are NULL.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { types } from '../lib/dialect.js';
import { addColumnWithFk, createTable } from '../lib/train.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  await createTable(
    e,
    'resource_properties_data',
    `id ${t.serial}, data ${t.longtext}, encrypted ${t.boolean}, created_at ${t.datetime}, updated_at ${t.datetime}, PRIMARY KEY (id)`,
  );
  await addColumnWithFk(e, { table: 'resource', column: 'rsrc_prop_data_id', fk: 'rsrc_rsrc_prop_data_ref', references: 'resource_properties_data' });
  await addColumnWithFk(e, { table: 'event', column: 'rsrc_prop_data_id', fk: 'ev_rsrc_prop_data_ref', references: 'resource_properties_data' });
}

/** Any state between 078 and 079 (some of its five statements run): finished by `upgrade`. */
export const assess = (s: StepState) => assessBetween(s);
