/**
 * 056 — raw_template.environment (Json) and raw_template.predecessor (FK predecessor_fkey_ref ->
 * raw_template.id); each template gets the `parameters` text of its live stack verbatim (NULL when it
 * has none); stack.parameters is dropped.
 *
 * Two live stacks sharing one template make Heat fail on MySQL ("Subquery returns more than 1 row")
 * and silently pick one on SQLite; we check first on every dialect and refuse with a message naming
 * the template, before changing anything.
 *
 * Real Heat adds environment, predecessor and the foreign key one ALTER each, copies the
 * parameters, then drops stack.parameters. A run stopped anywhere before the drop is finished from
 * there (what is missing is added, the copy is made again: the parameters are still there); after
 * the drop only the version bump is left. stack.parameters gone without raw_template.environment
 * (no run of this step does that) means the parameters are lost: `assess` refuses it.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { rows } from '../lib/progress.js';
import { types } from '../lib/dialect.js';
import { addMissingColumns, assessAppending, count, startingSchema } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const c = await startingSchema(e, ['raw_template', 'stack']);
  const copy = !c || c.hasColumn('stack', 'parameters'); // gone: copied already (resumed after the last statement)
  if (copy) {
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
  }
  if (e.dialect === 'sqlite') {
    // The FK unnamed, as real Heat's SQLite rebuild leaves it (its name is lost there; 064 drops it again).
    await addMissingColumns(e, c, 'raw_template', [
      ['environment', 'TEXT'],
      ['predecessor', 'INTEGER REFERENCES raw_template (id)'],
    ]);
  } else {
    const parts: string[] = [];
    if (!c?.hasColumn('raw_template', 'environment')) parts.push(`ADD COLUMN environment ${t.longtext}`);
    if (!c?.hasColumn('raw_template', 'predecessor')) parts.push(`ADD COLUMN predecessor ${t.integer}`);
    if (!c?.find('foreign key', 'raw_template', 'predecessor_fkey_ref')) {
      parts.push('ADD CONSTRAINT predecessor_fkey_ref FOREIGN KEY (predecessor) REFERENCES raw_template (id)');
    }
    if (parts.length) await e.query(`ALTER TABLE raw_template ${parts.join(', ')}`);
  }
  if (!copy) return;
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

export const assess = (s: StepState) =>
  assessAppending(
    s,
    { raw_template: ['environment', 'predecessor'] },
    {
      data: async () => {
        if (s.live.hasColumn('stack', 'parameters')) {
          return `stack.parameters still there; ${await count(s, 'SELECT COUNT(*) FROM stack WHERE deleted_at IS NULL AND parameters IS NOT NULL')} live stacks' parameters are copied (again) to raw_template.environment`;
        }
        if (!s.live.hasColumn('raw_template', 'environment')) {
          return {
            state: 'refuse' as const,
            reason:
              'stack.parameters was dropped before it was copied to raw_template.environment (which does not exist), so the ' +
              "stacks' parameters are gone; restore the database from a backup taken before step 056",
          };
        }
        return 'stack parameters copied to raw_template.environment and stack.parameters dropped';
      },
    },
  );
