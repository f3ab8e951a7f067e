/**
 * Watches the migration connection while it runs steps (issue 9): every wait is bounded and
 * visible, and a stop request (SIGTERM/SIGINT at the process edge, an AbortSignal here) ends the
 * run promptly.
 *
 *  - Lock waits: the server bounds them (the adapter sets MySQL lock_wait_timeout and
 *    innodb_lock_wait_timeout, PostgreSQL lock_timeout on the connection). While a step runs, the
 *    guard looks every few seconds, from a second connection, whether the migration connection
 *    waits for a lock; if so it logs for how long, on what, and who holds it (connection id,
 *    user, host, how long its transaction has been open, what it runs), and keeps the last sight
 *    for the error message when the wait times out.
 *  - Stop: on abort the guard cancels the statement in flight from the second connection (MySQL
 *    KILL QUERY, PostgreSQL pg_cancel_backend) so that nothing of ours stays queued on the server;
 *    the script's next statement is refused (script/engine.ts), the step fails and is rolled back
 *    or left resumable, and the core releases the lock.
 *
 * The second connection is opened only when needed (a step that runs longer than one interval, or
 * a stop), and closed with the guard.
 *
 * The Migrator creates one guard per migration connection (`guardFor`) and turns a stop and a
 * statement's lock-wait timeout into their one-line errors here (`interrupted`, `lockWaitError`).
 */
import { InterruptedError, LockWaitTimeoutError, describe } from './errors.js';
import type { Logger } from './script/contract.js';
import type { AuxConnection, GuardProbe, LockBlocker, LockWait } from './dialect/probe.js';

export interface GuardOptions {
  readonly probe: GuardProbe;
  /** The migration connection's session id (undefined: this backend has none, e.g. SQLite). */
  readonly sessionId?: number;
  readonly openAux: () => Promise<AuxConnection>;
  readonly logger: Logger;
  /** [database] lock_wait_timeout, ms (for the messages; the server enforces it). */
  readonly lockWaitTimeoutMs: number;
  readonly signal?: AbortSignal;
  /** How often to look; default: a third of the timeout, between 1 and 5 s. */
  readonly intervalMs?: number;
  readonly isLockWaitTimeout?: (e: unknown) => boolean;
}

/** `connection 4711 (heat@10.0.3.7, transaction open for 312 s, running: SELECT ...)` */
export function describeBlocker(noun: string, b: LockBlocker): string {
  const who = [b.user && b.host ? `${b.user}@${b.host}` : (b.user ?? b.host), b.openS !== undefined ? `transaction open for ${b.openS} s` : undefined, b.query ? `running: ${b.query}` : b.state ? b.state : 'idle'];
  return `${noun} ${b.id} (${who.filter(Boolean).join(', ')})`;
}

export function describeBlockers(noun: string, w: LockWait): string {
  if (!w.blockers.length) return 'a session that could not be identified';
  return w.blockers.slice(0, 3).map((b) => describeBlocker(noun, b)).join('; ') + (w.blockers.length > 3 ? `; and ${w.blockers.length - 3} more` : '');
}

/** The one-line stop message, logged and returned (the caller throws it). */
export function interrupted(logger: Logger, reason: unknown, where: string): InterruptedError {
  const e = new InterruptedError(`${describe(reason)} ${where}`, reason);
  logger.warn({ reason: describe(reason) }, e.message);
  return e;
}

const NO_PROBE: GuardProbe = { blockerNoun: 'session', lockWait: async () => undefined, cancel: async () => undefined };

/** What a migration connection offers to be watched (MigrationConnection.watch). */
export interface WatchInfo {
  /** Its session id (undefined: other sessions cannot see it, e.g. SQLite). */
  readonly sessionId?: number;
  readonly probe?: GuardProbe;
  readonly openAux: () => Promise<AuxConnection>;
  /** True when `e` is a statement that gave up waiting for another session's table or row lock. */
  readonly isLockWaitTimeout: (e: unknown) => boolean;
}

/** The guard of a migration connection (one that cannot be watched, e.g. SQLite's, still reports a stop). */
export function guardFor(info: WatchInfo | undefined, o: Pick<GuardOptions, 'logger' | 'lockWaitTimeoutMs' | 'signal'>): RunGuard {
  return new RunGuard({
    ...o,
    probe: info?.probe ?? NO_PROBE,
    sessionId: info?.probe ? info.sessionId : undefined,
    openAux: () => (info ? info.openAux() : Promise.reject(new Error('no second connection here'))),
    isLockWaitTimeout: info?.isLockWaitTimeout ?? (() => false),
  });
}

