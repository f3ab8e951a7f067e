/**
 * 047 — stack.nested_depth (Integer, back-filled 0), then the depth of every stack below a top-level
 * stack (owner_id IS NULL, deleted or not): its distance from that top-level stack. A backup stack
 * stops the descent (it and everything below it keep 0), as do missing owners. Heat walks the tree
 * one UPDATE per stack; this computes the same with one recursive query.
 *
 * A run stopped part way (real Heat's stops between any two of its per-stack UPDATEs) is finished
 * by the same statements: the column is added if missing, and every depth is computed again from
 * owner_id and backup, which no state of this step has changed.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { rows } from '../lib/progress.js';
import { backfill } from '../lib/alter.js';
import { addMissingColumns, assessBetween, count, startingSchema } from '../lib/assess.js';
import { withKeyedTemp } from '../lib/mysql-join.js';

const TREE =
  'tree (id, depth) AS (' +
  'SELECT id, 0 FROM stack WHERE owner_id IS NULL AND (backup IS NULL OR NOT backup) ' +
  'UNION ALL SELECT c.id, tree.depth + 1 FROM stack c JOIN tree ON c.owner_id = tree.id ' +
  'WHERE c.backup IS NULL OR NOT c.backup)';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  await addMissingColumns(e, await startingSchema(e, ['stack']), 'stack', [['nested_depth', 'INTEGER']]);
  await backfill(e, 'stack', 'nested_depth', '0');
  // A write statement never starts with WITH: the engine's preview mode treats those as reads.
  const depths = `(WITH RECURSIVE ${TREE} SELECT id, depth FROM tree WHERE depth > 0) d`;
  if (e.dialect === 'mysql') {
    const changed = await withKeyedTemp(
      e,
      { name: 'tmp_stack_depth', key: 'id', select: `SELECT d.id, d.depth FROM ${depths}` },
      () => e.execute('UPDATE stack s JOIN tmp_stack_depth d ON d.id = s.id SET s.nested_depth = d.depth'),
    );
    rows(e, '047', 'nested stacks given their depth', changed);
  } else {
    const changed = await e.execute(
      `UPDATE stack SET nested_depth = d.depth FROM ${depths} WHERE d.id = stack.id`,
    );
    rows(e, '047', 'nested stacks given their depth', changed);
  }
}

export const assess = (s: StepState) =>
  assessBetween(s, {
    data: async () => `stack.nested_depth added, ${await count(s, 'SELECT COUNT(*) FROM stack WHERE nested_depth IS NULL')} stacks not yet back-filled (every depth is computed again)`,
  });
