/**
 * 064 — raw_template.predecessor and its FK predecessor_fkey_ref are dropped (values discarded).
 *
 * Real Heat drops the key, then the column (MySQL keeps the key's index until the column goes): a
 * run stopped between them (ours or Heat's) is finished by dropping what is still there. No state
 * loses anything the step needs: the values are discarded anyway.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'sqlite') {
    await rebuildTable(e, {
      table: 'raw_template',
      body:
        'id INTEGER NOT NULL, created_at DATETIME, updated_at DATETIME, template TEXT, files TEXT, ' +
        'environment TEXT, PRIMARY KEY (id)',
      columns: ['id', 'created_at', 'updated_at', 'template', 'files', 'environment'],
    });
    return;
  }
  const c = await e.schema(['raw_template']);
  if (!c.hasColumn('raw_template', 'predecessor')) return;
  const fk = c.find('foreign key', 'raw_template', 'predecessor_fkey_ref') !== undefined;
  const drop = e.dialect === 'mysql' ? 'DROP FOREIGN KEY' : 'DROP CONSTRAINT';
  // InnoDB drops the FK's index with the column.
  await e.query(`ALTER TABLE raw_template ${fk ? `${drop} predecessor_fkey_ref, ` : ''}DROP COLUMN predecessor`);
}

export const assess = (s: StepState) => assessBetween(s);
