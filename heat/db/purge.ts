/**
 * `purge_deleted`: deletes the stacks soft-deleted before a time line, everything that belongs to
 * them, the templates and credentials nothing else uses any more, and the expired services.
 *
 *   const s = await openHeatSession(...);                                    // one bare-driver connection
 *   const r = await purgeDeleted(s, { timeLine, batchSize: 20, logger });   // rows deleted per table
 *   const n = await purgeDryRun(s, { timeLine });                           // what it would delete
 *
 * How (SPEC §2.3-2.6):
 * - S = every stack with `deleted_at < timeLine` (and `tenant = projectId`), ownership ignored.
 * - S is cut into batches of about `batchSize` stacks, one transaction each. Stacks that share a
 *   template or credentials, or whose resources point (current_template_id) at another's template,
 *   go into the same batch (connected components), so that after each committed batch every
 *   remaining reference to a kept candidate comes from a stack or resource outside S: the end
 *   state is the same for any batch size, and after a kill -9 (committed batches done, the rest
 *   untouched) a re-run computes the same batches for what is left.
 * - The keep rules are inside the DELETE (`NOT EXISTS`), so a reference that a running engine
 *   commits meanwhile is honoured.
 * - Deadlocks and lock-wait timeouts roll the batch back and retry it (0.5 s, 1 s, 2 s).
 * - Cost (bench/README.md "purge_deleted"): per batch a dozen round trips (lock the stacks, one
 *   DELETE per table, commit), whatever the number of rows; the time is
 *   the server's per-row work. On PostgreSQL that work is linear only with an index on each
 *   foreign-key column, which Heat's schema lacks: purge-indexes.ts builds them for the run.
 */
import type { Queryable } from '../../migrate/dialect/contract.js';
import { driverError } from '../../migrate/dialect/helpers.js';
import type { Logger } from '../../migrate/script/contract.js';
import { sqlText, type Micros } from '../common/timeutils.js';
import { purgeIndexes } from './purge-indexes.js';

/** The tables purge_deleted deletes from, in the order `--dry-run` prints them. */
export const PURGE_TABLES = [
  'stack',
  'stack_lock',
  'stack_tag',
  'resource',
  'resource_data',
  'event',
  'sync_point',
  'snapshot',
  'watch_rule',
  'watch_data',
  'raw_template',
  'user_creds',
  'service',
] as const;
export type PurgeTable = (typeof PURGE_TABLES)[number];
export type PurgeCounts = Record<PurgeTable, number>;

export interface PurgeOptions {
  readonly timeLine: Micros;
  readonly projectId?: string;
  /** Stacks per transaction (a batch may be larger to keep a component together). */
  readonly batchSize?: number;
  readonly logger?: Logger;
  /** Between retries of a batch (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** PostgreSQL: how long building or dropping a temporary index may wait for open transactions (s). */
  readonly lockWaitS?: number;
}

export const DEFAULT_BATCH_SIZE = 200;
const RETRY_DELAYS_MS = [500, 1000, 2000];
/** Keys per IN list. */
const CHUNK = 5000;
/** Stacks per DELETE by `stack_id` (the default batch is one statement per table). */
const STACKS_PER_DELETE = 250;

const zero = (): PurgeCounts => Object.fromEntries(PURGE_TABLES.map((t) => [t, 0])) as PurgeCounts;

