/**
 * PostgreSQL. DDL is transactional: each step (script + version bump) is one transaction.
 * The lock is a session-level advisory lock (scoped to the current database), keyed by two int4
 * hashes of the key; a bounded wait uses lock_timeout, so it wakes at once when the lock is released.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidUrlError } from '../errors.js';
import type { Row } from '../script/contract.js';
import { toPositional } from '../sql.js';
import type { ParsedUrl } from '../url.js';
import { connectTimeoutMs, driverError, tableOf, type ConnectOptions, type DialectAdapter, type ErrorKind, type Queryable, type RawQuery } from './adapter.js';
import type { GuardProbe } from '../guard.js';

function lockKeys(key: string): [number, number] {
  const h = createHash('sha1').update(`migrate:${key}`).digest();
  return [h.readInt32BE(0), h.readInt32BE(4)];
}

/** libpq's sslmode (SQLAlchemy passes it through): require = encrypted; verify-* = checked too. */
function ssl(u: ParsedUrl): { rejectUnauthorized: boolean; ca?: string } | undefined {
  const mode = u.query.sslmode;
  if (!mode || mode === 'disable' || mode === 'allow' || mode === 'prefer') return undefined;
  const ca = u.query.sslrootcert ? readFileSync(u.query.sslrootcert, 'utf8') : undefined;
  if (mode === 'require') return { rejectUnauthorized: false, ca };
  if (mode === 'verify-ca' || mode === 'verify-full') return { rejectUnauthorized: true, ca };
  throw new InvalidUrlError(`unknown sslmode '${mode}': use disable, require, verify-ca or verify-full`);
}

function options(u: ParsedUrl, o: ConnectOptions) {
  return {
    host: u.query.host ?? u.host ?? 'localhost',
    port: u.port ?? 5432,
    user: u.username ?? o.defaultUser ?? 'postgres',
    password: u.password,
    database: u.database ?? u.username ?? 'postgres',
    application_name: u.query.application_name ?? o.applicationName,
    connectionTimeoutMillis: connectTimeoutMs(u),
    keepAlive: true,
    ssl: ssl(u),
  };
}

type Client = { query(sql: string, params: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }> };

export class PostgresAdapter implements DialectAdapter {
  readonly name = 'postgresql' as const;
  readonly transactionalDdl = true;
  readonly sessionLock = true;
  readonly maxVersion = 2147483647;
  readonly connectHint = 'check the URL and that the server is running';
  readonly beginSql = 'BEGIN';
  quote = (id: string) => `"${id.replace(/"/g, '""')}"`;

  async connect(u: ParsedUrl, o: ConnectOptions) {
    const pg = (await import('pg')).default;
    const client = new pg.Client(options(u, o));
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    await client.connect();
    return { raw: this.wrap(client), close: () => client.end().catch(() => undefined) };
  }

  typeormOptions(u: ParsedUrl, o: ConnectOptions) {
    const p = options(u, o);
    return {
      type: 'postgres' as const,
      host: p.host,
      port: p.port,
      username: p.user,
      password: p.password,
      database: p.database,
      applicationName: p.application_name,
      connectTimeoutMS: p.connectionTimeoutMillis,
      ssl: p.ssl,
      extra: { keepAlive: true },
      poolSize: 1,
    };
  }

  wrap(client: unknown): RawQuery {
    return async (sql, params) => {
      const res = await (client as Client).query(params.length ? toPositional(sql) : sql, params as unknown[]);
      return { rows: res.rows ?? [], affected: res.rowCount ?? 0 };
    };
  }

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
  async beforeStep() {}
  async beforeCommit() {}

  async sessionId(q: Queryable) {
    const [r] = await q.query('SELECT pg_backend_pid() AS id');
    return Number(r?.id);
  }

  async setLockWaitTimeout(q: Queryable, ms: number) {
    await q.query(`SET lock_timeout = ${Math.max(1, Math.round(ms))}`);
  }

  readonly guard: GuardProbe = {
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
  };
}