export class RunGuard {
  private aux: Promise<AuxConnection> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private looking = false;
  /** The last lock wait seen (kept for the timeout's error message). */
  lastWait: LockWait | undefined;
  private readonly onAbort = () => void this.cancelInFlight();

  constructor(private readonly o: GuardOptions) {
    o.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** How the probe names a blocker (`connection`, `backend pid`). */
  get noun(): string {
    return this.o.probe.blockerNoun;
  }

  get interval(): number {
    return this.o.intervalMs ?? Math.min(5000, Math.max(1000, Math.round(this.o.lockWaitTimeoutMs / 3)));
  }

  /** Why the run must stop, or undefined. */
  get stopReason(): unknown {
    return this.o.signal?.aborted ? this.o.signal.reason : undefined;
  }

  private auxConnection(): Promise<AuxConnection> {
    this.aux ??= this.o.openAux();
    return this.aux;
  }

  /** Starts looking at lock waits while a step runs; the returned function stops it. */
  watch(label: string): () => void {
    if (this.o.sessionId === undefined) return () => undefined;
    this.lastWait = undefined;
    const timer = setInterval(() => void this.look(label), this.interval);
    timer.unref();
    this.timer = timer;
    return () => {
      clearInterval(timer);
      if (this.timer === timer) this.timer = undefined;
    };
  }

  private async look(label: string): Promise<void> {
    if (this.looking || this.o.sessionId === undefined) return;
    this.looking = true;
    try {
      const w = await this.o.probe.lockWait(await this.auxConnection(), this.o.sessionId);
      if (!w) return;
      // A look that races the statement's own timeout sees the wait but no blocker any more: keep
      // the sighting that named one, for the error message.
      if (w.blockers.length || !this.lastWait?.blockers.length) this.lastWait = w;
      const limit = Math.round(this.o.lockWaitTimeoutMs / 1000);
      this.o.logger.warn(
        { step: label, waitedS: w.waitedS, waiting: w.what, blockers: w.blockers, limitS: limit },
        `${label}: waiting ${w.waitedS} s for ${w.what}, held by ${describeBlockers(this.o.probe.blockerNoun, w)}; giving up after ${limit} s ([database] lock_wait_timeout)`,
      );
    } catch (e) {
      this.o.logger.debug({ err: describe(e) }, 'could not look at lock waits');
    } finally {
      this.looking = false;
    }
  }

  /** True when `e` is a statement that gave up waiting for another session's lock (the adapter's classification). */
  isLockWaitTimeout(e: unknown): boolean {
    return this.o.isLockWaitTimeout?.(e) ?? false;
  }

  /**
   * A step's statement gave up waiting for another session's lock: what it waited for and who holds
   * it (the last sighting), how to end that session, and what became of the step.
   */
  lockWaitError(label: string, transactional: boolean): LockWaitTimeoutError {
    const limit = Math.round(this.o.lockWaitTimeoutMs / 1000);
    const w = this.lastWait;
    const first = w?.blockers[0];
    const kill = first && this.o.probe.killCommand ? ` (${this.o.probe.killCommand(first.id)})` : '';
    return new LockWaitTimeoutError(
      `${label} waited ${limit} s for ${w ? `${w.what}, held by ${describeBlockers(this.noun, w)}` : 'a lock another session holds'}; ` +
        `end that transaction${kill} or stop the services using the database, then run again; ` +
        `${transactional ? 'the step was rolled back' : 'the step is resumable: the next run retries it'} ([database] lock_wait_timeout = ${limit} s)`,
    );
  }

  /** Cancels the statement in flight (if any) from the second connection. */
  private async cancelInFlight(): Promise<void> {
    if (this.o.sessionId === undefined) return;
    try {
      await this.o.probe.cancel(await this.auxConnection(), this.o.sessionId);
    } catch (e) {
      this.o.logger.warn({ err: describe(e) }, 'could not cancel the statement in flight (it ends when the connection closes)');
    }
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.o.signal?.removeEventListener('abort', this.onAbort);
    const aux = this.aux;
    this.aux = undefined;
    if (aux) await aux.then((a) => a.close()).catch(() => undefined);
  }
}
