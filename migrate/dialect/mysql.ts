/**
 * MySQL / MariaDB. DDL commits by itself, so a step cannot be atomic: the core records a started
 * step in migrate_log and the scripts must converge when re-run.
 *
 * Lock: GET_LOCK on the migration's own connection. GET_LOCK names are server-wide (not per
 * database) and at most 64 characters, so the name includes the database and is hashed when long.
 * Its result is checked: 1 = taken, 0 = timeout, NULL = error.
 *
 * On a Galera node (wsrep_on = ON) GET_LOCK is node-local, so the lock is a row the cluster
 * certifies (row-lock.ts), and reads are made causal (wsrep_sync_wait = 1) so that a waiter never
 * acts on a version it has not seen yet. MIGRATE_MYSQL_LOCK=row forces the row lock anywhere.
 */
import { createHash } from 'node:crypto';
import { LockTimeoutError, MigrateError } from '../errors.js';
import type { Queryable } from '../session.js';
import { errorCode, tableOf, type DialectAdapter, type LockRequest } from './adapter.js';
import { assertHeld, releaseRowLock, startHeartbeat, takeRowLock, type HeldRowLock } from './row-lock.js';

interface State {
  galera: boolean;
  lockName?: string;
  rowLock?: HeldRowLock;
}
const states = new WeakMap<Queryable, State>();
const state = (q: Queryable): State => {
  let s = states.get(q);
  if (!s) states.set(q, (s = { galera: false }));
  return s;
};

async function lockName(q: Queryable, key: string): Promise<string> {
  const [row] = await q.query('SELECT DATABASE() AS db');
  const name = `migrate:${String(row?.db ?? '')}:${key}`;
  return name.length <= 64 ? name : `migrate:${createHash('sha1').update(name).digest('hex')}`;
}

async function getLock(q: Queryable, req: LockRequest): Promise<string> {
  const name = await lockName(q, req.key);
  const [first] = await q.query('SELECT GET_LOCK(?, 0) AS got', [name]);
  if (Number(first?.got) === 1) return name;
  if (first?.got === null || first?.got === undefined) throw new MigrateError(`GET_LOCK('${name}') failed (returned NULL)`);
  const [holder] = await q.query(
    'SELECT p.ID AS id, p.HOST AS host, p.USER AS user FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)',
    [name],
  );
  const [running] = await q
    .query("SELECT host, pid, script FROM migrate_log WHERE status = 'running' ORDER BY id DESC LIMIT 1")
    .catch(() => [] as Record<string, unknown>[]);
  req.logger.info(
    { lock: name, holder: holder ? { connection: holder.id, host: holder.host, user: holder.user } : 'unknown', running },
    `waiting up to ${Math.round(req.timeoutMs / 1000)} s for the migration lock held by ${holder ? `connection ${String(holder.id)} from ${String(holder.host)}` : 'another session'}${running ? ` (${String(running.host)} pid ${String(running.pid)}, running ${String(running.script)})` : ''}`,
  );
  const [got] = await q.query('SELECT GET_LOCK(?, ?) AS got', [name, Math.max(1, Math.ceil(req.timeoutMs / 1000))]);
  if (Number(got?.got) === 1) return name;
  if (got?.got === null || got?.got === undefined) throw new MigrateError(`GET_LOCK('${name}') failed (returned NULL)`);
  throw new LockTimeoutError(
    `timed out after ${Math.round(req.timeoutMs / 1000)} s waiting for the migration lock '${name}' (another migration is running; retry later or raise the lock timeout); nothing was applied`,
  );
}

