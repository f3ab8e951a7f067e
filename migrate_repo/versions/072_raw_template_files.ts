/**
 * 072 — table raw_template_files (id, files, created_at, updated_at) and raw_template.files_id with
 * its FK raw_tmpl_files_fkey_ref (Heat 13.0.0's `072_raw_template_files.py`; SPEC A3). Existing
 * templates get NULL: nothing is moved out of raw_template.files.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { types } from '../lib/dialect.js';
import { addColumnWithFk, createTable } from '../lib/train.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  await createTable(e, 'raw_template_files', `id ${t.serial}, files ${t.longtext}, created_at ${t.datetime}, updated_at ${t.datetime}, PRIMARY KEY (id)`);
  await addColumnWithFk(e, { table: 'raw_template', column: 'files_id', fk: 'raw_tmpl_files_fkey_ref', references: 'raw_template_files' });
}

/** Any state between 071 and 072 (the table created, the column added, the FK not yet): finished by `upgrade`. */
export const assess = (s: StepState) => assessBetween(s);
