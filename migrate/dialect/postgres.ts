/**
 * PostgreSQL. DDL is transactional: each step (script + version bump) is one transaction.
 * The lock is a session-level advisory lock (scoped to the current database), keyed by two int4
 * hashes of the key; a bounded wait uses lock_timeout, so it wakes at once when the lock is released.
 *
 * Driver options and result wrapping: postgres-driver.ts; the blocker probe and cancel: postgres-blockers.ts.
 */
import { createHash } from 'node:crypto';
import { sqlLiteral } from '../sql.js';
import { driverError } from './helpers.js';
import type { DialectAdapter, ErrorKind, Queryable } from './contract.js';
import { postgresGuard } from './postgres-blockers.js';
import { connectPostgres, postgresTypeormOptions, wrapPostgres } from './postgres-driver.js';
import type { GuardProbe } from './probe.js';

function lockKeys(key: string): [number, number] {
  const h = createHash('sha1').update(`migrate:${key}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

export class PostgresAdapter implements DialectAdapter {
  readonly name = 'postgresql' as const;
  readonly transactionalDdl = true;
  readonly sessionLock = true;
  readonly maxVersion = 2147483647;
  readonly connectHint = 'check the URL and that the server is running';
  readonly beginSql = 'BEGIN';
  quote = (id: string) => `"${id.replace(/"/g, '""')}"`;
  literal = (v: unknown) => sqlLiteral(v, { booleanWords: true });

  connect = connectPostgres;
  typeormOptions = postgresTypeormOptions;
  wrap = wrapPostgres;

  classify(e: unknown): ErrorKind | undefined {
    const { code, message } = driverError(e);
    if (code === '28P01' || code === '28000' || /password authentication failed/i.test(message)) return 'auth';
    if (code === '3D000') return 'no-database';
    if (code === '42P01') return 'missing-table';
    if (
      code === '57P01' ||
      code === '57P02' ||
      /Connection terminated|server closed the connection|Client has encountered a connection error and is not queryable|terminating connection due to administrator command/i.test(message)
    ) {
      return 'lost';
    }
    if (code === '55P03') return 'lock-wait-timeout'; // lock_timeout
    if (code === '57014') return 'cancelled'; // query_canceled: pg_cancel_backend (or statement_timeout)
    if (code === '57P03' || code === '53300' || /timeout expired|the database system is (starting up|shutting down)/i.test(message)) return 'unreachable';
    return undefined;
  }

  async listTables(q: Queryable) {
    const rows = await q.query('SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema()');
    return rows.map((r) => String(r.name));
  }

  async tableExists(q: Queryable, table: string) {
    const [r] = await q.query("SELECT to_regclass(quote_ident(current_schema()) || '.' || quote_ident(?)) IS NOT NULL AS e", [table]);
    return r?.e === true;
  }

  logTableDdl(table: string, columns: string) {
    return `CREATE TABLE IF NOT EXISTS ${table} (\n  id SERIAL PRIMARY KEY,\n${columns}\n)`;
  }

  async prepare() {}

  async tryLock(q: Queryable, key: string, waitMs: number) {
    const [a, b] = lockKeys(key);
    if (waitMs <= 0) return (await q.query('SELECT pg_try_advisory_lock(?, ?) AS got', [a, b]))[0]?.got === true;
    await q.query(`SET lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
    try {
      await q.query('SELECT pg_advisory_lock(?, ?)', [a, b]);
      return true;
    } catch (e) {
      if (driverError(e).code === '55P03') return false; // lock_not_available: the wait timed out
      throw e;
    } finally {
      await q.query('SET lock_timeout = 0').catch(() => undefined);
    }
  }

  async unlock(q: Queryable, key: string) {
    const [a, b] = lockKeys(key);
    return (await q.query('SELECT pg_advisory_unlock(?, ?) AS released', [a, b]))[0]?.released === true;
  }

  async lockHolder(q: Queryable, key: string) {
    const [a, b] = lockKeys(key);
    const [h] = await q.query(
      `SELECT a.pid, a.application_name AS app, a.client_addr::text AS addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ?::int::oid AND l.objid = ?::int::oid AND l.objsubid = 2 AND l.granted LIMIT 1`,
      [a, b],
    );
    if (!h) return undefined;
    const who = [h.app, h.addr && `from ${String(h.addr)}`].filter(Boolean).join(' ') || 'unknown client';
    return { text: `backend pid ${String(h.pid)} (${who})`, fields: h };
  }

  assertLocked() {}

  async sessionId(q: Queryable) {
    const [r] = await q.query('SELECT pg_backend_pid() AS id');
    return Number(r?.id);
  }

  async setLockWaitTimeout(q: Queryable, ms: number) {
    await q.query(`SET lock_timeout = ${Math.max(1, Math.round(ms))}`);
  }

  readonly guard: GuardProbe = postgresGuard;
}