export const mysqlAdapter: DialectAdapter = {
  name: 'mysql',
  transactionalDdl: false,
  sessionLock: true,
  beginSql: 'START TRANSACTION',
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  async listTables(q) {
    const rows = await q.query(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    );
    return rows.map((r) => String(r.name));
  },
  async tableExists(q, table) {
    const rows = await q.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]);
    return rows.length > 0;
  },
  isMissingTable: (e) => {
    const c = (e as { cause?: { errno?: number } }).cause;
    return c?.errno === 1146 || /ER_NO_SUCH_TABLE/.test(String((e as Error)?.message));
  },
  maxVersion: 2147483647,
  async prepare(q) {
    const [packet] = await q.query('SELECT @@max_allowed_packet AS n');
    const limits = (q as { limits?: { maxPacket?: number } }).limits;
    if (limits && packet?.n != null) limits.maxPacket = Number(packet.n);
    const [row] = await q.query("SHOW VARIABLES LIKE 'wsrep_on'");
    const galera = String(row?.Value ?? row?.value ?? '').toUpperCase() === 'ON';
    state(q).galera = galera;
    if (galera) await q.query('SET SESSION wsrep_sync_wait = 1');
  },
  async lock(q, req) {
    const s = state(q);
    if (s.galera || req.env.MIGRATE_MYSQL_LOCK === 'row') {
      const lease = Number(req.env.MIGRATE_LOCK_LEASE ?? 60);
      if (!Number.isFinite(lease) || lease < 1) throw new MigrateError(`MIGRATE_LOCK_LEASE must be a number of seconds >= 1, got '${req.env.MIGRATE_LOCK_LEASE}'`);
      const lock = await takeRowLock(q, req, lease);
      try {
        startHeartbeat(lock, await req.openAux(), lease);
      } catch (e) {
        await releaseRowLock(q, lock).catch(() => undefined);
        throw e;
      }
      s.rowLock = lock;
      return;
    }
    s.lockName = await getLock(q, req);
  },
  async unlock(q) {
    const s = state(q);
    if (s.rowLock) {
      const l = s.rowLock;
      s.rowLock = undefined;
      await releaseRowLock(q, l);
    } else if (s.lockName) {
      const name = s.lockName;
      s.lockName = undefined;
      await q.query('SELECT RELEASE_LOCK(?) AS released', [name]);
    }
  },
  assertLocked(q) {
    const l = state(q).rowLock;
    if (l) assertHeld(l);
  },
  async beforeStep() {},
  async beforeCommit() {},
  async sessionId(q) {
    const [r] = await q.query('SELECT CONNECTION_ID() AS id');
    return Number(r?.id);
  },
  async setLockWaitTimeout(q, ms) {
    const s = Math.max(1, Math.ceil(ms / 1000));
    await q.query(`SET SESSION lock_wait_timeout = ${s}, SESSION innodb_lock_wait_timeout = ${s}`);
  },
  isLockWaitTimeout: (e) => errorCode(e).errno === 1205,
  guard: {
    blockerNoun: 'connection',
    // Metadata locks: the waiter's processlist state says so; the holders are the sessions with an
    // open transaction in this database (MariaDB without metadata_lock_info cannot tell which
    // table each holds). Row locks: INNODB_LOCK_WAITS names the blocking transaction.
    async lockWait(aux, id) {
      const [me] = await aux.query(
        `SELECT p.STATE AS state, p.TIME AS s, p.INFO AS info, t.trx_id AS trx, t.trx_state AS trx_state
           FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
          WHERE p.ID = ?`,
        [id],
      );
      if (!me) return undefined;
      const blockerCols = `t.trx_mysql_thread_id AS id, p.USER AS user, p.HOST AS host, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS open_s,
          p.COMMAND AS command, LEFT(COALESCE(p.INFO, t.trx_query), 100) AS query`;
      const toBlockers = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({
          id: Number(r.id),
          user: r.user == null ? undefined : String(r.user),
          host: r.host == null ? undefined : String(r.host),
          openS: r.open_s == null ? undefined : Number(r.open_s),
          query: r.query == null ? undefined : String(r.query).replace(/\s+/g, ' '),
          state: r.command === 'Sleep' ? 'idle in transaction' : undefined,
        }));
      if (/metadata lock/i.test(String(me.state ?? ''))) {
        const table = tableOf(String(me.info ?? ''));
        const rows = await aux.query(
          `SELECT ${blockerCols} FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
            WHERE t.trx_mysql_thread_id <> ? AND p.DB = DATABASE() ORDER BY t.trx_started LIMIT 10`,
          [id],
        );
        return { what: `the metadata lock of table ${table ?? '(see the statement)'}`, waitedS: Number(me.s ?? 0), blockers: toBlockers(rows) };
      }
      if (me.trx_state === 'LOCK WAIT' && me.trx != null) {
        const rows = await aux.query(
          `SELECT l.lock_table AS lock_table, ${blockerCols}
             FROM information_schema.INNODB_LOCK_WAITS w
             JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id
             JOIN information_schema.INNODB_TRX t ON t.trx_id = w.blocking_trx_id
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
            WHERE w.requesting_trx_id = ?`,
          [me.trx],
        );
        const table = String(rows[0]?.lock_table ?? '').replace(/^`[^`]*`\./, '').replace(/`/g, '') || tableOf(String(me.info ?? ''));
        return { what: `a row lock on ${table ?? 'a table'}`, waitedS: Number(me.s ?? 0), blockers: toBlockers(rows) };
      }
      return undefined;
    },
    async cancel(aux, id) {
      await aux.query(`KILL QUERY ${Number(id)}`);
    },
  },
};
