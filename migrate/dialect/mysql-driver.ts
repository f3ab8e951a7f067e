/**
 * MySQL / MariaDB driver settings (mysql2): the connection options a URL gives (host or socket,
 * charset, connect timeout, TLS, bind address; after its MySQL option file, mysql-option-file.ts,
 * read here at the connection's edge), the same for the bare driver and for TypeORM, and the driver's
 * results reduced to RawResult, what its errors mean (classifyMysql), and the message for a statement
 * over max_allowed_packet. Used by the adapter (mysql.ts) only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import { connectTimeoutMs, driverError } from './helpers.js';
import type { ErrorKind, RawQuery } from './contract.js';
import { applyOptionFile, type OptionFileIo } from './mysql-option-file.js';

const TRUE = /^(1|true|yes|on)$/i;
/** A boolean URL parameter: a bare `&name` (openstack-helm's `&ssl_verify_cert`) is on. */
const flag = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === '' || TRUE.test(v));

/** The option file's I/O: the real file system (the connection's edge). */
const nodeIo: OptionFileIo = {
  readFile: (p) => readFileSync(p, 'utf8'),
  listDir: (p) => readdirSync(p),
  get homeDir() {
    return homedir();
  },
};

/** The PEM certificates of a CA directory (ssl-capath / ssl_capath: OpenSSL's hashed links or plain files). */
function caDir(dir: string): string[] {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .filter((t) => t.includes('-----BEGIN CERTIFICATE-----'));
}

/**
 * TLS from the URL (after its option file): PyMySQL/MySQLdb's ssl_ca, ssl_capath, ssl_cert,
 * ssl_key (files), ssl_key_password, ssl_cipher; ssl=true; ssl_verify_cert (PyMySQL, openstack-helm)
 * and ssl_verify_identity. Any of them turns TLS on; TLS that cannot be set up fails the connection
 * (mysql2 never falls back to plain text). The server certificate is checked when a CA is given or
 * ssl_verify_cert says so (ssl_verify_cert=false turns the check off); its name when
 * ssl_verify_identity (or the option file's ssl-verify-server-cert) says so.
 */
function ssl(u: ParsedUrl) {
  const q = u.query;
  const verifyCert = flag(q.ssl_verify_cert);
  const verifyIdentity = flag(q.ssl_verify_identity);
  const files = q.ssl_ca || q.ssl_capath || q.ssl_cert || q.ssl_key;
  if (!files && !TRUE.test(q.ssl ?? '') && !verifyCert && !verifyIdentity) return undefined;
  const read = (f?: string) => (f ? readFileSync(f, 'utf8') : undefined);
  const cas = [...(q.ssl_ca ? [read(q.ssl_ca)!] : []), ...(q.ssl_capath ? caDir(q.ssl_capath) : [])];
  const rejectUnauthorized = verifyCert ?? cas.length > 0;
  return {
    ca: cas.length ? cas : undefined,
    cert: read(q.ssl_cert),
    key: read(q.ssl_key),
    passphrase: q.ssl_key_password || undefined,
    ciphers: q.ssl_cipher || undefined,
    rejectUnauthorized,
    verifyIdentity: rejectUnauthorized && !!verifyIdentity,
  };
}

/** bind-address (PyMySQL's bind_address): the local address the TCP connection leaves from. */
function boundStream(host: string, port: number, localAddress: string) {
  return () => {
    const s = netConnect({ host, port, localAddress });
    s.setNoDelay(true);
    s.setKeepAlive(true);
    return s;
  };
}

function options(url: ParsedUrl) {
  const u = applyOptionFile(url, nodeIo);
  const charset = u.query.charset;
  const host = u.query.unix_socket ? undefined : (u.host ?? 'localhost');
  const port = u.port ?? 3306;
  return {
    host,
    socketPath: u.query.unix_socket,
    port,
    user: u.username ?? 'root',
    password: u.password ?? '',
    database: u.database,
    // utf8 in SQLAlchemy/MySQLdb terms is the 3-byte charset.
    charset: charset ? (charset.toLowerCase() === 'utf8' ? 'UTF8_GENERAL_CI' : charset.toUpperCase()) : undefined,
    connectTimeout: connectTimeoutMs(u),
    ssl: ssl(u),
    ...(host && u.query.bind_address ? { stream: boundStream(host, port, u.query.bind_address) } : {}),
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
  const { user, stream, ...m } = options(u);
  // TypeORM passes `extra` to mysql2 as it is (the bound socket of bind-address goes there).
  return { type: 'mysql' as const, ...m, username: user, extra: { enableKeepAlive: true, ...(stream ? { stream } : {}) }, poolSize: 1 };
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
