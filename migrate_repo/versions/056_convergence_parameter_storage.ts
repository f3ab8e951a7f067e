/**
 * 056 — raw_template.environment (Json) and raw_template.predecessor (FK predecessor_fkey_ref ->
 * raw_template.id); each template gets the `parameters` text of its live stack verbatim (NULL when it
 * has none); stack.parameters is dropped.
 *
 * Two live stacks sharing one template make Heat fail on MySQL ("Subquery returns more than 1 row")
 * and silently pick one on SQLite; we check first on every dialect and refuse with a message naming
 * the template, before changing anything.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { rows } from '../lib/progress.js';
import { types } from '../lib/dialect.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const s = await MysqlState.load(e, ['raw_template', 'stack']);
  if (s && !hasColumn(s, 'stack', 'parameters')) return; // resumed after the last statement
  const shared = await e.query(
    'SELECT raw_template_id, COUNT(*) AS n FROM stack WHERE deleted_at IS NULL ' +
      'GROUP BY raw_template_id HAVING COUNT(*) > 1 ORDER BY raw_template_id LIMIT 1',
  );
  if (shared.length > 0) {
    const id = String(shared[0]!.raw_template_id);
    throw new Error(
      `migration 056: raw_template row id=${id} is used by ${String(shared[0]!.n)} live stacks (stack rows with ` +
        `raw_template_id=${id} and deleted_at IS NULL); its parameters can be copied from only one. Heat's own ` +
        'migration fails here too (MySQL error 1242, "Subquery returns more than 1 row"). Give each live stack its ' +
        'own raw_template row, or mark the extra stacks deleted, and run the upgrade again.',
    );
  }
  if (e.dialect === 'sqlite') {
    await e.query('ALTER TABLE raw_template ADD COLUMN environment TEXT');
    // Unnamed, as real Heat's SQLite rebuild leaves it (its name is lost there; 064 drops it again).
    await e.query('ALTER TABLE raw_template ADD COLUMN predecessor INTEGER REFERENCES raw_template (id)');
  } else if (!hasColumn(s, 'raw_template', 'environment')) {
    await e.query(
      `ALTER TABLE raw_template ADD COLUMN environment ${t.longtext}, ADD COLUMN predecessor ${t.integer}, ` +
        'ADD CONSTRAINT predecessor_fkey_ref FOREIGN KEY (predecessor) REFERENCES raw_template (id)',
    );
  }
  let copied: number;
  if (e.dialect === 'mysql') {
    copied = await e.execute(
      'UPDATE raw_template r JOIN stack s ON s.raw_template_id = r.id AND s.deleted_at IS NULL ' +
        'SET r.environment = s.parameters',
    );
  } else {
    copied = await e.execute(
      'UPDATE raw_template SET environment = s.parameters FROM stack s ' +
        'WHERE s.raw_template_id = raw_template.id AND s.deleted_at IS NULL',
    );
  }
  rows(e, '056', 'stack parameters copied to raw_template.environment', copied);
  await e.query('ALTER TABLE stack DROP COLUMN parameters');
}
