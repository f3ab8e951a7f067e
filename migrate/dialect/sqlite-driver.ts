/**
 * SQLite driver settings (better-sqlite3): the busy timeout a URL gives, opening the file, and the
 * driver's results reduced to RawResult with the wait for another process's write lock done here
 * (logged, bounded, ended by a stop) instead of inside the driver. Used by the adapter (sqlite.ts) only.
 */
import type { Database } from 'better-sqlite3';
import { DEFAULT_LOCK_TIMEOUT_S } from '../defaults.js';
import type { Logger, Row } from '../script/contract.js';
import type { ParsedUrl } from '../url.js';
import type { ConnectOptions, RawQuery } from './contract.js';

/** The longest the driver itself may block waiting for the write lock (see wrapSqlite). */
export const BUSY_SLICE_MS = 100;

/** How a connection waits for another writer. */
export interface BusyWait {
  readonly timeoutMs: number;
  readonly file: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/** The busy timeout: the URL's `timeout` (seconds, as pysqlite's) wins over the lock timeout. */
export function busyWait(u: ParsedUrl, o: ConnectOptions): BusyWait {
  const s = Number(u.query.timeout);
  const timeoutMs = u.query.timeout !== undefined && Number.isFinite(s) && s >= 0 ? s * 1000 : (o.busyTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000);
  return { timeoutMs, file: u.database ?? ':memory:', logger: o.logger, signal: o.signal };
}

export async function openSqlite(file: string, readOnly = false): Promise<Database> {
  const Sqlite = (await import('better-sqlite3')).default;
  if (readOnly && file !== ':memory:') return new Sqlite(file, { timeout: BUSY_SLICE_MS, readonly: true, fileMustExist: true });
  return new Sqlite(file, { timeout: BUSY_SLICE_MS });
}

/**
 * SQLite waits for another process's write lock inside the driver, synchronously: a long busy
 * timeout would block the event loop (no log line, no signal handled). So the driver waits at
 * most BUSY_SLICE_MS per attempt and this retries until the timeout, logging every few seconds
 * and giving up when the run is stopped (a statement that got SQLITE_BUSY did nothing).
 * `wait` is read at each statement: the adapter sets it when it connects or builds TypeORM options.
 */
export function wrapSqlite(db: unknown, wait: () => BusyWait, isBusy: (e: unknown) => boolean): RawQuery {
  (db as Database).pragma(`busy_timeout = ${BUSY_SLICE_MS}`);
  const once = (sql: string, params: readonly unknown[]) => {
    const stmt = (db as Database).prepare(sql);
    const args = (params as unknown[]).map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
    if (stmt.reader) return { rows: stmt.all(...args) as Row[], affected: 0 };
    return { rows: [], affected: stmt.run(...args).changes };
  };
  return async (sql, params) => {
    const w = wait();
    const t0 = Date.now();
    const every = Math.min(5000, Math.max(1000, Math.round(w.timeoutMs / 3)));
    let nextLog = t0 + every;
    for (;;) {
      try {
        return once(sql, params);
      } catch (e) {
        if (!isBusy(e) || Date.now() - t0 >= w.timeoutMs || w.signal?.aborted) throw e;
      }
      if (Date.now() >= nextLog) {
        nextLog += every;
        const s = Math.round((Date.now() - t0) / 1000);
        w.logger?.warn(
          { file: w.file, waitedS: s },
          `waiting ${s} s for the SQLite write lock on ${w.file} (another process is writing to it); giving up after ${Math.round(w.timeoutMs / 1000)} s`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}
