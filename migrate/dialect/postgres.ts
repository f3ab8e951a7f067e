/**
 * PostgreSQL. DDL is transactional: each step (script + version bump) is one transaction.
 * The lock is a session-level advisory lock (scoped to the current database), keyed by two int4
 * hashes of the key; the wait is bounded with lock_timeout so it wakes at once when released.
 */
import { createHash } from 'node:crypto';
import { LockTimeoutError } from '../errors.js';
import type { DialectAdapter, LockRequest } from './adapter.js';

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
};