interface ExpiredStack {
  readonly id: string;
  readonly templates: number[];
  readonly creds: number | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The expired stacks' filter on alias `s`, with its parameters. */
function expiredWhere(o: PurgeOptions): [string, unknown[]] {
  const params: unknown[] = [sqlText(o.timeLine)];
  let where = 's.deleted_at < ?';
  if (o.projectId !== undefined) {
    where += ' AND s.tenant = ?';
    params.push(o.projectId);
  }
  return [where, params];
}

async function expiredStacks(q: Queryable, o: PurgeOptions): Promise<{ stacks: ExpiredStack[]; links: [string, number][] }> {
  const [where, params] = expiredWhere(o);
  const rows = await q.query(`SELECT s.id AS id, s.raw_template_id AS raw, s.prev_raw_template_id AS prev, s.user_creds_id AS creds FROM stack s WHERE ${where} ORDER BY s.id`, params);
  const stacks = rows.map((r) => ({
    id: String(r.id),
    templates: [num(r.raw), num(r.prev)].filter((t): t is number => t !== null),
    creds: num(r.creds),
  }));
  // Resources of expired stacks that point at another template than their stack's own: they tie
  // their stack to that template (a link to the stack's own template adds nothing).
  const links = await q.query(
    `SELECT DISTINCT r.stack_id AS stack_id, r.current_template_id AS tid FROM resource r INNER JOIN stack s ON s.id = r.stack_id WHERE ${where}` +
      ' AND r.current_template_id IS NOT NULL AND r.current_template_id <> s.raw_template_id' +
      ' AND (s.prev_raw_template_id IS NULL OR r.current_template_id <> s.prev_raw_template_id)',
    params,
  );
  return { stacks, links: links.map((l) => [String(l.stack_id), Number(l.tid)]) };
}

/** Batches of whole components of stacks that share a template or credentials (see module doc). */
export function planBatches(stacks: readonly ExpiredStack[], links: readonly [string, number][], batchSize: number): string[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    for (let y = x; parent.get(y) !== r; ) {
      const n = parent.get(y)!;
      parent.set(y, r);
      y = n;
    }
    return r;
  };
  const node = (x: string) => {
    if (!parent.has(x)) parent.set(x, x);
    return x;
  };
  const union = (a: string, b: string) => {
    const ra = find(node(a));
    const rb = find(node(b));
    if (ra !== rb) parent.set(rb, ra);
  };
  const candidates = new Set<number>();
  for (const s of stacks) {
    node(`s:${s.id}`);
    for (const t of s.templates) {
      candidates.add(t);
      union(`s:${s.id}`, `t:${t}`);
    }
    if (s.creds !== null) union(`s:${s.id}`, `c:${s.creds}`);
  }
  for (const [sid, t] of links) if (candidates.has(t) && parent.has(`s:${sid}`)) union(`s:${sid}`, `t:${t}`);
  const components = new Map<string, string[]>();
  for (const s of stacks) {
    const r = find(`s:${s.id}`);
    const c = components.get(r);
    if (c) c.push(s.id);
    else components.set(r, [s.id]);
  }
  const batches: string[][] = [];
  let cur: string[] = [];
  for (const c of components.values()) {
    cur.push(...c);
    if (cur.length >= batchSize) {
      batches.push(cur);
      cur = [];
    }
  }
  if (cur.length) batches.push(cur);
  return batches;
}

function isRetryable(e: unknown): boolean {
  const { errno, code } = driverError(e);
  return errno === 1213 || errno === 1205 || code === '40P01' || code === '55P03' || code === '40001' || code === 'SQLITE_BUSY';
}

/**
 * Deletes one batch of stacks and what becomes unreferenced; returns the rows deleted per table.
 * First the batch's stacks that are still expired are locked (FOR UPDATE; SQLite's write lock is
 * already held): a stack restored since the plan drops out, and an engine that would add a child
 * row to a locked stack waits for this batch (then fails on the foreign key, as it would anyway).
 * So the DELETEs by `stack_id` that follow see every child row there is. They go through the
 * foreign-key indexes (InnoDB's own; on PostgreSQL the purge's temporary ones), in lists of at
 * most {@link STACKS_PER_DELETE} stacks so that no plan turns into a table scan that would wait on
 * rows a running engine holds.
 */
