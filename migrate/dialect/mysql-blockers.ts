/**
 * MySQL / MariaDB seen from a second connection (the run guard, guard.ts): what the migration
 * connection waits for and who holds it (processlist, InnoDB transactions and lock waits), and
 * cancelling its statement in flight (KILL QUERY).
 */
import { tableOf } from './helpers.js';
import type { GuardProbe, LockBlocker } from './probe.js';

export const mysqlGuard: GuardProbe = {
  blockerNoun: 'connection',
  killCommand: (id) => `KILL ${id}`,
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
