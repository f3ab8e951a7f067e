/**
 * heat-manage's log lines, as oslo.log writes Heat's (learned from oslo.log's formatters.py and
 * _options.py; written here):
 *
 *   text (files, pipes, syslog): logging_default_format_string
 *     `%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s`
 *     2026-12-07 20:15:01.123 4242 INFO heat.db.migration [-] 027 -> 028 (028_havana) ... done in 41 ms
 *   JSON (use_json): one object per line in JSONFormatter's shape (message, asctime, name,
 *     levelname, levelno, created, msecs, process, hostname, error_summary, extra, ...): the
 *     record's structured fields are in `extra`.
 *   terminal: `[20:15:01.123] INFO: message`, short, for a person watching a run.
 *
 * Fields a message does not already say are kept: an `err` field ends the text line as
 * oslo's `: %(error_summary)s` does; a DEBUG line carries its fields as JSON (the SQL of
 * `--debug`), where oslo appends its debug suffix. Passwords in fields are masked.
 */
import { strftime } from './strftime.js';

export type LevelName = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly level: LevelName;
  /** The logger's name, a dotted module path like Python's `__name__` (`heat.db.migration`). */
  readonly name: string;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly pid: number;
}

/** Python logging's level names and numbers. */
export const PY_LEVEL: Record<LevelName, { readonly name: string; readonly no: number }> = {
  debug: { name: 'DEBUG', no: 10 },
  info: { name: 'INFO', no: 20 },
  warn: { name: 'WARNING', no: 30 },
  error: { name: 'ERROR', no: 40 },
};

/** oslo.log's default `log_date_format`. */
export const DEFAULT_DATE_FORMAT = '%Y-%m-%d %H:%M:%S';

const SECRET_KEYS = new Set(['password', 'passwd', 'auth_encryption_key']);

/** The fields with passwords masked (two levels deep, as pino's `*.password` did). */
export function maskFields(fields: Readonly<Record<string, unknown>>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEYS.has(k.toLowerCase())) out[k] = '***';
    else if (depth < 1 && v && typeof v === 'object' && !Array.isArray(v)) out[k] = maskFields(v as Record<string, unknown>, depth + 1);
    else out[k] = v;
  }
  return out;
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** What follows the message: `: <err>` (oslo's error_summary) and, on DEBUG, the fields. */
function tail(r: LogRecord): string {
  const { err, ...rest } = maskFields(r.fields);
  let s = err !== undefined ? `: ${typeof err === 'string' ? err : json(err)}` : '';
  if (r.level === 'debug' && Object.keys(rest).length) s += ` ${json(rest)}`;
  return s;
}

const ms3 = (t: number) => String(((t % 1000) + 1000) % 1000).padStart(3, '0');

/** One oslo.log text line (no newline). */
export function osloLine(r: LogRecord, dateFormat = DEFAULT_DATE_FORMAT): string {
  return `${strftime(dateFormat, new Date(r.time))}.${ms3(r.time)} ${r.pid} ${PY_LEVEL[r.level].name} ${r.name} [-] ${r.msg}${tail(r)}`;
}

/** One oslo.log JSONFormatter object (no newline). */
export function osloJson(r: LogRecord, o: { dateFormat?: string; hostname: string | null; startedAt: number }): string {
  const { err, ...extra } = maskFields(r.fields);
  return json({
    message: r.msg,
    asctime: strftime(o.dateFormat ?? DEFAULT_DATE_FORMAT, new Date(r.time)),
    name: r.name,
    msg: r.msg,
    args: [],
    levelname: PY_LEVEL[r.level].name,
    levelno: PY_LEVEL[r.level].no,
    created: r.time / 1000,
    msecs: r.time % 1000,
    relative_created: r.time - o.startedAt,
    process_name: 'MainProcess',
    process: r.pid,
    traceback: null,
    hostname: o.hostname,
    error_summary: err === undefined ? '' : typeof err === 'string' ? err : json(err),
    context: {},
    extra,
  });
}

const COLOR: Record<LevelName, string> = { debug: '\x1b[34m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' };
const TERM_LEVEL: Record<LevelName, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** One line for a terminal: `[20:15:01.123] INFO: message` (the level coloured when asked). */
export function terminalLine(r: LogRecord, color = false): string {
  const d = new Date(r.time);
  const level = color ? `${COLOR[r.level]}${TERM_LEVEL[r.level]}\x1b[39m` : TERM_LEVEL[r.level];
  return `[${strftime('%H:%M:%S', d)}.${ms3(r.time)}] ${level}: ${r.msg}${tail(r)}`;
}

/** syslog facilities by oslo.log's names (`LOG_USER`, also `user`, `local0`). */
const FACILITIES: Record<string, number> = {
  LOG_KERN: 0,
  LOG_USER: 1,
  LOG_MAIL: 2,
  LOG_DAEMON: 3,
  LOG_AUTH: 4,
  LOG_SYSLOG: 5,
  LOG_LPR: 6,
  LOG_NEWS: 7,
  LOG_UUCP: 8,
  LOG_CRON: 9,
  LOG_AUTHPRIV: 10,
  LOG_FTP: 11,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`LOG_LOCAL${i}`, 16 + i])),
};

/** The facility number of an oslo `syslog_log_facility` value, or undefined (with the accepted names). */
export function syslogFacility(name: string): number | undefined {
  const up = name.trim().toUpperCase();
  return FACILITIES[up.startsWith('LOG_') ? up : `LOG_${up}`];
}
export const FACILITY_NAMES = Object.keys(FACILITIES);

/** oslo.log's SYSLOG_MAP: the syslog severity of a level. */
const SEVERITY: Record<LevelName, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/** `<PRI>` of a record for a facility (facility * 8 + severity). */
export function syslogPriority(facility: number, level: LevelName): number {
  return facility * 8 + SEVERITY[level];
}
