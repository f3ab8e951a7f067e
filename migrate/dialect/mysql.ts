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
 *
 * Driver options, result wrapping and error classification: mysql-driver.ts; the blocker probe and cancel: mysql-blockers.ts.
 */
import { createHash } from 'node:crypto';
import { MigrateError } from '../errors.js';
import { sqlLiteral } from '../sql.js';
import type { LargeTextRow } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import type { BumpArgs, DialectAdapter, LockOptions, Queryable } from './contract.js';
import { mysqlGuard } from './mysql-blockers.js';
import { classifyMysql, connectMysql, explainTooBig, mysqlTypeormOptions, wrapMysql } from './mysql-driver.js';
import { writeLargeTextByInfile } from './mysql-infile.js';
import { RowLock, clusterCall } from './row-lock.js';
import type { GuardProbe } from './probe.js';

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
  literal = (v: unknown) => sqlLiteral(v, { backslashEscapes: true });

  connect = connectMysql;
  typeormOptions = mysqlTypeormOptions;
  wrap = wrapMysql;

  classify = classifyMysql;

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

  /** A statement larger than max_allowed_packet is not a lost connection (mysql-driver.ts). */
  explain(e: unknown, _u: ParsedUrl, bytes: number): string | undefined {
    return explainTooBig(e, bytes, this.maxPacket, this.classify(e) === 'lost');
  }

  /** Past max_allowed_packet: LOAD DATA LOCAL INFILE into a temporary table, then UPDATE … JOIN (mysql-infile.ts). */
  writeLargeText(q: Queryable, row: LargeTextRow, value: string | Buffer) {
    return writeLargeTextByInfile(q, row, value, this.quote);
  }

  readonly guard: GuardProbe = mysqlGuard;
}
