/**
 * 060 — resource.needed_by, requires (List: LONGTEXT/TEXT), replaces, replaced_by,
 * current_template_id (Integer; FK current_template_fkey_ref -> raw_template.id).
 *
 * Real Heat adds the five columns one statement each, then the key: a run stopped anywhere in
 * between (ours or Heat's) is finished by appending the columns still missing, in Heat's order, and
 * adding the key if it is not there.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

const FK = 'current_template_fkey_ref';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const cols: Array<[string, string]> = [
    ['needed_by', t.longtext],
    ['requires', t.longtext],
    ['replaces', t.integer],
    ['replaced_by', t.integer],
  ];
  if (e.dialect === 'sqlite') {
    // Transactional DDL: never half applied.
    for (const [name, def] of cols) await e.query(`ALTER TABLE resource ADD COLUMN ${name} ${def}`);
    await e.query(`ALTER TABLE resource ADD COLUMN current_template_id INTEGER CONSTRAINT ${FK} REFERENCES raw_template (id)`);
    return;
  }
  const c = await startingSchema(e, ['resource']);
  await addMissingColumns(e, c, 'resource', [...cols, ['current_template_id', t.integer]]);
  if (c?.find('foreign key', 'resource', FK)) return;
  const fk = `ADD CONSTRAINT ${FK} FOREIGN KEY (current_template_id) REFERENCES raw_template (id)`;
  if (e.dialect === 'postgresql') {
    await e.query(`ALTER TABLE resource ${fk}`);
    return;
  }
  // MySQL: in one ALTER with the columns, the foreign key makes MariaDB copy the whole resource table
  // (ALGORITHM=COPY: 183 s at 1 000 000 resources on a 128 MB buffer pool). The columns are added
  // first (instantly, at the end), then the key with foreign_key_checks off, which MariaDB adds in
  // place (its index only). Nothing is left unchecked: current_template_id is NULL in every row (a
  // new column; Heat's own run writes no value into it either) — when an earlier run added it, that
  // is checked first, and any value there is checked by the key itself. The schema is the same.
  const filled =
    !!c?.hasColumn('resource', 'current_template_id') &&
    (await e.query('SELECT 1 AS x FROM resource WHERE current_template_id IS NOT NULL LIMIT 1')).length > 0;
  if (filled) {
    await e.query(`ALTER TABLE resource ${fk}`);
    return;
  }
  await e.query('SET SESSION foreign_key_checks = 0');
  try {
    await e.query(`ALTER TABLE resource ${fk}`);
  } finally {
    await e.query('SET SESSION foreign_key_checks = 1');
  }
}

export const assess = (s: StepState) => assessBetween(s);
