/**
 * PostgreSQL seen from a second connection (the run guard, guard.ts): what the migration backend
 * waits for and who blocks it (pg_stat_activity, pg_locks, pg_blocking_pids), and cancelling its
 * statement in flight (pg_cancel_backend).
 */
import { tableOf } from './helpers.js';
import type { GuardProbe } from './probe.js';

export const postgresGuard: GuardProbe = {
  blockerNoun: 'backend pid',
  killCommand: (id) => `SELECT pg_terminate_backend(${id})`,
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
