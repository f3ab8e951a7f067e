/**
 * 045 — stack.backup (Boolean, back-filled false); live stacks whose name ends with `*` (the backup
 * stacks of that era) become true, deleted ones stay false.
 *
 * Heat crashes (AttributeError) on a live stack with a NULL name after adding the column; we check
 * first and refuse with a message naming the row, before changing anything.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { addColumns } from '../lib/alter.js';
import { types } from '../lib/dialect.js';
import { MysqlState } from '../lib/mysql-state.js';

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
  const state = await MysqlState.load(e, ['stack']);
  await addColumns(e, 'stack', [['backup', t.boolean]], state);
  await e.execute(
    `UPDATE stack SET backup = CASE WHEN deleted_at IS NULL AND name LIKE '%*' THEN ${t.true} ELSE ${t.false} END`,
  );
}