async function deleteBatch(q: Queryable, batch: readonly string[], timeLine: string): Promise<PurgeCounts> {
  const n = zero();
  const lock = q.dialect === 'sqlite' ? '' : ' FOR UPDATE';
  const stacks: { id: string; a: number | null; b: number | null; c: number | null }[] = [];
  for (let i = 0; i < batch.length; i += CHUNK) {
    const ids = batch.slice(i, i + CHUNK);
    const rows = await q.query(
      `SELECT s.id AS id, s.raw_template_id AS a, s.prev_raw_template_id AS b, s.user_creds_id AS c FROM stack s WHERE s.id IN (${marks(ids.length)}) AND s.deleted_at < ?${lock}`,
      [...ids, timeLine],
    );
    for (const r of rows) stacks.push({ id: String(r.id), a: num(r.a), b: num(r.b), c: num(r.c) });
  }
  if (!stacks.length) return n;
  const stackIds = stacks.map((s) => s.id);
  const templates = [...new Set(stacks.flatMap((r) => [r.a, r.b]).filter((x): x is number => x !== null))];
  const creds = [...new Set(stacks.map((r) => r.c).filter((x): x is number => x !== null))];
  // A grandchild table through its parent: MySQL's multi-table DELETE (a single-table DELETE with an
  // IN (SELECT ...) is not turned into a join there), a semi-join elsewhere.
  const viaParent = (table: PurgeTable, fk: string, parent: string, k: number) =>
    q.dialect === 'mysql'
      ? `DELETE c FROM ${table} c INNER JOIN ${parent} p ON p.id = c.${fk} WHERE p.stack_id IN (${marks(k)})`
      : `DELETE FROM ${table} WHERE ${fk} IN (SELECT p.id FROM ${parent} p WHERE p.stack_id IN (${marks(k)}))`;
  for (let i = 0; i < stackIds.length; i += STACKS_PER_DELETE) {
    const ids = stackIds.slice(i, i + STACKS_PER_DELETE);
    n.resource_data += await q.execute(viaParent('resource_data', 'resource_id', 'resource', ids.length), ids);
    n.watch_data += await q.execute(viaParent('watch_data', 'watch_rule_id', 'watch_rule', ids.length), ids);
    for (const t of ['watch_rule', 'snapshot', 'stack_lock', 'stack_tag', 'event', 'sync_point', 'resource'] as const) {
      n[t] += await q.execute(`DELETE FROM ${t} WHERE stack_id IN (${marks(ids.length)})`, ids);
    }
  }
  const del = async (table: PurgeTable, values: readonly unknown[], extra = '') => {
    for (let i = 0; i < values.length; i += CHUNK) {
      const part = values.slice(i, i + CHUNK);
      n[table] += await q.execute(`DELETE FROM ${table} WHERE id IN (${marks(part.length)})${extra}`, part);
    }
  };
  // Locked above and still expired; the foreign keys stop the batch (rolled back) if a child row
  // is there all the same.
  await del('stack', stackIds);
  // The keep rules inside the DELETE: a reference committed meanwhile by an engine is honoured.
  await del(
    'raw_template',
    templates,
    ' AND NOT EXISTS (SELECT 1 FROM stack s1 WHERE s1.raw_template_id = raw_template.id)' +
      ' AND NOT EXISTS (SELECT 1 FROM stack s2 WHERE s2.prev_raw_template_id = raw_template.id)' +
      ' AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.current_template_id = raw_template.id)',
  );
  await del('user_creds', creds, ' AND NOT EXISTS (SELECT 1 FROM stack s WHERE s.user_creds_id = user_creds.id)');
  return n;
}

