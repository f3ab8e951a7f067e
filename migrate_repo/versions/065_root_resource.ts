/**
 * 065 — resource.root_stack_id VARCHAR(36) with index ix_resource_root_stack_id, filled with the
 * root of each resource's stack: follow stack.owner_id (exact string match, as Heat's Python dict
 * does) while the owner id is non-empty and is itself a stack with a non-empty owner; an owner id
 * that is not a stack becomes the root. Backup stacks are not special. Heat runs one UPDATE per
 * stack; this is one recursive query.
 *
 * An owner_id cycle made Heat recurse until Python's recursion limit; we refuse it up front
 * (as chains of 1000 stacks or more, where Python would fail too) with a message naming a stack.
 *
 * A run stopped part way (ours, or Heat's: the column, the index, then one UPDATE per stack) is
 * finished from what the catalog shows: the column and the index are added if missing, and every
 * resource's root is computed again (the values are derived from stack, which the step does not
 * change, so nothing it needs is ever gone).
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, count } from '../lib/assess.js';
import { rows } from '../lib/progress.js';
import { withKeyedTemp } from '../lib/mysql-join.js';

const MAX_DEPTH = 1000;

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const my = e.dialect === 'mysql';
  // Exact comparison of ids: MariaDB's default collation is case- and trailing-space-insensitive.
  const same = my ? 'BINARY s.id = BINARY c.cur' : 's.id = c.cur';
  const chain =
    'chain (sid, cur, depth) AS (SELECT id, id, 0 FROM stack UNION ALL ' +
    `SELECT c.sid, s.owner_id, c.depth + 1 FROM chain c JOIN stack s ON s.id = c.cur AND ${same} ` +
    `WHERE LENGTH(s.owner_id) > 0 AND c.depth < ${MAX_DEPTH})`;
  const looping = await e.query(
    `WITH RECURSIVE ${chain} SELECT sid FROM chain WHERE depth = ${MAX_DEPTH} ORDER BY sid LIMIT 1`,
  );
  if (looping.length > 0) {
    throw new Error(
      `migration 065: following stack.owner_id from stack row id=${String(looping[0]!.sid)} does not reach a ` +
        `top-level stack within ${MAX_DEPTH} steps (an owner_id cycle?); Heat's own migration fails on it ` +
        '(RecursionError). Fix the owner_id chain and run the upgrade again.',
    );
  }
  const s = await e.schema(['resource']);
  const indexed = s.find('index', 'resource', 'ix_resource_root_stack_id') !== undefined;
  // The column is filled before its index is built (Heat builds the index first): the schema is the
  // same, and one bulk index build beats a million random index updates on big databases.
  if (!s.hasColumn('resource', 'root_stack_id')) {
    await e.query('ALTER TABLE resource ADD COLUMN root_stack_id VARCHAR(36)');
  }
  // The root of a chain is its last element: an id that is no stack, or a stack without an owner.
  const roots =
    `SELECT c.sid, c.cur AS root FROM chain c WHERE NOT EXISTS (SELECT 1 FROM stack s ` +
    `WHERE s.id = c.cur AND ${same} AND LENGTH(s.owner_id) > 0)`;
  // A write statement never starts with WITH: the engine's preview mode treats those as reads.
  const x = `(WITH RECURSIVE ${chain} ${roots}) x`;
  if (my) {
    // MariaDB cannot index a recursive CTE: joined to resource directly it is a block-nested-loop
    // join (resources x stacks). A keyed temporary table whose sid keeps stack.id's type and
    // collation (so that the join can use its key). STRAIGHT_JOIN: scan resource in primary-key order
    // and look each row's stack up in the small keyed table; left to itself MariaDB drives from the
    // temporary table and reaches resource through ix stack_id in random order, which on a resource
    // table larger than the buffer pool took 23-43 s instead of 2-6 s at 200 000 resources.
    // (bench/README.md, issue 10)
    const changed = await withKeyedTemp(e, { name: 'tmp_root_stack', key: 'sid', select: `SELECT x.sid, x.root FROM ${x}` }, () =>
      e.execute('UPDATE resource r STRAIGHT_JOIN tmp_root_stack x ON r.stack_id = x.sid SET r.root_stack_id = x.root'),
    );
    rows(e, '065', 'resources given their root stack', changed);
    if (!indexed) {
      await e.query('ALTER TABLE resource ADD INDEX ix_resource_root_stack_id (root_stack_id)');
    }
  } else {
    const changed = await e.execute(
      `UPDATE resource SET root_stack_id = x.root FROM ${x} WHERE resource.stack_id = x.sid`,
    );
    rows(e, '065', 'resources given their root stack', changed);
    if (!indexed) await e.query('CREATE INDEX ix_resource_root_stack_id ON resource (root_stack_id)');
  }
}

export const assess = (s: StepState) =>
  assessBetween(s, {
    data: async () =>
      s.live.hasColumn('resource', 'root_stack_id')
        ? `${await count(s, 'SELECT COUNT(*) FROM resource WHERE root_stack_id IS NULL')} resources without their root stack yet (all are computed again)`
        : 'resource.root_stack_id not yet added',
  });
