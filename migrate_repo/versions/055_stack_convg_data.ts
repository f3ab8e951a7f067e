/**
 * 055 — stack.prev_raw_template_id (FK prev_raw_template_ref -> raw_template.id; MariaDB backs it
 * with KEY prev_raw_template_ref), stack.current_traversal VARCHAR(36), stack.current_deps (Json).
 *
 * Real Heat adds the three columns and then the foreign key, one ALTER each: a run stopped between
 * them is finished by one ALTER with what is still missing, in the same order.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessAppending, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

const COLUMNS = ['prev_raw_template_id', 'current_traversal', 'current_deps'] as const;

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const c = await startingSchema(e, ['stack']);
  if (e.dialect === 'sqlite') {
    // One column per ALTER; the foreign key comes with its column (SQLite cannot add one later).
    await addMissingColumns(e, c, 'stack', [
      ['prev_raw_template_id', 'INTEGER CONSTRAINT prev_raw_template_ref REFERENCES raw_template (id)'],
      ['current_traversal', 'VARCHAR(36)'],
      ['current_deps', 'TEXT'],
    ]);
    return;
  }
  const defs: Record<(typeof COLUMNS)[number], string> = {
    prev_raw_template_id: t.integer,
    current_traversal: 'VARCHAR(36)',
    current_deps: t.longtext,
  };
  const parts = COLUMNS.filter((col) => !c?.hasColumn('stack', col)).map((col) => `ADD COLUMN ${col} ${defs[col]}`);
  if (!c?.find('foreign key', 'stack', 'prev_raw_template_ref')) {
    parts.push('ADD CONSTRAINT prev_raw_template_ref FOREIGN KEY (prev_raw_template_id) REFERENCES raw_template (id)');
  }
  if (parts.length) await e.query(`ALTER TABLE stack ${parts.join(', ')}`);
}

/** Some of the columns (in Heat's order), with or without the foreign key. */
export const assess = (s: StepState) => assessAppending(s, { stack: COLUMNS });