async function inTransaction<T>(q: Queryable, fn: () => Promise<T>): Promise<T> {
  // MySQL: READ COMMITTED (set once per session, see purgeDeleted): no gap locks on the indexes we
  // scan, so a running engine inserting events or resources next to the purged ids is not blocked.
  // SQLite: IMMEDIATE takes the write lock first (no lock upgrade that could fail half-way).
  await q.execute(q.dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : q.dialect === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
  try {
    const r = await fn();
    await q.execute('COMMIT');
    return r;
  } catch (e) {
    await q.execute('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * Purges on one connection (no transaction open). On PostgreSQL it first gives the foreign-key
 * columns temporary indexes (purge-indexes.ts) and drops them at the end.
 */
export async function purgeDeleted(q: Queryable, o: PurgeOptions): Promise<PurgeCounts> {
  const total = zero();
  const timeLine = sqlText(o.timeLine);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  if (q.dialect === 'mysql') await q.execute('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  // Services first, in their own statement (as Heat 8+): always, also under -p.
  total.service = await q.execute('DELETE FROM service WHERE deleted_at < ?', [timeLine]);

  const { stacks, links } = await expiredStacks(q, o);
  const batches = planBatches(stacks, links, o.batchSize ?? DEFAULT_BATCH_SIZE);
  o.logger?.info({ stacks: stacks.length, batches: batches.length, timeLine }, `purging ${stacks.length} stacks deleted before ${timeLine} in ${batches.length} batches`);
  if (!batches.length) return total;
  const indexes = q.dialect === 'postgresql' ? await purgeIndexes(q, o.logger, o.lockWaitS ?? 30) : undefined;
  try {
    let lastLog = performance.now();
    for (let b = 0; b < batches.length; b++) {
      for (let attempt = 0; ; attempt++) {
        try {
          const n = await inTransaction(q, () => deleteBatch(q, batches[b]!, timeLine));
          for (const t of PURGE_TABLES) total[t] += n[t];
          break;
        } catch (e) {
          if (!isRetryable(e) || attempt >= RETRY_DELAYS_MS.length) throw e;
          const ms = RETRY_DELAYS_MS[attempt]!;
          o.logger?.warn({ batch: b + 1, attempt: attempt + 1 }, `batch ${b + 1} of ${batches.length} hit a deadlock or lock wait (${(e as Error).message.split('\n')[0]}); retrying in ${ms} ms`);
          await sleep(ms);
        }
      }
      if (b === 0 || b === batches.length - 1 || performance.now() - lastLog >= 1000) {
        lastLog = performance.now();
        o.logger?.info({ batch: b + 1, batches: batches.length }, `purge_deleted: batch ${b + 1} of ${batches.length} committed`);
      }
    }
  } finally {
    await indexes?.drop();
  }
  return total;
}

/** What {@link purgeDeleted} would delete now, per table; changes nothing. */
export async function purgeDryRun(q: Queryable, o: PurgeOptions): Promise<PurgeCounts> {
  const [where, params] = expiredWhere(o);
  const expired = `(SELECT s.id FROM stack s WHERE ${where})`;
  const count = async (sql: string, times: number): Promise<number> => {
    const r = await q.query(`SELECT COUNT(*) AS n FROM ${sql}`, Array.from({ length: times }, () => params).flat());
    return Number(r[0]?.n ?? 0);
  };
  const n = zero();
  n.stack = await count(`stack s WHERE ${where}`, 1);
  for (const t of ['stack_lock', 'stack_tag', 'resource', 'event', 'sync_point', 'snapshot', 'watch_rule'] as const) {
    n[t] = await count(`${t} x WHERE x.stack_id IN ${expired}`, 1);
  }
  n.resource_data = await count(`resource_data d WHERE d.resource_id IN (SELECT r.id FROM resource r WHERE r.stack_id IN ${expired})`, 1);
  n.watch_data = await count(`watch_data d WHERE d.watch_rule_id IN (SELECT w.id FROM watch_rule w WHERE w.stack_id IN ${expired})`, 1);
  // A candidate goes unless a stack outside S, or a resource of such a stack, references it.
  const outside = `NOT IN ${expired}`;
  n.raw_template = await count(
    `raw_template t WHERE (t.id IN (SELECT s.raw_template_id FROM stack s WHERE ${where}) OR t.id IN (SELECT s.prev_raw_template_id FROM stack s WHERE ${where} AND s.prev_raw_template_id IS NOT NULL))` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k1 WHERE k1.raw_template_id = t.id AND k1.id ${outside})` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k2 WHERE k2.prev_raw_template_id = t.id AND k2.id ${outside})` +
      ` AND NOT EXISTS (SELECT 1 FROM resource k3 WHERE k3.current_template_id = t.id AND k3.stack_id ${outside})`,
    5,
  );
  n.user_creds = await count(
    `user_creds c WHERE c.id IN (SELECT s.user_creds_id FROM stack s WHERE ${where} AND s.user_creds_id IS NOT NULL)` +
      ` AND NOT EXISTS (SELECT 1 FROM stack k WHERE k.user_creds_id = c.id AND k.id ${outside})`,
    2,
  );
  n.service = Number((await q.query('SELECT COUNT(*) AS n FROM service v WHERE v.deleted_at < ?', [sqlText(o.timeLine)]))[0]?.n ?? 0);
  return n;
}
