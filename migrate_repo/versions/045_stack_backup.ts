/**
 * 045 — stack.backup (Boolean, back-filled false); live stacks whose name ends with `*` (the backup
 * stacks of that era) become true, deleted ones stay false.
 *
 * Heat crashes (AttributeError) on a live stack with a NULL name after adding the column; we check
 * first and refuse with a message naming the row, before changing anything.
 *
 * A run stopped part way (real Heat adds the column, back-fills false, then sets the flags one
 * stack at a time) is finished by the same statements: the column is added if missing, and every
 * flag is computed again from the names, which no state of this step has changed.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addMissingColumns, assessBetween, count, startingSchema } from '../lib/assess.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const bad = await e.query('SELECT id FROM stack WHERE deleted_at IS NULL AND name IS NULL ORDER BY id LIMIT 1');
  if (bad.length > 0) {
    throw new Error(
      `migration 045: stack row id=${String(bad[0]!.id)} is not deleted (deleted_at IS NULL) but its name is NULL; ` +
        "Heat's own migration fails on it (AttributeError). Give the stack a name, or mark it deleted, and run the upgrade again.",
    );
  }
  await addMissingColumns(e, await startingSchema(e, ['stack']), 'stack', [['backup', t.boolean]]);
  await e.execute(
    `UPDATE stack SET backup = CASE WHEN deleted_at IS NULL AND name LIKE '%*' THEN ${t.true} ELSE ${t.false} END`,
  );
}

export const assess = (s: StepState) =>
  assessBetween(s, {
    data: async () => `stack.backup added, ${await count(s, 'SELECT COUNT(*) FROM stack WHERE backup IS NULL')} stacks not yet back-filled (every flag is set again from the names)`,
  });
