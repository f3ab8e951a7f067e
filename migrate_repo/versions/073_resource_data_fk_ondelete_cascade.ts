/**
 * 073 — resource_data's FK to resource(id) becomes `fk_resource_id ... ON DELETE CASCADE` (Heat
 * 13.0.0's `073_resource_data_fk_ondelete_cascade.py`; SPEC A3): the old FK is dropped by its name
 * (Mitaka's 057 named it resource_data_resource_id_fkey), the new one added. MariaDB's index on the
 * column ends up named after the new constraint, as in real Heat. SQLite rebuilds the table.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { foreignKeysOn, sqliteRebuild } from '../lib/train.js';

const CLAUSE = 'CONSTRAINT fk_resource_id FOREIGN KEY(resource_id) REFERENCES resource (id) ON DELETE CASCADE';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const c = await e.schema(['resource_data']);
  if (e.dialect === 'sqlite') {
    const done = c.all('named constraint', 'resource_data').some((n) => n.name === 'fk_resource_id');
    const fks = c.all('foreign key', 'resource_data').filter((f) => f.name.startsWith('(resource_id) -> resource'));
    if (done && fks.length === 1) return;
    await sqliteRebuild(e, 'resource_data', { dropFkOn: 'resource_id', addClause: CLAUSE });
    return;
  }
  const fks = foreignKeysOn(c, 'resource_data', 'resource_id');
  for (const f of fks) {
    if (f.name === 'fk_resource_id') continue;
    await e.query(e.dialect === 'mysql' ? `ALTER TABLE resource_data DROP FOREIGN KEY ${f.name}` : `ALTER TABLE resource_data DROP CONSTRAINT ${f.name}`);
  }
  if (!fks.some((f) => f.name === 'fk_resource_id')) await e.query(`ALTER TABLE resource_data ADD ${CLAUSE}`);
}

/** The old FK dropped and the new one not yet added (a run stopped between the two): finished by `upgrade`. */
export const assess = (s: StepState) => assessBetween(s);
