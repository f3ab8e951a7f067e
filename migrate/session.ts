/**
 * One dedicated database connection, opened from a SQLAlchemy URL.
 *
 * Two flavours share one query path:
 *  - a *light* session talks to the driver directly (mysql2, pg, better-sqlite3): used by commands
 *    that only read or write the version table, so they never load TypeORM (start-up cost);
 *  - a *TypeORM* session opens a DataSource and one QueryRunner, and runs every statement on the
 *    QueryRunner's own connection, so module scripts get `queryRunner` on the connection that holds
 *    the lock and the step's transaction.
 *
 * Drivers are imported lazily: a SQLite run never loads mysql2 or pg.
 */
import type { DataSource, QueryRunner } from 'typeorm';
import type { DialectName, Logger, Row } from './script/contract.js';
import { ConnectionError, DatabaseError, InvalidUrlError, LockTimeoutError } from './errors.js';
import { maskPassword, parseUrl, redact, type ParsedUrl } from './url.js';
import { appendFileSync, readFileSync } from 'node:fs';
import { inlineParams, toPositional } from './sql.js';

export interface Queryable {
  readonly dialect: DialectName;
  /** `?` placeholders on every dialect. Returns rows (empty for statements without rows). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Returns the number of affected rows. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface Session extends Queryable {
  readonly url: ParsedUrl;
  /** The URL with the password masked, for messages. */
  readonly safeUrl: string;
  /** Present on TypeORM sessions only. */
  readonly queryRunner?: QueryRunner;
  /** Server limits the adapter read at prepare (MySQL: max_allowed_packet), for error messages. */
  readonly limits: { maxPacket?: number };
  close(): Promise<void>;
}

export interface SessionOptions {
  logger?: Logger;
  /** Load TypeORM and expose `queryRunner` (needed to run module scripts). */
  typeorm?: boolean;
  /** SQLite busy timeout (the SQLite write lock), in ms. */
  timeoutMs?: number;
  /** Name shown to other sessions (PostgreSQL application_name). */
  applicationName?: string;
  /** Log every statement at debug level. */
  logSql?: boolean;
  /** Stops waits inside the session (SQLite's write lock) when aborted. */
  signal?: AbortSignal;
}

interface RawResult {
  rows: Row[];
  affected: number;
}
type RawQuery = (sql: string, params: readonly unknown[]) => Promise<RawResult>;

/** Codes of connection failures worth retrying (the server is not up yet). */
const RETRYABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', '57P01', '57P02', '57P03', '53300',
]);
/** The connection died under a running statement (server restart, network). */
const LOST = new Set(['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', '57P01', '57P02', 'ETIMEDOUT']);
/**
 * The connection was already gone when the statement was sent (killed by KILL CONNECTION /
 * pg_terminate_backend, or the server restarted between two statements): the drivers say so by
 * message only.
 */
const LOST_MESSAGE =
  /Connection terminated|server closed the connection|Can't add new command when connection is in closed state|Client has encountered a connection error and is not queryable|terminating connection due to administrator command/i;
/** pg reports a connect timeout and a server that went away by message only. */
const RETRYABLE_MESSAGE = /timeout expired|Connection terminated|server closed the connection|the database system is (starting up|shutting down)/i;

function connectionError(e: unknown, url: ParsedUrl, safeUrl: string): ConnectionError {
  const err = e as { code?: string; errno?: number; message?: string };
  let msg = redact(String(err.message ?? e), url.password);
  const code = err.code ?? '';
  let hint = 'check the URL and that the server is running';
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === '28P01' || code === '28000' || /password authentication failed|Access denied/i.test(msg)) {
    hint = 'check the user name and password';
  } else if (code === 'ER_BAD_DB_ERROR' || code === '3D000') {
    hint = 'create the database first, or fix its name in the URL';
  }
  if (url.dialect === 'sqlite') hint = 'check the path, and that its directory exists and is writable';
  if (msg.includes('\n')) msg = msg.split('\n')[0]!;
  const retryable = RETRYABLE.has(code) || err.errno === 1047 || err.errno === 1040 || RETRYABLE_MESSAGE.test(msg);
  return new ConnectionError(`cannot connect to ${safeUrl}: ${msg} (${hint})`, retryable, {
    cause: e,
  });
}

/** Connecting must not wait as long as the lock may: a black-holed host fails in 10 s (URL connect_timeout). */
function connectTimeoutMs(u: ParsedUrl): number {
  const s = Number(u.query.connect_timeout);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 10000;
}

