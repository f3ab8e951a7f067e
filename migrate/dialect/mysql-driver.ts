/**
 * MySQL / MariaDB driver settings (mysql2): the connection options a URL gives (host or socket,
 * charset, connect timeout, TLS files), for the bare driver and for TypeORM, and the driver's
 * results reduced to RawResult, what its errors mean (classifyMysql), and the message for a statement
 * over max_allowed_packet. Used by the adapter (mysql.ts) only.
 */
import { readFileSync } from 'node:fs';
import type { Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import { connectTimeoutMs, driverError } from './helpers.js';
import type { ErrorKind, RawQuery } from './contract.js';

/** MySQLdb/PyMySQL-style ssl parameters: ssl_ca, ssl_cert, ssl_key (files), or ssl=true. */
function ssl(u: ParsedUrl) {
  const q = u.query;
  if (!q.ssl_ca && !q.ssl_cert && !q.ssl_key && !/^(1|true|yes|on)$/i.test(q.ssl ?? '')) return undefined;
  const read = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  return { ca: read(q.ssl_ca), cert: read(q.ssl_cert), key: read(q.ssl_key), rejectUnauthorized: !!q.ssl_ca };
}

function options(u: ParsedUrl) {
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
    ssl: ssl(u),
    // Exact values: DATETIME as text, BIGINT/DECIMAL as strings.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  };
}

type Conn = { query(o: { sql: string; values: unknown[]; infileStreamFactory?: () => unknown }, cb: (err: Error | null, res: unknown) => void): void };

export async function connectMysql(u: ParsedUrl) {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({ ...options(u), enableKeepAlive: true, multipleStatements: false });
  conn.on('error', () => undefined); // a dropped connection surfaces on the next query
  await new Promise<void>((res, rej) => conn.connect((e: Error | null) => (e ? rej(e) : res())));
  return { raw: wrapMysql(conn), close: () => new Promise<void>((res) => conn.end(() => res())) };
}

export function mysqlTypeormOptions(u: ParsedUrl) {
  const { user, ...m } = options(u);
  return { type: 'mysql' as const, ...m, username: user, extra: { enableKeepAlive: true }, poolSize: 1 };
}

export function wrapMysql(conn: unknown): RawQuery {
  return (sql, params, o) =>
    new Promise((resolve, reject) => {
      // infile: LOAD DATA LOCAL INFILE's "file" (writeLargeText, mysql-infile.ts).
      (conn as Conn).query({ sql, values: params as unknown[], infileStreamFactory: o?.infile }, (err, res) => {
        if (err) return reject(err);
        if (Array.isArray(res)) resolve({ rows: res as Row[], affected: 0 });
        else resolve({ rows: [], affected: (res as { affectedRows?: number }).affectedRows ?? 0 });
      });
    });
}

/**
 * A statement larger than max_allowed_packet: the server answers with error 1153 and closes the
 * connection, and the client sees either, at random (`lost`: the adapter classified it so).
 */
export function explainTooBig(e: unknown, bytes: number, maxPacket: number | undefined, lost: boolean): string | undefined {
  const { code, errno } = driverError(e);
  const tooBig = maxPacket !== undefined && bytes > maxPacket;
  if (errno !== 1153 && !(tooBig && (lost || ['ECONNRESET', 'EPIPE'].includes(code ?? '')))) return undefined;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
  return (
    `the statement (${mb(bytes)}) is larger than the server's max_allowed_packet${maxPacket !== undefined ? ` (${mb(maxPacket)})` : ''} and the server refused it: ` +
    'raise max_allowed_packet on the server (my.cnf [mysqld] max_allowed_packet = 256M, or SET GLOBAL max_allowed_packet) and run again'
  );
}

/** What a mysql2 error means to the core (adapter.ts ErrorKind). */
export function classifyMysql(e: unknown): ErrorKind | undefined {
  const { code, errno, message } = driverError(e);
  if (errno === 1047) return 'not-ready'; // Galera: WSREP has not yet prepared node for application use
  if (code === 'ER_ACCESS_DENIED_ERROR' || /Access denied/i.test(message)) return 'auth';
  if (code === 'ER_BAD_DB_ERROR') return 'no-database';
  if (errno === 1146 || /ER_NO_SUCH_TABLE/.test(message)) return 'missing-table';
  // The connection was already gone when the statement was sent (KILL CONNECTION, a restart
  // between two statements): mysql2 says so by message only.
  if (code === 'PROTOCOL_CONNECTION_LOST' || /Can't add new command when connection is in closed state/.test(message)) return 'lost';
  if (errno === 1205) return 'lock-wait-timeout'; // lock_wait_timeout (metadata) or innodb_lock_wait_timeout (rows)
  if (errno === 1317) return 'cancelled'; // ER_QUERY_INTERRUPTED: KILL QUERY
  if (code === 'ER_CON_COUNT_ERROR' || errno === 1040) return 'unreachable';
  return undefined;
}
