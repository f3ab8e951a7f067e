/**
 * MySQL / MariaDB. DDL commits by itself, so a step cannot be atomic: the core records a started
 * step in migrate_log and the scripts must converge when re-run.
 *
 * The lock is GET_LOCK on the migration's own connection. GET_LOCK names are server-wide (not per
 * database) and at most 64 characters, so the name includes the database and is hashed when long.
 * Its result is checked: 1 = taken, 0 = timeout, NULL = error.
 */
import { createHash } from 'node:crypto';
import { LockTimeoutError, MigrateError } from '../errors.js';
import type { Queryable } from '../session.js';
import type { DialectAdapter, LockRequest } from './adapter.js';

async function lockName(q: Queryable, key: string): Promise<string> {
  const [row] = await q.query('SELECT DATABASE() AS db');
  const name = `migrate:${String(row?.db ?? '')}:${key}`;
  return name.length <= 64 ? name : `migrate:${createHash('sha1').update(name).digest('hex')}`;
}

const names = new WeakMap<Queryable, string>();

export const mysqlAdapter: DialectAdapter = {
  name: 'mysql',
  transactionalDdl: false,
  sessionLock: true,
  beginSql: 'START TRANSACTION',
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  async listTables(q) {
    const rows = await q.query(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    );
    return rows.map((r) => String(r.name));
  },
  isMissingTable: (e) => /ER_NO_SUCH_TABLE|1146/.test(String((e as { cause?: { code?: string } })?.cause?.code ?? (e as Error)?.message)),
  async lock(q, req: LockRequest) {
    const name = await lockName(q, req.key);
    names.set(q, name);
    const [first] = await q.query('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (Number(first?.got) === 1) return;
    if (first?.got === null || first?.got === undefined) throw new MigrateError(`GET_LOCK('${name}') failed (returned NULL)`);
    const [holder] = await q.query(
      'SELECT p.ID AS id, p.HOST AS host, p.USER AS user FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)',
      [name],
    );
    req.logger.info(
      { lock: name, holder: holder ? { connection: holder.id, host: holder.host, user: holder.user } : 'unknown' },
      `waiting up to ${Math.round(req.timeoutMs / 1000)} s for the migration lock held by ${holder ? `connection ${holder.id} from ${holder.host}` : 'another session'}`,
    );
    const [got] = await q.query('SELECT GET_LOCK(?, ?) AS got', [name, Math.max(1, Math.ceil(req.timeoutMs / 1000))]);
    if (Number(got?.got) === 1) return;
    if (got?.got === null || got?.got === undefined) throw new MigrateError(`GET_LOCK('${name}') failed (returned NULL)`);
    throw new LockTimeoutError(
      `timed out after ${Math.round(req.timeoutMs / 1000)} s waiting for the migration lock '${name}' (another migration is running; retry later or raise the lock timeout); nothing was applied`,
    );
  },
  async unlock(q) {
    const name = names.get(q);
    if (name) await q.query('SELECT RELEASE_LOCK(?) AS released', [name]);
  },
  async prepare() {},
  async beforeCommit() {},
};
