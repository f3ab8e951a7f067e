/**
 * One dedicated database connection, opened from a parsed URL through its dialect's adapter.
 *
 * Two flavours share one query path:
 *  - a *light* session talks to the driver directly (mysql2, pg, better-sqlite3): used by commands
 *    that only read or write the version table, so they never load TypeORM (start-up cost);
 *  - a *TypeORM* session opens a DataSource and one QueryRunner, and runs every statement on the
 *    QueryRunner's own connection, so module scripts get `queryRunner` on the connection that holds
 *    the lock and the step's transaction.
 *
 * Every statement error is wrapped here with the statement and a redacted URL; what an error
 * *means* (busy, lost, not ready...) is the adapter's call (`classify`).
 */
import type { DataSource, QueryRunner } from 'typeorm';
import { createAdapter } from './dialect/factory.js';
import type { DialectAdapter, ErrorKind, Queryable, RawQuery, StatementOptions } from './dialect/contract.js';
import { ConnectionError, DatabaseError, InvalidUrlError, LockTimeoutError } from './errors.js';
import type { EngineHooks } from './hooks.js';
import type { Logger } from './script/contract.js';
import { parseUrl, redact, type ParsedUrl } from './url.js';

export interface Session extends Queryable {
  readonly url: ParsedUrl;
  /** The URL with the password masked, for messages. */
  readonly safeUrl: string;
  /** This connection's adapter (per-connection state: the lock it holds). */
  readonly adapter: DialectAdapter;
  /** Present on TypeORM sessions only. */
  readonly queryRunner?: QueryRunner;
  close(): Promise<void>;
}

export interface SessionOptions {
  logger?: Logger;
  /** Load TypeORM and expose `queryRunner` (needed to run module scripts). */
  typeorm?: boolean;
  /** SQLite busy timeout (the SQLite write lock), in ms. */
  busyTimeoutMs?: number;
  /** Name shown to other sessions (PostgreSQL application_name). */
  applicationName?: string;
  /** Log every statement at debug level. */
  logSql?: boolean;
  hooks?: EngineHooks;
  /** Ends waits inside the driver (SQLite's write lock) when aborted. */
  signal?: AbortSignal;
  /** Only reads will follow (SQLite: opened read-only, never created). */
  readOnly?: boolean;
}

/** Socket-level failures (any driver): connecting may be retried; during a statement the connection is lost. */
const SOCKET_UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SOCKET_LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** What a driver error means (socket failures for any driver, the rest by the adapter): the one classification. */
export function errorKind(a: DialectAdapter, e: unknown): ErrorKind | undefined {
  const code = (e as { code?: string })?.code ?? '';
  if (SOCKET_UNREACHABLE.has(code)) return 'unreachable';
  if (SOCKET_LOST.has(code)) return 'lost';
  return a.classify(e);
}

/** What to do about a connection that failed, per kind (an application may say it its way). */
export type ConnectHints = Partial<Record<ErrorKind | 'other', string>>;

/**
 * A failed connection as a ConnectionError: the driver's message (password redacted), what to do,
 * and whether it is worth retrying (the server is not reachable or not ready yet).
 */
export function connectionError(e: unknown, a: DialectAdapter, url: ParsedUrl, hints: ConnectHints = {}): ConnectionError {
  const msg = redact(String((e as Error)?.message ?? e), url.password).split('\n')[0]!;
  const kind = errorKind(a, e);
  const hint =
    (kind && hints[kind]) ??
    (kind === 'auth' ? 'check the user name and password' : kind === 'no-database' ? 'create the database first, or fix its name in the URL' : (hints.other ?? a.connectHint));
  const retryable = kind === 'unreachable' || kind === 'lost' || kind === 'not-ready';
  return new ConnectionError(`cannot connect to ${url.safe}: ${msg} (${hint})`, retryable, { cause: e });
}

/** Roughly how many bytes a statement and its parameters take on the wire. */
function payloadBytes(sql: string, params: readonly unknown[]): number {
  let n = Buffer.byteLength(sql);
  for (const p of params) n += typeof p === 'string' ? Buffer.byteLength(p) : Buffer.isBuffer(p) ? p.length : 8;
  return n;
}

