/**
 * What a person watching `heat-manage db_sync` sees.
 *
 * On a terminal: one line per step (`028 -> 029 (029_event_id_to_uuid) ... done in 12 ms`, no
 * field dump under it), a live bar for a step that reports progress (`migrate_engine.progress`)
 * and has run for more than a second — done/total, rate and ETA, redrawn at most 10 times a
 * second on one line; a step that reports nothing (one statement over a whole table) shows its
 * elapsed time instead, once a second — and a one-line summary at the end
 * (`migrated 34 -> 71: 37 steps, 21 s`).
 *
 * Off a terminal (containers, CI, log files): oslo.log lines (heat/log), the structured fields
 * kept for `use_json`, plus a `progress` line at most every 5 s per step.
 *
 * A small renderer of our own rather than a package: cli-progress (the usual choice) has not had
 * a release since 3.12.0, and this is some 40 lines that load nothing at start-up.
 */
import type { MigrateResult, StepEvent } from '../../migrate/plan.js';
import type { Logger } from '../../migrate/script/contract.js';

export interface Terminal {
  write(s: string): void;
  readonly columns?: number;
}

export interface ReporterOptions {
  readonly logger: Logger;
  /** Set when stderr is a terminal: draw the bar there and keep log lines short. */
  readonly terminal?: Terminal;
  readonly now?: () => number;
  /** Calls `fn` every `ms` until the returned function is called (default: an unref'd setInterval). */
  readonly every?: (ms: number, fn: () => void) => () => void;
}

const everyMs = (ms: number, fn: () => void): (() => void) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

const pad = (n: number) => String(n).padStart(3, '0');
const name = (script: string) => script.replace(/^versions\//, '').replace(/\.[^.]+$/, '');
const num = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');

function duration(s: number): string {
  if (s < 10) return `${Math.max(0, s).toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One bar line: `  037 [#######.......] 12 345/50 000  4 120/s  ETA 9 s`, fitted to the width. */
export function barLine(label: string, done: number, total: number | undefined, elapsedS: number, columns = 80): string {
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  const count = total ? `${num(done)}/${num(total)}` : num(done);
  const eta = total && rate > 0 ? `  ETA ${duration((total - done) / rate)}` : '';
  const tail = ` ${count}  ${num(rate)}/s${eta}`;
  if (!total) return `  ${label}${tail}`.slice(0, columns - 1);
  const width = Math.max(10, Math.min(40, columns - 1 - label.length - tail.length - 5));
  const filled = Math.min(width, Math.floor((done / total) * width));
  return `  ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`.slice(0, columns - 1);
}

export function stepReporter(o: ReporterOptions) {
  const now = o.now ?? (() => performance.now());
  const { logger, terminal } = o;
  let started = 0;
  let drawnAt = -Infinity;
  let barShown = false;
  let lastEvent = 0;
  let stopTicking: (() => void) | undefined;
  let current = '';
  let progressed = false;
  const clear = () => {
    stopTicking?.();
    stopTicking = undefined;
    if (barShown) terminal!.write('\r\x1b[K');
    barShown = false;
  };
  // A step that reports no progress (one set-based statement over a whole table) still shows that
  // it is alive on a terminal: its elapsed time, once a second, until a bar or its end replaces it.
  const tick = () => {
    const t = now();
    if (progressed || t - started < 1000) return;
    terminal!.write(`\r\x1b[K  ${current}  running ${duration((t - started) / 1000)}`.slice(0, (terminal!.columns ?? 80) - 1));
    barShown = true;
  };
  return {
    onStep(e: StepEvent): void {
      if (e.type === 'start') {
        clear();
        started = now();
        drawnAt = -Infinity;
        lastEvent = started;
        current = `${pad(e.from)} -> ${pad(e.to)} (${name(e.script)})`;
        progressed = false;
        if (terminal) stopTicking = (o.every ?? everyMs)(1000, tick);
      } else if (e.type === 'progress') {
        progressed = true;
        const t = now();
        const elapsedS = (t - started) / 1000;
        if (terminal) {
          if (elapsedS < 1 || t - drawnAt < 100) return;
          drawnAt = t;
          terminal.write(`\r\x1b[K${barLine(`${pad(e.from)} -> ${pad(e.to)}`, e.done, e.total, elapsedS, terminal.columns)}`);
          barShown = true;
        } else if (t - lastEvent >= 5000) {
          lastEvent = t;
          const rate = elapsedS > 0 ? Math.round(e.done / elapsedS) : 0;
          logger.info({ event: 'progress', from: e.from, to: e.to, script: e.script, done: e.done, total: e.total, rate }, `${pad(e.from)} -> ${pad(e.to)}: ${e.done}${e.total ? ` of ${e.total}` : ''}`);
        }
      } else if (e.type === 'done') {
        clear();
        const msg = `${pad(e.from)} -> ${pad(e.to)} (${name(e.script)}) ... done in ${e.ms} ms`;
        if (terminal) logger.info(msg);
        else logger.info({ from: e.from, to: e.to, script: e.script, ms: e.ms }, msg);
      } else if (e.type === 'resume') {
        clear();
        logger.warn(
          { from: e.from, to: e.to, script: e.script, startedAt: e.startedAt, host: e.host, pid: e.pid, error: e.error },
          `step ${pad(e.from)} -> ${pad(e.to)} (${e.script}) was interrupted: started ${e.startedAt} on ${e.host} (pid ${e.pid}), ${e.error ? `failed: ${e.error}` : 'did not finish'}; retrying it`,
        );
      }
    },
    /** The last line of a db_sync. */
    summary(r: MigrateResult & { revisions?: { to: string; stamped: boolean; applied: readonly string[] }; already?: string }, ms: number): void {
      clear();
      if (r.already !== undefined) return; // db_sync said why there was nothing to do
      const rv = r.revisions;
      if (rv) {
        const what = [...(r.steps.length ? [`${r.steps.length} steps to ${r.to}`] : []), ...(rv.stamped ? ['stamped'] : []), `${rv.applied.length} revisions`].join(', ');
        logger.info({ from: r.from, revision: rv.to, steps: r.steps.length, revisions: rv.applied.length, ms: Math.round(ms) }, `database at revision ${rv.to}: ${what}, ${Math.round(ms)} ms`);
        return;
      }
      const fields = { from: r.from, to: r.to, steps: r.steps.length, ms: Math.round(ms) };
      if (terminal) {
        logger.info(r.steps.length ? `migrated ${r.from} -> ${r.to}: ${r.steps.length} steps, ${duration(ms / 1000)}` : `database is at version ${r.to}; nothing to do`);
      } else {
        logger.info(fields, r.steps.length ? `database migrated from ${r.from} to ${r.to} in ${Math.round(ms)} ms` : `database is at version ${r.to}; nothing to do`);
      }
    },
  };
}
