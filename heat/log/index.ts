/**
 * heat-manage's logger: oslo.log's behaviour for Heat's logging options, with a small formatter of
 * our own (./format.ts) instead of pino (see docs/ARCHITECTURE.md for the measured reason).
 *
 *   const log = createHeatLogger(cfg.log, { stderr, terminal: process.stderr.isTTY });
 *   log.named('heat.db.migration').info({ from: 27, to: 28 }, '027 -> 028 ... done');
 *   await log.close();                                   // flushes the syslog pipe
 *
 * Where lines go (oslo.log's handlers): `log_file` (with `log_dir`) -> that file only, appended;
 * otherwise stderr; `use_syslog` -> also the local syslog socket. Format: oslo text lines, JSON
 * lines with `use_json`, short lines when stderr is a terminal and nothing else was asked.
 * Writes are synchronous (a line is on disk or in the pipe when the call returns), so a crash or
 * a signal loses nothing already logged.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { Logger } from '../../migrate/script/contract.js';
import { osloJson, osloLine, terminalLine, type LevelName, type LogRecord } from './format.js';
import { openSyslog, type SyslogSink } from './syslog.js';

export interface LogSettings {
  readonly level: 'debug' | 'info';
  /** Absolute path of the log file (appended), or null: stderr. */
  readonly file: string | null;
  readonly json: boolean;
  /** Python strftime format of the date part (`log_date_format`). */
  readonly dateFormat: string;
  /** Also send to syslog: the socket (normally /dev/log) and the facility number. */
  readonly syslog: { readonly socket: string; readonly facility: number } | null;
}

export interface LogIo {
  /** Writes to stderr. */
  readonly stderr: (s: string) => void;
  /** stderr is a terminal: short lines (unless a file or JSON was asked). */
  readonly terminal?: boolean;
  readonly now?: () => number;
  readonly pid?: number;
  /** The program name syslog lines are tagged with (default heat-manage). */
  readonly ident?: string;
}

export interface HeatLogger extends Logger {
  /** The same destinations under another logger name (a module path, `heat.db.purge`). */
  named(name: string): Logger;
  /** Finishes the syslog pipe (bounded wait). Further records are dropped. */
  close(): Promise<void>;
}

const ORDER: Record<LevelName, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Opens the destinations now: an unwritable log file throws here (a clear start-up error). */
export function createHeatLogger(s: LogSettings, io: LogIo, name = 'heat.cmd.manage'): HeatLogger {
  const now = io.now ?? Date.now;
  const pid = io.pid ?? process.pid;
  const startedAt = now();
  const min = ORDER[s.level];
  const fd = s.file ? openSync(s.file, 'a', 0o640) : undefined;
  const write = fd !== undefined ? (line: string) => writeSync(fd, line) : io.stderr;
  const onTerminal = fd === undefined && !s.json && !!io.terminal;
  let host: string | null | undefined;
  const render = (r: LogRecord): string => {
    if (s.json) return osloJson(r, { dateFormat: s.dateFormat, hostname: (host ??= hostnameOrNull()), startedAt });
    return onTerminal ? terminalLine(r, true) : osloLine(r, s.dateFormat);
  };
  let closed = false;
  let syslog: SyslogSink | undefined;
  if (s.syslog) {
    syslog = openSyslog({ ...s.syslog, ident: io.ident ?? 'heat-manage', warn: (m) => emit('heat.cmd.manage', 'warn', [m]) });
  }

  function emit(logger: string, level: LevelName, args: readonly unknown[]): void {
    if (closed || ORDER[level] < min) return;
    const [a, b] = args;
    const msg = typeof a === 'string' ? a : typeof b === 'string' ? b : '';
    const fields = a !== null && typeof a === 'object' ? (a as Record<string, unknown>) : {};
    const r: LogRecord = { time: now(), level, name: logger, msg, fields, pid };
    write(`${render(r)}\n`);
    // syslog gets the text format (oslo formats every handler alike; JSON when use_json)
    syslog?.send(level, s.json ? render(r) : osloLine(r, s.dateFormat));
  }

  const make = (logger: string): Logger => {
    const at = (level: LevelName) => (...args: unknown[]) => emit(logger, level, args);
    const l: Logger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (bindings) => make(typeof bindings.name === 'string' ? bindings.name : logger),
    } as Logger;
    return l;
  };

  return {
    ...make(name),
    named: make,
    async close() {
      if (closed) return;
      closed = true;
      if (fd !== undefined) closeSync(fd);
      await syslog?.close();
    },
  } as HeatLogger;
}

function hostnameOrNull(): string | null {
  try {
    return osHostname();
  } catch {
    return null;
  }
}