/** A database error with the statement (first 200 chars) and without any password. */
function statementError(e: unknown, sql: string, params: readonly unknown[], a: DialectAdapter, url: ParsedUrl): Error {
  const kind = errorKind(a, e);
  const err = e as { message?: string; code?: string };
  if (kind === 'busy') {
    return new LockTimeoutError(
      `timed out waiting for the SQLite write lock on ${url.database} (another process is writing: retry later or raise the lock timeout); this step was not applied`,
      { cause: e },
    );
  }
  if (kind === 'not-ready') {
    // Like a refused connection: worth retrying while waiting for the database.
    return new ConnectionError(`database node not ready: ${redact(String(err.message), url.password)}`, true, { cause: e });
  }
  const msg = redact(String(err.message ?? e).split('\n')[0]!, url.password);
  const stmt = (sql.length > 200 ? `${sql.slice(0, 200)}...` : sql).replace(/\s+/g, ' ').trim();
  const better = a.explain?.(e, url, payloadBytes(sql, params));
  const text = better
    ? `${redact(better, url.password)} [SQL: ${stmt}]`
    : kind === 'lost'
      ? // Not retried here: the run stops; the next run resumes (MySQL) or finds the step rolled back.
        `lost the connection to the database during a run (${msg}): the server went away or restarted; run again once it is back (an interrupted step is rolled back or resumed) [SQL: ${stmt}]`
      : `${msg} [SQL: ${stmt}]`;
  const de = new DatabaseError(text, sql, { cause: e });
  (de as { code?: string }).code = err.code;
  return de;
}

/** Opens a session. Errors are ConnectionError (retryable when the server is not reachable). */
export async function openSession(target: string | ParsedUrl, opts: SessionOptions = {}): Promise<Session> {
  const url = typeof target === 'string' ? parseUrl(target) : target;
  const adapter = await createAdapter(url.dialect);
  const co = { busyTimeoutMs: opts.busyTimeoutMs, applicationName: opts.applicationName, defaultUser: opts.hooks?.user, logger: opts.logger, signal: opts.signal, readOnly: opts.readOnly };
  let raw: RawQuery;
  let close: () => Promise<void>;
  let queryRunner: QueryRunner | undefined;
  try {
    if (opts.typeorm) ({ raw, close, queryRunner } = await openTypeorm(adapter, url, co));
    else ({ raw, close } = await adapter.connect(url, co));
  } catch (e) {
    if (e instanceof InvalidUrlError) throw e;
    throw connectionError(e, adapter, url);
  }
  const logger = opts.logSql ? opts.logger : undefined;
  const onStatement = opts.hooks?.onStatement;
  const run = async (sql: string, params: readonly unknown[] = [], o?: StatementOptions) => {
    logger?.debug({ sql, params: params.length ? params.map(() => '?') : undefined }, 'SQL');
    onStatement?.(sql, params, adapter.literal);
    try {
      return await raw(sql, params, o);
    } catch (e) {
      throw statementError(e, sql, params, adapter, url);
    }
  };
  return {
    dialect: url.dialect,
    url,
    safeUrl: url.safe,
    adapter,
    queryRunner,
    query: async (sql, params) => (await run(sql, params)).rows,
    execute: async (sql, params, o) => (await run(sql, params, o)).affected,
    close,
  };
}

async function openTypeorm(adapter: DialectAdapter, url: ParsedUrl, co: Parameters<DialectAdapter['typeormOptions']>[1]) {
  const { DataSource } = await import('typeorm');
  const ds: DataSource = new DataSource(adapter.typeormOptions(url, co));
  await ds.initialize();
  const qr = ds.createQueryRunner();
  let conn: unknown;
  try {
    conn = await qr.connect();
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    throw e;
  }
  const close = async () => {
    await qr.release().catch(() => undefined);
    await ds.destroy().catch(() => undefined);
  };
  return { raw: adapter.wrap(conn), close, queryRunner: qr };
}