/** libpq's sslmode (SQLAlchemy passes it through): require = encrypted; verify-* = checked too. */
function pgSsl(u: ParsedUrl): boolean | { rejectUnauthorized: boolean; ca?: string } | undefined {
  const mode = u.query.sslmode;
  if (!mode || mode === 'disable' || mode === 'allow' || mode === 'prefer') return undefined;
  const ca = u.query.sslrootcert ? readFileSync(u.query.sslrootcert, 'utf8') : undefined;
  if (mode === 'require') return { rejectUnauthorized: false, ca };
  if (mode === 'verify-ca' || mode === 'verify-full') return { rejectUnauthorized: true, ca };
  throw new InvalidUrlError(`unknown sslmode '${mode}': use disable, require, verify-ca or verify-full`);
}

/** MySQLdb/PyMySQL-style ssl parameters: ssl_ca, ssl_cert, ssl_key (files), or ssl=true. */
function mysqlSsl(u: ParsedUrl): { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } | undefined {
  const q = u.query;
  if (!q.ssl_ca && !q.ssl_cert && !q.ssl_key && !/^(1|true|yes|on)$/i.test(q.ssl ?? '')) return undefined;
  const read = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  return { ca: read(q.ssl_ca), cert: read(q.ssl_cert), key: read(q.ssl_key), rejectUnauthorized: !!q.ssl_ca };
}

async function mysqlOptions(u: ParsedUrl, o: SessionOptions) {
  const charset = u.query.charset;
  return {
    host: u.query.unix_socket ? undefined : (u.host ?? 'localhost'),
    socketPath: u.query.unix_socket,
    port: u.port ?? 3306,
    user: u.username ?? 'root',
    password: u.password ?? '',
    database: u.database,
    // utf8 in SQLAlchemy/MySQLdb terms is the 3-byte charset.
    charset: charset ? (charset.toLowerCase() === 'utf8' ? 'UTF8_GENERAL_CI' : charset.toUpperCase()) : undefined,
    connectTimeout: connectTimeoutMs(u),
    enableKeepAlive: true,
    ssl: mysqlSsl(u),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  };
}

function pgOptions(u: ParsedUrl, o: SessionOptions) {
  return {
    host: u.query.host ?? u.host ?? 'localhost',
    port: u.port ?? 5432,
    user: u.username ?? process.env.USER ?? 'postgres',
    password: u.password,
    database: u.database ?? u.username ?? 'postgres',
    application_name: u.query.application_name ?? o.applicationName,
    connectionTimeoutMillis: connectTimeoutMs(u),
    keepAlive: true,
    ssl: pgSsl(u),
  };
}

function sqliteFile(u: ParsedUrl): string {
  return u.database ?? ':memory:';
}

function sqliteWait(u: ParsedUrl, o: SessionOptions) {
  return { timeoutMs: o.timeoutMs ?? 120000, file: sqliteFile(u), logger: o.logger, signal: o.signal };
}

function wrapMysql(conn: {
  query(o: { sql: string; values: unknown[] }, cb: (err: Error | null, res: unknown) => void): void;
}): RawQuery {
  return (sql, params) =>
    new Promise((resolve, reject) => {
      conn.query({ sql, values: params as unknown[] }, (err, res) => {
        if (err) return reject(err);
        if (Array.isArray(res)) resolve({ rows: res as Row[], affected: 0 });
        else resolve({ rows: [], affected: (res as { affectedRows?: number }).affectedRows ?? 0 });
      });
    });
}

function wrapPg(client: { query(sql: string, params: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }> }): RawQuery {
  return async (sql, params) => {
    const res = await client.query(params.length ? toPositional(sql) : sql, params as unknown[]);
    return { rows: res.rows ?? [], affected: res.rowCount ?? 0 };
  };
}

/**
 * SQLite waits for another process's write lock inside the driver, synchronously: a long busy
 * timeout would block the event loop (no log line, no signal handled). So the driver waits at
 * most SQLITE_BUSY_SLICE_MS per attempt and we retry until the timeout, logging every few seconds
 * and stopping when the run is asked to (a statement that got SQLITE_BUSY did nothing).
 */
const SQLITE_BUSY_SLICE_MS = 100;

