/**
 * SIGTERM and SIGINT at the process edge (issue 9). Node's default action for them is to re-raise
 * the signal with its default disposition, which the kernel ignores for PID 1 — a container's
 * command without an init sat out its whole grace period. So heat-manage installs handlers:
 *
 *  - the first signal aborts the returned AbortSignal (its `reason` is an {@link Interruption});
 *    the engine cancels the statement in flight from a second connection, rolls the step back or
 *    leaves it resumable, releases the migration lock, and main() exits 128 + the signal number
 *    (143 for SIGTERM, 130 for SIGINT);
 *  - if the run has not ended `graceMs` later (a server that does not answer the cancel), or on a
 *    second signal, the process exits at once with that code: the server drops the lock with the
 *    connection.
 */

export const SIGNAL_NUMBERS = { SIGTERM: 15, SIGINT: 2 } as const;
export type StopSignal = keyof typeof SIGNAL_NUMBERS;

/** Why the run was aborted: which signal, and the exit code that tells it. */
export class Interruption extends Error {
  override name = 'Interruption';
  readonly exitCode: number;
  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal}`);
    this.exitCode = 128 + SIGNAL_NUMBERS[signal];
  }
}

export interface SignalProcess {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
  exit(code: number): never;
  readonly stderr: { write(s: string): unknown };
}

export interface StopOnSignals {
  readonly signal: AbortSignal;
  /** Removes the handlers (after the run). */
  dispose(): void;
}

/** Installs the handlers on `proc` (default: process). */
export function stopOnSignals(proc: SignalProcess = process, graceMs = 10_000): StopOnSignals {
  const ctl = new AbortController();
  const handlers = new Map<StopSignal, () => void>();
  for (const sig of Object.keys(SIGNAL_NUMBERS) as StopSignal[]) {
    const h = () => {
      const why = new Interruption(sig);
      if (ctl.signal.aborted) {
        proc.stderr.write(`ERROR: ${why.message} again; exiting at once (the database drops our lock with the connection)\n`);
        proc.exit(why.exitCode);
      }
      ctl.abort(why);
      const t = setTimeout(() => {
        proc.stderr.write(`ERROR: ${why.message}; the run did not stop within ${Math.round(graceMs / 1000)} s, exiting (the database drops our lock with the connection)\n`);
        proc.exit(why.exitCode);
      }, graceMs);
      t.unref();
    };
    handlers.set(sig, h);
    proc.on(sig, h);
  }
  return {
    signal: ctl.signal,
    dispose() {
      for (const [sig, h] of handlers) proc.off(sig, h);
    },
  };
}
