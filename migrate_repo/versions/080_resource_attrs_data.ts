/**
 * 080 — resource.attr_data_id with its FK rsrc_attr_data_ref to resource_properties_data(id) (Heat
 * 13.0.0's `080_resource_attrs_data.py`; SPEC A3); NULL in every existing row.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { addColumnWithFk } from '../lib/train.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await addColumnWithFk(migrate_engine, { table: 'resource', column: 'attr_data_id', fk: 'rsrc_attr_data_ref', references: 'resource_properties_data' });
}

/** The column added, its FK not yet: finished by `upgrade`. */
export const assess = (s: StepState) => assessBetween(s);