function wrapSqlite(db: import('better-sqlite3').Database, w: { timeoutMs: number; file: string; logger?: Logger; signal?: AbortSignal }): RawQuery {
  db.pragma(`busy_timeout = ${SQLITE_BUSY_SLICE_MS}`);
  const once = (sql: string, params: readonly unknown[]): RawResult => {
    const stmt = db.prepare(sql);
    const args = (params as unknown[]).map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
    if (stmt.reader) return { rows: stmt.all(...args) as Row[], affected: 0 };
    return { rows: [], affected: stmt.run(...args).changes };
  };
  return async (sql, params) => {
    const t0 = Date.now();
    const every = Math.min(5000, Math.max(1000, Math.round(w.timeoutMs / 3)));
    let nextLog = t0 + every;
    for (;;) {
      try {
        return once(sql, params);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() - t0 >= w.timeoutMs || w.signal?.aborted) throw e;
      }
      if (Date.now() >= nextLog) {
        nextLog += every;
        w.logger?.warn(
          { file: w.file, waitedS: Math.round((Date.now() - t0) / 1000) },
          `waiting ${Math.round((Date.now() - t0) / 1000)} s for the SQLite write lock on ${w.file} (another process is writing to it); giving up after ${Math.round(w.timeoutMs / 1000)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}

/** Opens a session. Errors are ConnectionError (retryable when the server is not reachable). */
export async function openSession(urlText: string, opts: SessionOptions = {}): Promise<Session> {
  const url = parseUrl(urlText);
  const safeUrl = maskPassword(urlText);
  let raw: RawQuery;
  let close: () => Promise<void>;
  let queryRunner: QueryRunner | undefined;
  try {
    if (opts.typeorm) {
      ({ raw, close, queryRunner } = await openTypeorm(url, opts));
    } else if (url.dialect === 'mysql') {
      const mysql = (await import('mysql2')).default;
      const conn = mysql.createConnection(await mysqlOptions(url, opts));
      conn.on('error', () => undefined); // a dropped connection surfaces on the next query
      await new Promise<void>((res, rej) => conn.connect((e: Error | null) => (e ? rej(e) : res())));
      raw = wrapMysql(conn as never);
      close = () => new Promise<void>((res) => conn.end(() => res()));
    } else if (url.dialect === 'postgresql') {
      const pg = (await import('pg')).default;
      const client = new pg.Client(pgOptions(url, opts));
      client.on('error', () => undefined); // a dropped connection surfaces on the next query
      await client.connect();
      raw = wrapPg(client as never);
      close = () => client.end().catch(() => undefined);
    } else {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(sqliteFile(url), { timeout: SQLITE_BUSY_SLICE_MS });
      raw = wrapSqlite(db, sqliteWait(url, opts));
      close = async () => {
        db.close();
      };
    }
  } catch (e) {
    if (e instanceof InvalidUrlError) throw e;
    throw connectionError(e, url, safeUrl);
  }
  const logger = opts.logSql ? opts.logger : undefined;
  const limits: { maxPacket?: number } = {};
  // Benchmark aid: MIGRATE_SQL_CAPTURE=<file> appends every statement, parameters inlined, so
  // that the database's own client can replay exactly what a run sent (bench/).
  const capture = process.env.MIGRATE_SQL_CAPTURE;
  const run = async (sql: string, params: readonly unknown[] = []): Promise<RawResult> => {
    logger?.debug({ sql, params: params.length ? params.map(() => '?') : undefined }, 'SQL');
    if (capture) appendFileSync(capture, `${inlineParams(sql, params, url.dialect)};\n`);
    try {
      return await raw(sql, params);
    } catch (e) {
      throw wrapDbError(e, sql, url, { bytes: payloadBytes(sql, params), maxPacket: limits.maxPacket });
    }
  };
  return {
    dialect: url.dialect,
    url,
    safeUrl,
    queryRunner,
    limits,
    query: async (sql, params) => (await run(sql, params)).rows,
    execute: async (sql, params) => (await run(sql, params)).affected,
    close,
  };
}

/** Roughly how many bytes a statement and its parameters take on the wire. */
function payloadBytes(sql: string, params: readonly unknown[]): number {
  let n = Buffer.byteLength(sql);
  for (const p of params) n += typeof p === 'string' ? Buffer.byteLength(p) : Buffer.isBuffer(p) ? p.length : 8;
  return n;
}

const MB = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** A database error with the statement (first 200 chars) and without any password. */
export function wrapDbError(
  e: unknown,
  sql: string,
  url: ParsedUrl,
  size: { bytes?: number; maxPacket?: number } = {},
): DatabaseError | ConnectionError | LockTimeoutError {
  const err = e as { message?: string; code?: string; errno?: number };
  const stmt0 = (sql.length > 200 ? `${sql.slice(0, 200)}...` : sql).replace(/\s+/g, ' ').trim();
  // MySQL: a statement larger than max_allowed_packet makes the server answer with error 1153 and
  // close the connection; the client sees either, at random. It is not a lost connection.
  const tooBig = size.bytes !== undefined && size.maxPacket !== undefined && size.bytes > size.maxPacket;
  if (url.dialect === 'mysql' && (err.errno === 1153 || (tooBig && (LOST.has(err.code ?? '') || LOST_MESSAGE.test(String(err.message)))))) {
    const de = new DatabaseError(
      `the statement${size.bytes !== undefined ? ` (${MB(size.bytes)})` : ''} is larger than the server's max_allowed_packet${size.maxPacket !== undefined ? ` (${MB(size.maxPacket)})` : ''} and the server refused it: ` +
        `raise max_allowed_packet on the server (my.cnf [mysqld] max_allowed_packet = 256M, or SET GLOBAL max_allowed_packet) and run again [SQL: ${stmt0}]`,
      sql,
      { cause: e },
    );
    (de as { code?: string }).code = err.code ?? 'ER_NET_PACKET_TOO_LARGE';
    return de;
  }
  if (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED') {
    return new LockTimeoutError(
      `timed out waiting for the SQLite write lock on ${url.database} (another process is writing: retry later or raise the lock timeout); this step was not applied`,
      { cause: e },
    );
  }
  if (err.errno === 1047) {
    // Galera node not ready (WSREP has not yet prepared node for application use): like a
    // refused connection, worth retrying while waiting for the database.
    return new ConnectionError(`database node not ready: ${redact(String(err.message), url.password)}`, true, { cause: e });
  }
  const msg = redact(String(err.message ?? e).split('\n')[0]!, url.password);
  const stmt = sql.length > 200 ? `${sql.slice(0, 200)}...` : sql;
  if (LOST.has(err.code ?? '') || LOST_MESSAGE.test(msg)) {
    // Not retried here: the run stops; the next run resumes (MySQL) or finds the step rolled back.
    const de = new DatabaseError(
      `lost the connection to the database during a run (${msg}): the server went away or restarted; run again once it is back (an interrupted step is rolled back or resumed) [SQL: ${stmt.replace(/\s+/g, ' ').trim()}]`,
      sql,
      { cause: e },
    );
    (de as { code?: string }).code = err.code;
    return de;
  }
  const where = url.dialect === 'sqlite' ? `SQLite database ${url.database}: ` : '';
  if (err.code === 'SQLITE_NOTADB') {
    return new DatabaseError(
      `${where}file is not a database: the file exists but is not SQLite (or is encrypted or damaged); check that [database] connection names the right file`,
      sql,
      { cause: e },
    );
  }
  const de = new DatabaseError(`${where}${msg} [SQL: ${stmt.replace(/\s+/g, ' ').trim()}]`, sql, { cause: e });
  (de as { code?: string }).code = err.code;
  return de;
}

async function openTypeorm(url: ParsedUrl, opts: SessionOptions) {
  const { DataSource } = await import('typeorm');
  let options: ConstructorParameters<typeof DataSource>[0];
  if (url.dialect === 'mysql') {
    const m = await mysqlOptions(url, opts);
    options = {
      type: 'mysql',
      host: m.host,
      socketPath: m.socketPath,
      port: m.port,
      username: m.user,
      password: m.password,
      database: m.database,
      charset: m.charset,
      connectTimeout: m.connectTimeout,
      ssl: m.ssl,
      extra: { enableKeepAlive: true },
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      poolSize: 1,
    };
  } else if (url.dialect === 'postgresql') {
    const p = pgOptions(url, opts);
    options = {
      type: 'postgres',
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
  } else {
    options = { type: 'better-sqlite3', database: sqliteFile(url), timeout: opts.timeoutMs ?? 120000 };
  }
  const ds: DataSource = new DataSource(options);
  await ds.initialize();
  const qr = ds.createQueryRunner();
  let conn: unknown;
  try {
    conn = await qr.connect();
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    throw e;
  }
  const raw: RawQuery =
    url.dialect === 'mysql' ? wrapMysql(conn as never) : url.dialect === 'postgresql' ? wrapPg(conn as never) : wrapSqlite(conn as never, sqliteWait(url, opts));
  const close = async () => {
    await qr.release().catch(() => undefined);
    await ds.destroy().catch(() => undefined);
  };
  return { raw, close, queryRunner: qr };
}
