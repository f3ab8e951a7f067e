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
 * A heartbeat that finds the row is no longer ours marks the lock lost; the core checks that
 * (assertLocked) before each step and stops.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ConnectionError, MigrateError, describe } from '../errors.js';
import { driverError } from './helpers.js';
import type { LockHolder, LockOptions, Queryable } from './contract.js';

export const LOCK_TABLE = 'migrate_lock';

const DDL = `CREATE TABLE IF NOT EXISTS ${LOCK_TABLE} (
  lock_key VARCHAR(190) NOT NULL PRIMARY KEY,
  holder VARCHAR(64) NOT NULL,
  host VARCHAR(255),
  pid INTEGER,
  acquired_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Before the lock is held nothing has been applied, so a node that cannot reach its cluster —
 * 1047 (not ready), 1205 (a write or causal read that timed out while the node is dropping out),
 * 1213 (a certification abort of the DDL) — is worth waiting for, like a refused connection.
 */
export async function clusterCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const n = driverError(e).errno;
    if (n === 1047 || n === 1205) {
      throw new ConnectionError(`database node not ready (error ${n}: the node may be joining or leaving its cluster): ${describe(e)}`, true, { cause: e });
    }
    throw e;
  }
}

export class RowLock {
  private readonly holderId = randomUUID();
  private readonly host = hostname();
  private lost = false;
  private held = false;
  /** Last successful lease renewal (epoch ms). */
  private renewedAt = 0;
  private timer?: NodeJS.Timeout;
  private aux?: Queryable & { close(): Promise<void> };

  constructor(
    readonly key: string,
    private readonly o: Pick<LockOptions, 'leaseS' | 'logger' | 'openAux'>,
  ) {
    if (!Number.isFinite(o.leaseS) || o.leaseS < 1) throw new MigrateError(`the lock lease must be a number of seconds >= 1, got '${o.leaseS}'`);
  }

  static async holder(q: Queryable, key: string): Promise<LockHolder | undefined> {
    const [row] = await q.query(`SELECT host, pid, expires_at FROM ${LOCK_TABLE} WHERE lock_key = ?`, [key]).catch(() => []);
    if (!row) return undefined;
    return { text: `${String(row.host)} pid ${String(row.pid)} (cluster row lock)`, fields: { host: row.host, pid: row.pid, leaseUntil: row.expires_at } };
  }

  /** Takes the row (or a row whose lease expired), polling until `waitMs` has passed. */
  async tryTake(q: Queryable, waitMs: number): Promise<boolean> {
    await clusterCall(() => q.query(DDL));
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (await clusterCall(() => this.attempt(q))) {
        this.held = true;
        this.renewedAt = Date.now();
        try {
          this.startHeartbeat(await this.o.openAux());
        } catch (e) {
          await this.release(q).catch(() => undefined);
          throw e;
        }
        return true;
      }
      if (Date.now() >= deadline) return false;
      await sleep(100 + Math.floor(Math.random() * 150));
    }
  }

  private async attempt(q: Queryable): Promise<boolean> {
    const { leaseS } = this.o;
    try {
      await q.execute(
        `INSERT INTO ${LOCK_TABLE} (lock_key, holder, host, pid, acquired_at, expires_at)
         VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? SECOND)`,
        [this.key, this.holderId, this.host, process.pid, leaseS],
      );
      return true;
    } catch (e) {
      const n = driverError(e).errno;
      if (n !== 1062 && n !== 1213) throw e;
    }
    // Taken: take it over if the holder's lease expired.
    try {
      const n = await q.execute(
        `UPDATE ${LOCK_TABLE} SET holder = ?, host = ?, pid = ?, acquired_at = UTC_TIMESTAMP(6),
                expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND
          WHERE lock_key = ? AND expires_at < UTC_TIMESTAMP(6)`,
        [this.holderId, this.host, process.pid, leaseS, this.key],
      );
      if (n === 1) {
        this.o.logger.warn({ lock: this.key }, `took over the migration lock ${this.key}: its holder's lease had expired (the holder died or lost its connection)`);
        return true;
      }
    } catch (e) {
      if (driverError(e).errno !== 1213) throw e;
    }
    return false;
  }

  /** Renews the lease every leaseS/4 seconds on its own connection. */
  private startHeartbeat(aux: Queryable & { close(): Promise<void> }): void {
    const { leaseS } = this.o;
    this.aux = aux;
    this.timer = setInterval(() => {
      aux
        .execute(`UPDATE ${LOCK_TABLE} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE lock_key = ? AND holder = ?`, [leaseS, this.key, this.holderId])
        .then((n) => {
          if (n !== 1) this.lost = true;
          else this.renewedAt = Date.now();
        })
        .catch(() => {
          // A transient failure is survivable while the lease lasts; after that, another process may
          // have taken the lock over: consider it lost.
          if (Date.now() - this.renewedAt >= leaseS * 1000) this.lost = true;
        });
    }, Math.max(250, (leaseS * 1000) / 4));
    this.timer.unref();
  }

  /** Deletes the row if it is still ours; true when it was. */
  async release(q: Queryable): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const wasHeld = this.held;
    this.held = false;
    try {
      return wasHeld && (await q.execute(`DELETE FROM ${LOCK_TABLE} WHERE lock_key = ? AND holder = ?`, [this.key, this.holderId])) === 1;
    } finally {
      await this.aux?.close().catch(() => undefined);
      this.aux = undefined;
    }
  }

  assertHeld(): void {
    if (this.lost) {
      throw new MigrateError(`lost the migration lock ${this.key} (its lease expired and another process took it over); stopping before the next step`);
    }
  }
}
