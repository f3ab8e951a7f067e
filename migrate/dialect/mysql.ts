/**
 * MySQL / MariaDB. DDL commits by itself, so a step cannot be atomic: the core records a started
 * step in migrate_log, and the version bump marks it done in the same statement (bumpMarkingDone).
 *
 * Lock: GET_LOCK on the migration's own connection. GET_LOCK names are server-wide (not per
 * database) and at most 64 characters, so the name includes the database and is hashed when long.
 * Its result is checked: 1 = taken, 0 = timeout, NULL = error.
 *
 * On a Galera node (wsrep_on = ON) GET_LOCK is node-local, so the lock is a row the cluster
 * certifies (row-lock.ts), and reads are made causal (wsrep_sync_wait = 1) so that a waiter never
 * acts on a version it has not seen yet. Lock mode 'row' forces the row lock anywhere.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MigrateError } from '../errors.js';
import type { LargeTextRow, Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import { connectTimeoutMs, driverError, tableOf, type BumpArgs, type DialectAdapter, type ErrorKind, type LockOptions, type Queryable, type RawQuery } from './adapter.js';
import { RowLock, clusterCall } from './row-lock.js';
import { writeLargeTextByInfile } from './mysql-infile.js';
import type { GuardProbe, LockBlocker } from '../guard.js';

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

export class MysqlAdapter implements DialectAdapter {
  readonly name = 'mysql' as const;
  readonly transactionalDdl = false;
  readonly sessionLock = true;
  readonly maxVersion = 2147483647;
  readonly connectHint = 'check the URL and that the server is running';
  readonly beginSql = 'START TRANSACTION';
  private galera = false;
  private lockName?: string;
  private rowLock?: RowLock;
  /** The server's max_allowed_packet, read at prepare (the migration connection). */
  private maxPacket?: number;

  quote = (id: string) => `\`${id.replace(/`/g, '``')}\``;

  async connect(u: ParsedUrl) {
    const mysql = (await import('mysql2')).default;
    const conn = mysql.createConnection({ ...options(u), enableKeepAlive: true, multipleStatements: false });
    conn.on('error', () => undefined); // a dropped connection surfaces on the next query
    await new Promise<void>((res, rej) => conn.connect((e: Error | null) => (e ? rej(e) : res())));
    return { raw: this.wrap(conn), close: () => new Promise<void>((res) => conn.end(() => res())) };
  }

  typeormOptions(u: ParsedUrl) {
    const { user, ...m } = options(u);
    return { type: 'mysql' as const, ...m, username: user, extra: { enableKeepAlive: true }, poolSize: 1 };
  }

  wrap(conn: unknown): RawQuery {
    return (sql, params, o) =>
      new Promise((resolve, reject) => {
        (conn as Conn).query({ sql, values: params as unknown[], infileStreamFactory: o?.infile }, (err, res) => {
          if (err) return reject(err);
          if (Array.isArray(res)) resolve({ rows: res as Row[], affected: 0 });
          else resolve({ rows: [], affected: (res as { affectedRows?: number }).affectedRows ?? 0 });
        });
      });
  }

  classify(e: unknown): ErrorKind | undefined {
    const { code, errno, message } = driverError(e);
    if (errno === 1047) return 'not-ready'; // Galera: WSREP has not yet prepared node for application use
    if (code === 'ER_ACCESS_DENIED_ERROR' || /Access denied/i.test(message)) return 'auth';
    if (code === 'ER_BAD_DB_ERROR') return 'no-database';
    if (errno === 1146 || /ER_NO_SUCH_TABLE/.test(message)) return 'missing-table';
    // The connection was already gone when the statement was sent (KILL CONNECTION, a restart
    // between two statements): mysql2 says so by message only.
    if (code === 'PROTOCOL_CONNECTION_LOST' || /Can't add new command when connection is in closed state/.test(message)) return 'lost';
    if (errno === 1205) return 'lock-wait-timeout'; // lock_wait_timeout (metadata) or innodb_lock_wait_timeout (rows)
    if (code === 'ER_CON_COUNT_ERROR' || errno === 1040) return 'unreachable';
    return undefined;
  }

  async listTables(q: Queryable) {
    const rows = await q.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'");
    return rows.map((r) => String(r.name));
  }

  async tableExists(q: Queryable, table: string) {
    return (await q.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])).length > 0;
  }

  logTableDdl(table: string, columns: string) {
    return `CREATE TABLE IF NOT EXISTS ${table} (\n  id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,\n${columns}\n) ENGINE=InnoDB`;
  }

  /** One multi-table UPDATE: both rows change atomically, with one round trip and one commit. */
  bumpMarkingDone(q: Queryable, a: BumpArgs) {
    return q.execute(
      `UPDATE ${this.quote(a.versionTable)} v, ${a.logTable} l SET v.version = ?, l.status = 'done', l.finished_at = ?
        WHERE v.version = ? AND v.repository_id = ? AND l.run_id = ? AND l.repository_id = v.repository_id
          AND l.version_table = ? AND l.version_from = ? AND l.version_to = ? AND l.status = 'running'`,
      [a.to, a.finishedAt, a.from, a.repositoryId, a.runId, a.versionTable, a.from, a.to],
    );
  }

  async nonUtf8Tables(q: Queryable, exclude: readonly string[]) {
    const rows = await q.query(
      `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
         AND TABLE_COLLATION NOT LIKE '%utf8%' AND TABLE_NAME NOT IN (${exclude.map(() => '?').join(', ')}) AND TABLE_NAME NOT LIKE 'migrate\\_%'`,
      [...exclude],
    );
    return rows.map((r) => String(r.name));
  }

  async prepare(q: Queryable) {
    const [packet] = await q.query('SELECT @@max_allowed_packet AS n');
    if (packet?.n != null) this.maxPacket = Number(packet.n);
    const [row] = await q.query("SHOW VARIABLES LIKE 'wsrep_on'");
    this.galera = String(row?.Value ?? row?.value ?? '').toUpperCase() === 'ON';
    if (this.galera) await q.query('SET SESSION wsrep_sync_wait = 1');
  }

  private async getLockName(q: Queryable, key: string): Promise<string> {
    const [row] = await q.query('SELECT DATABASE() AS db');
    const name = `migrate:${String(row?.db ?? '')}:${key}`;
    return name.length <= 64 ? name : `migrate:${createHash('sha1').update(name).digest('hex')}`;
  }

  async tryLock(q: Queryable, key: string, waitMs: number, o: LockOptions) {
    if (this.galera || o.mode === 'row') {
      this.rowLock ??= new RowLock(key, o);
      return this.rowLock.tryTake(q, waitMs);
    }
    const name = await this.getLockName(q, key);
    const [r] = await q.query('SELECT GET_LOCK(?, ?) AS got', [name, Math.ceil(waitMs / 1000)]);
    if (r?.got === null || r?.got === undefined) throw new MigrateError(`GET_LOCK('${name}') failed (returned NULL)`);
    if (Number(r.got) !== 1) return false;
    this.lockName = name;
    return true;
  }

  async unlock(q: Queryable) {
    if (this.rowLock) return this.rowLock.release(q);
    const name = this.lockName;
    this.lockName = undefined;
    if (!name) return false;
    const [r] = await q.query('SELECT RELEASE_LOCK(?) AS released', [name]);
    return Number(r?.released) === 1;
  }

  async lockHolder(q: Queryable, key: string) {
    if (this.galera || this.rowLock) return RowLock.holder(q, key);
    const [h] = await q.query('SELECT p.ID AS id, p.HOST AS host, p.USER AS user FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)', [
      await this.getLockName(q, key),
    ]);
    return h ? { text: `connection ${String(h.id)} from ${String(h.host)}`, fields: { connection: h.id, host: h.host, user: h.user } } : undefined;
  }

  assertLocked() {
    this.rowLock?.assertHeld();
  }
  async beforeStep() {}
  async beforeCommit() {}

  async sessionId(q: Queryable) {
    // Asked before the run lock (the guard watches the lock wait too): a Galera node that is
    // leaving its cluster answers even this causal read with 1205/1047, which is retryable here.
    const [r] = await clusterCall(() => q.query('SELECT CONNECTION_ID() AS id'));
    return Number(r?.id);
  }

  async setLockWaitTimeout(q: Queryable, ms: number) {
    const s = Math.max(1, Math.ceil(ms / 1000));
    await q.query(`SET SESSION lock_wait_timeout = ${s}, SESSION innodb_lock_wait_timeout = ${s}`);
  }

  /**
   * A statement larger than max_allowed_packet: the server answers with error 1153 and closes the
   * connection, and the client sees either, at random. It is not a lost connection.
   */
  explain(e: unknown, _u: ParsedUrl, bytes: number): string | undefined {
    const { code, errno } = driverError(e);
    const tooBig = this.maxPacket !== undefined && bytes > this.maxPacket;
    if (errno !== 1153 && !(tooBig && (this.classify(e) === 'lost' || ['ECONNRESET', 'EPIPE'].includes(code ?? '')))) return undefined;
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    return (
      `the statement (${mb(bytes)}) is larger than the server's max_allowed_packet${this.maxPacket !== undefined ? ` (${mb(this.maxPacket)})` : ''} and the server refused it: ` +
      'raise max_allowed_packet on the server (my.cnf [mysqld] max_allowed_packet = 256M, or SET GLOBAL max_allowed_packet) and run again'
    );
  }

  /** Past max_allowed_packet: LOAD DATA LOCAL INFILE into a temporary table, then UPDATE … JOIN (mysql-infile.ts). */
  writeLargeText(q: Queryable, row: LargeTextRow, value: string | Buffer) {
    return writeLargeTextByInfile(q, row, value, this.quote);
  }

  readonly guard: GuardProbe = {
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
      const cols = `t.trx_mysql_thread_id AS id, p.USER AS user, p.HOST AS host, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS open_s,
          p.COMMAND AS command, LEFT(COALESCE(p.INFO, t.trx_query), 100) AS query`;
      const blockers = (rows: Record<string, unknown>[]): LockBlocker[] =>
        rows.map((r) => ({
          id: Number(r.id),
          user: r.user == null ? undefined : String(r.user),
          host: r.host == null ? undefined : String(r.host),
          openS: r.open_s == null ? undefined : Number(r.open_s),
          query: r.query == null ? undefined : String(r.query).replace(/\s+/g, ' '),
          state: r.command === 'Sleep' ? 'idle in transaction' : undefined,
        }));
      if (/metadata lock/i.test(String(me.state ?? ''))) {
        const rows = await aux.query(
          `SELECT ${cols} FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
            WHERE t.trx_mysql_thread_id <> ? AND p.DB = DATABASE() ORDER BY t.trx_started LIMIT 10`,
          [id],
        );
        return { what: `the metadata lock of table ${tableOf(String(me.info ?? '')) ?? '(see the statement)'}`, waitedS: Number(me.s ?? 0), blockers: blockers(rows) };
      }
      if (me.trx_state === 'LOCK WAIT' && me.trx != null) {
        const rows = await aux.query(
          `SELECT l.lock_table AS lock_table, ${cols}
             FROM information_schema.INNODB_LOCK_WAITS w
             JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id
             JOIN information_schema.INNODB_TRX t ON t.trx_id = w.blocking_trx_id
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
            WHERE w.requesting_trx_id = ?`,
          [me.trx],
        );
        const table = String(rows[0]?.lock_table ?? '').replace(/^`[^`]*`\./, '').replace(/`/g, '') || tableOf(String(me.info ?? ''));
        return { what: `a row lock on ${table ?? 'a table'}`, waitedS: Number(me.s ?? 0), blockers: blockers(rows) };
      }
      return undefined;
    },
    async cancel(aux, id) {
      await aux.query(`KILL QUERY ${Number(id)}`);
    },
  };
}
