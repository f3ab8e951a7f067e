/**
 * PostgreSQL only: the temporary indexes that keep `purge_deleted` linear.
 *
 * Heat's PostgreSQL schema has no index on its foreign-key columns (InnoDB makes one per foreign
 * key; PostgreSQL does not). Deleting a parent row makes PostgreSQL's foreign-key trigger look for
 * referencing rows in each child table, one row at a time, with a sequential scan: a purge is then
 * quadratic in the size of the database (bench/README.md "purge_deleted"). So for the run, and only
 * for it, the purge gives each such column an index:
 *
 *   const ix = await purgeIndexes(session, logger);   // before the first batch
 *   try { ... } finally { await ix.drop(); }           // gone again, also after an error
 *
 * - invisible to everyone else: `CREATE INDEX CONCURRENTLY` (no lock that blocks a running engine's
 *   writes), outside any transaction, named `migrate_purge_<table>_<column>` — the tool's prefix,
 *   which `heat-manage db_check` ignores (migrate/catalog/catalog.ts `isToolFact`);
 * - one run at a time manages them: a session advisory lock; a second purge meanwhile runs without
 *   touching them (slower, never wrong);
 * - a column that already has an index starting with it (an operator added one) gets none;
 * - after a crash (kill -9) the next run finds them: a valid one is used and dropped at the end, an
 *   invalid one (an interrupted CONCURRENTLY build) is dropped and built again;
 * - every wait is bounded: `lock_timeout` while building or dropping (CONCURRENTLY waits for the
 *   transactions open on the table); a build that times out or fails is dropped and the purge goes
 *   on without that index, with a warning.
 */
import type { Queryable } from '../../migrate/dialect/contract.js';
import type { Logger } from '../../migrate/script/contract.js';

/** [child table, foreign-key column]: every reference the purge deletes against or reads by. */
export const FK_COLUMNS: readonly (readonly [string, string])[] = [
  ['resource', 'stack_id'],
  ['event', 'stack_id'],
  ['resource_data', 'resource_id'],
  ['stack_tag', 'stack_id'],
  ['snapshot', 'stack_id'],
  ['sync_point', 'stack_id'],
  ['watch_rule', 'stack_id'],
  ['watch_data', 'watch_rule_id'],
  ['stack', 'raw_template_id'],
  ['stack', 'prev_raw_template_id'],
  ['stack', 'user_creds_id'],
  ['resource', 'current_template_id'],
];

export const INDEX_PREFIX = 'migrate_purge_';
export const indexName = (table: string, column: string) => `${INDEX_PREFIX}${table}_${column}`;

/** pg_advisory_lock key of the purge's index management (any 64-bit constant of ours). */
const LOCK_KEY = '7236712347815617363';

export interface PurgeIndexes {
  /** The indexes this run built or found and will drop. */
  readonly names: readonly string[];
  drop(): Promise<void>;
}

const NONE: PurgeIndexes = { names: [], drop: async () => undefined };

/** Columns (of `FK_COLUMNS`) that already have an index whose first key column they are, not ours. */
async function indexedColumns(q: Queryable): Promise<Set<string>> {
  const rows = await q.query(
    `SELECT t.relname AS tbl, a.attname AS col, i.relname AS idx, x.indisvalid AS valid
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
      WHERE n.nspname = current_schema()`,
  );
  const have = new Set<string>();
  for (const r of rows) if (!String(r.idx).startsWith(INDEX_PREFIX) && r.valid) have.add(`${String(r.tbl)}.${String(r.col)}`);
  return have;
}

/** Our indexes that exist now: name -> valid. */
async function ours(q: Queryable): Promise<Map<string, boolean>> {
  const rows = await q.query(
    `SELECT i.relname AS idx, x.indisvalid AS valid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = current_schema() AND i.relname LIKE ?`,
    [`${INDEX_PREFIX}%`],
  );
  return new Map(rows.map((r) => [String(r.idx), r.valid === true || r.valid === 't']));
}

/**
 * Builds (or adopts) the purge's indexes on a PostgreSQL session that has no transaction open.
 * `waitS` bounds each build and drop (the `[database] lock_wait_timeout`).
 */
export async function purgeIndexes(q: Queryable, logger: Logger | undefined, waitS: number): Promise<PurgeIndexes> {
  const got = await q.query(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`);
  if (!(got[0]?.ok === true || got[0]?.ok === 't')) {
    logger?.warn('purge_deleted: another purge_deleted is running on this database and holds its temporary indexes; this one runs without building or dropping any (slower on large tables, same result)');
    return NONE;
  }
  const withTimeout = async (sql: string) => {
    await q.execute(`SET lock_timeout = ${Math.max(1, Math.round(waitS * 1000))}`);
    try {
      await q.execute(sql);
    } finally {
      await q.execute('RESET lock_timeout');
    }
  };
  const dropOne = (name: string) => withTimeout(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  const names: string[] = [];
  try {
    const have = await indexedColumns(q);
    const left = await ours(q);
    for (const [name, valid] of left) {
      if (valid && FK_COLUMNS.some(([t, c]) => indexName(t, c) === name)) continue;
      logger?.info({ index: name }, `purge_deleted: dropping index ${name}, left by an interrupted run`);
      await dropOne(name);
      left.delete(name);
    }
    const t0 = performance.now();
    const todo = FK_COLUMNS.filter(([t, c]) => !left.has(indexName(t, c)) && !have.has(`${t}.${c}`)).length;
    if (todo) logger?.info({ indexes: todo }, `purge_deleted: building ${todo} temporary indexes on foreign-key columns (CREATE INDEX CONCURRENTLY; each waits at most ${waitS} s for transactions open on its table)`);
    for (const [table, column] of FK_COLUMNS) {
      const name = indexName(table, column);
      if (left.has(name)) {
        names.push(name);
        continue;
      }
      if (have.has(`${table}.${column}`)) continue;
      logger?.debug({ index: name }, `purge_deleted: building temporary index ${name} on ${table} (${column}); it waits at most ${waitS} s for transactions open on ${table}`);
      try {
        await withTimeout(`CREATE INDEX CONCURRENTLY ${name} ON ${table} (${column})`);
        names.push(name);
      } catch (e) {
        logger?.warn({ index: name }, `purge_deleted: could not build temporary index ${name} (${(e as Error).message.split('\n')[0]}); purging without it (slower)`);
        await dropOne(name).catch(() => undefined);
      }
    }
    logger?.info({ indexes: names.length, ms: Math.round(performance.now() - t0) }, `purge_deleted: ${names.length} temporary indexes on the foreign-key columns (dropped at the end)`);
  } catch (e) {
    await q.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    throw e;
  }
  return {
    names,
    drop: async () => {
      try {
        for (const name of names) {
          try {
            await dropOne(name);
          } catch (e) {
            logger?.warn({ index: name }, `purge_deleted: could not drop temporary index ${name} (${(e as Error).message.split('\n')[0]}); the next purge_deleted drops it, or: DROP INDEX CONCURRENTLY ${name}`);
          }
        }
      } finally {
        await q.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
      }
    },
  };
}
