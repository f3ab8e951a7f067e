/**
 * PostgreSQL. DDL is transactional: each step (script + version bump) is one transaction.
 * The lock is a session-level advisory lock (scoped to the current database), keyed by two int4
 * hashes of the key; the wait is bounded with lock_timeout so it wakes at once when released.
 */
import { createHash } from 'node:crypto';
import { LockTimeoutError } from '../errors.js';
import { errorCode, tableOf, type DialectAdapter, type LockRequest } from './adapter.js';

function lockKeys(key: string): [number, number] {
  const h = createHash('sha1').update(`migrate:${key}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

export const postgresAdapter: DialectAdapter = {
  name: 'postgresql',
  transactionalDdl: true,
  sessionLock: true,
  beginSql: 'BEGIN',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  async listTables(q) {
    const rows = await q.query("SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema()");
    return rows.map((r) => String(r.name));
  },
  async tableExists(q, table) {
    const [r] = await q.query('SELECT to_regclass(quote_ident(current_schema()) || \'.\' || quote_ident(?)) IS NOT NULL AS e', [table]);
    return r?.e === true;
  },
  isMissingTable: (e) => (e as { code?: string })?.code === '42P01' || (e as { cause?: { code?: string } })?.cause?.code === '42P01',
  async lock(q, req: LockRequest) {
    const [a, b] = lockKeys(req.key);
    const [first] = await q.query('SELECT pg_try_advisory_lock(?, ?) AS got', [a, b]);
    if (first?.got === true) return;
    const [holder] = await q.query(
      `SELECT a.pid, a.application_name AS app, a.client_addr::text AS addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ?::int::oid AND l.objid = ?::int::oid AND l.objsubid = 2 AND l.granted LIMIT 1`,
      [a, b],
    );
    req.logger.info(
      { lock: req.key, holder: holder ?? 'unknown' },
      `waiting up to ${Math.round(req.timeoutMs / 1000)} s for the migration lock held by ${holder ? `backend pid ${String(holder.pid)} (${[holder.app, holder.addr && `from ${String(holder.addr)}`].filter(Boolean).join(' ') || 'unknown client'})` : 'another session'}`,
    );
    await q.query(`SET lock_timeout = ${Math.max(1, Math.round(req.timeoutMs))}`);
    try {
      await q.query('SELECT pg_advisory_lock(?, ?)', [a, b]);
    } catch (e) {
      const code = (e as { code?: string; cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code;
      if (code === '55P03') {
        throw new LockTimeoutError(
          `timed out after ${Math.round(req.timeoutMs / 1000)} s waiting for the migration lock on ${req.key} (another migration is running; retry later or raise the lock timeout); nothing was applied`,
        );
      }
      throw e;
    } finally {
      await q.query('SET lock_timeout = 0').catch(() => undefined);
    }
  },
  async unlock(q, req) {
    const [a, b] = lockKeys(req.key);
    await q.query('SELECT pg_advisory_unlock(?, ?)', [a, b]);
  },
  assertLocked() {},
  maxVersion: 2147483647,
  async prepare() {},
  async beforeStep() {},
  async beforeCommit() {},
  async sessionId(q) {
    const [r] = await q.query('SELECT pg_backend_pid() AS id');
    return Number(r?.id);
  },
  async setLockWaitTimeout(q, ms) {
    await q.query(`SET lock_timeout = ${Math.max(1, Math.round(ms))}`);
  },
  isLockWaitTimeout: (e) => errorCode(e).code === '55P03',
  guard: {
    blockerNoun: 'backend pid',
    async lockWait(aux, pid) {
      const [me] = await aux.query(
        `SELECT a.wait_event_type AS type, EXTRACT(EPOCH FROM now() - a.query_start)::int AS s, a.query AS q,
                (SELECT string_agg(DISTINCT COALESCE(l.relation::regclass::text, l.locktype), ', ') FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS what
           FROM pg_stat_activity a WHERE a.pid = ?`,
        [pid],
      );
      if (!me || me.type !== 'Lock') return undefined;
      const rows = await aux.query(
        `SELECT b.pid AS id, b.usename AS user, b.client_addr::text AS host, EXTRACT(EPOCH FROM now() - b.xact_start)::int AS open_s,
                b.state AS state, left(regexp_replace(b.query, '\\s+', ' ', 'g'), 100) AS query
           FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(?)) ORDER BY b.xact_start`,
        [pid],
      );
      const what = String(me.what ?? '');
      return {
        what: /^(transactionid|tuple)/.test(what) ? `a row lock on ${tableOf(String(me.q ?? '')) ?? 'a table'}` : `a lock on ${what || 'a table'}`,
        waitedS: Number(me.s ?? 0),
        blockers: rows.map((r) => ({
          id: Number(r.id),
          user: r.user == null ? undefined : String(r.user),
          host: r.host == null ? 'local socket' : String(r.host).replace(/\/(32|128)$/, ''),
          openS: r.open_s == null ? undefined : Number(r.open_s),
          // An idle-in-transaction session's query is the last one it ran.
          query: r.state === 'active' && r.query != null ? String(r.query) : undefined,
          state: r.state == null ? undefined : `${String(r.state)}${r.query != null && r.state !== 'active' ? ` (last: ${String(r.query)})` : ''}`,
        })),
      };
    },
    async cancel(aux, pid) {
      await aux.query('SELECT pg_cancel_backend(?)', [pid]);
    },
  },
};
