/**
 * A lock the database cluster itself certifies, for MariaDB Galera, where GET_LOCK is node-local
 * (two replicas behind a load balancer would both get it).
 *
 * The lock is a row of `migrate_lock` (InnoDB, primary key = lock key):
 *  - take: INSERT the row (autocommit). Two nodes racing: certification lets exactly one commit; the
 *    other gets 1062 (duplicate) or 1213 (certification failure).
 *  - a lease: `expires_at` (server time) is renewed every `lease/4` by a heartbeat on a second
 *    connection, so a long step does not lose it; a holder that died stops renewing and, once the
 *    lease has expired, a waiter takes the row over with
 *    `UPDATE ... WHERE lock_key = ? AND expires_at < now` (one winner; the loser sees 0 rows).
 *  - release: DELETE the row where we are the holder.
 * A heartbeat that finds the row is no longer ours marks the lock lost; the runner checks that
 * before each step and stops.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConnectionError, LockTimeoutError, MigrateError, describe } from '../errors.js';
import type { Queryable } from '../session.js';
import type { LockRequest } from './adapter.js';

export const LOCK_TABLE = 'migrate_lock';

const DDL = `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (
  lock_key VARCHAR(190) NOT NULL PRIMARY KEY,
  holder VARCHAR(64) NOT NULL,
  host VARCHAR(255),
  pid INTEGER,
  acquired_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB`;

function errno(e: unknown): number | undefined {
  const c = (e as { cause?: { errno?: number } }).cause ?? (e as { errno?: number });
  return c?.errno;
}

export interface HeldRowLock {
  readonly key: string;
  readonly holder: string;
  lost: boolean;
  /** Last successful lease renewal (epoch ms). */
  renewedAt: number;
  timer?: NodeJS.Timeout;
  aux?: Queryable & { close(): Promise<void> };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Before the lock is held nothing has been applied, so a node that cannot reach its cluster —
 * 1047 (not ready), 1205 (a write or causal read that timed out while the node is dropping out),
 * 1213 (a certification abort of the DDL) — is worth waiting for, like a refused connection.
 */
async function clusterCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const n = errno(e);
    if (n === 1047 || n === 1205) {
      throw new ConnectionError(
        `database node not ready (error ${n}: the node may be joining or leaving its cluster): ${describe(e)}`,
        true,
        { cause: e },
      );
    }
    throw e;
  }
}

export async function takeRowLock(q: Queryable, req: LockRequest, leaseS: number): Promise<HeldRowLock> {
  await clusterCall(() => q.query(DDL));
  return clusterCall(() => acquire(q, req, leaseS));
}

async function acquire(q: Queryable, req: LockRequest, leaseS: number): Promise<HeldRowLock> {
  const holder = randomUUID();
  const host = hostname();
  const deadline = Date.now() + req.timeoutMs;
  let announced = false;
  for (;;) {
    try {
      await q.execute(
        `INSERT INTO ${LOCK_TABLE} (lock_key, holder, host, pid, acquired_at, expires_at)
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? SECOND)`,
        [req.key, holder, host, process.pid, leaseS],
      );
      return { key: req.key, holder, lost: false, renewedAt: Date.now() };
    } catch (e) {
      const n = errno(e);
      if (n !== 1062 && n !== 1213) throw e;
    }
    // Taken: take it over if the holder's lease expired.
    try {
      const n = await q.execute(
        `UPDATE ${LOCK_TABLE} SET holder = ?, host = ?, pid = ?, acquired_at = UTC_TIMESTAMP(6),
                expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND
          WHERE lock_key = ? AND expires_at < UTC_TIMESTAMP(6)`,
        [holder, host, process.pid, leaseS, req.key],
      );
      if (n === 1) {
        req.logger.warn({ lock: req.key }, `took over the migration lock ${req.key}: its holder's lease had expired (the holder died or lost its connection)`);
        return { key: req.key, holder, lost: false, renewedAt: Date.now() };
      }
    } catch (e) {
      if (errno(e) !== 1213) throw e;
    }
    if (!announced) {
      const [row] = await q.query(`SELECT host, pid, expires_at FROM ${LOCK_TABLE} WHERE lock_key = ?`, [req.key]);
      req.logger.info(
        { lock: req.key, holder: row ? { host: row.host, pid: row.pid, leaseUntil: row.expires_at } : 'unknown' },
        `waiting up to ${Math.round(req.timeoutMs / 1000)} s for the migration lock held by ${row ? `${String(row.host)} pid ${String(row.pid)}` : 'another process'} (cluster row lock)`,
      );
      announced = true;
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `timed out after ${Math.round(req.timeoutMs / 1000)} s waiting for the migration lock ${req.key} (another migration is running; retry later or raise the lock timeout); nothing was applied`,
      );
    }
    await sleep(100 + Math.floor(Math.random() * 150));
  }
}

/** Renews the lease every leaseS/4 seconds on its own connection. */
export function startHeartbeat(lock: HeldRowLock, aux: Queryable & { close(): Promise<void> }, leaseS: number): void {
  lock.aux = aux;
  lock.timer = setInterval(() => {
    aux
      .execute(`UPDATE ${LOCK_TABLE} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE lock_key = ? AND holder = ?`, [
        leaseS,
        lock.key,
        lock.holder,
      ])
      .then((n) => {
        if (n !== 1) lock.lost = true;
        else lock.renewedAt = Date.now();
      })
      .catch(() => {
        // A transient failure is survivable while the lease lasts; after that, another process may
        // have taken the lock over: consider it lost.
        if (Date.now() - lock.renewedAt >= leaseS * 1000) lock.lost = true;
      });
  }, Math.max(250, (leaseS * 1000) / 4));
  lock.timer.unref();
}

export async function releaseRowLock(q: Queryable, lock: HeldRowLock): Promise<void> {
  if (lock.timer) clearInterval(lock.timer);
  try {
    await q.execute(`DELETE FROM ${LOCK_TABLE} WHERE lock_key = ? AND holder = ?`, [lock.key, lock.holder]);
  } finally {
    await lock.aux?.close().catch(() => undefined);
  }
}

export function assertHeld(lock: HeldRowLock): void {
  if (lock.lost) {
    throw new MigrateError(`lost the migration lock ${lock.key} (its lease expired and another process took it over); stopping before the next step`);
  }
}
