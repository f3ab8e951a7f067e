/**
 * MariaDB cannot put an index on a derived table that has a window function or a recursive CTE, so
 * `UPDATE big JOIN (SELECT ... OVER ...) d ON ...` is a block-nested-loop join whose time grows with
 * the square of the table (035 took 31 s for 400 000 events). Materialise the derived rows in a
 * keyed temporary table first: per connection (gone if the step is interrupted), no implicit
 * commit, and its columns keep the source's types and collation.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function withKeyedTemp(
  e: MigrateEngine,
  temp: { name: string; key: string; select: string },
  run: () => Promise<number>,
): Promise<number> {
  await e.query(`DROP TEMPORARY TABLE IF EXISTS ${temp.name}`);
  await e.query(`CREATE TEMPORARY TABLE ${temp.name} (PRIMARY KEY (${temp.key})) ${temp.select}`);
  try {
    return await run();
  } finally {
    await e.query(`DROP TEMPORARY TABLE IF EXISTS ${temp.name}`);
  }
}
