/**
 * The process-edge logger: pino on stderr, loaded only when something is actually logged at an
 * enabled level (a quiet `db_version` never loads it). Human-readable lines on a terminal
 * (pino-pretty, synchronous, one line per record: fields inline, never a dump under it), JSON
 * otherwise or when asked.
 */
import { createRequire } from 'node:module';
import type { Logger } from './script/contract.js';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type Level = keyof typeof LEVELS;

export interface LoggerOptions {
  /**
   * 'plain': sqlalchemy-migrate's console output (SPEC §1.3): the bare message, warnings and
   * errors on stderr, debug/info on stdout. Default: pino.
   */
  readonly format?: 'pino' | 'plain';
  readonly out?: (s: string) => void;
  readonly err?: (s: string) => void;
  readonly level: Level;
  /** Force JSON lines (default: JSON unless stderr is a terminal). */
  readonly json?: boolean;
  /** Where to write (default: stderr). A path appends to that file. */
  readonly file?: string | null;
  readonly name?: string;
}

const require = createRequire(import.meta.url);

export function createLogger(o: LoggerOptions): Logger {
  const min = LEVELS[o.level];
  let real: Logger | undefined;
  const plain = (): Logger => {
    // Warnings are the bare message (SPEC 1.3); debug lines carry their fields (e.g. the SQL).
    const line = (write: (s: string) => void, withFields: boolean) => (a: unknown, b?: unknown) =>
      write(
        typeof a === 'string'
          ? `${a}\n`
          : `${typeof b === 'string' ? b : ''}${withFields || typeof b !== 'string' ? ` ${JSON.stringify(a)}` : ''}\n`,
      );
    const out = line(o.out ?? ((s) => process.stdout.write(s)), true);
    const err = line(o.err ?? ((s) => process.stderr.write(s)), false);
    return { debug: out, info: out, warn: err, error: err } as Logger;
  };
  const build = (): Logger => {
    if (o.format === 'plain') return plain();
    const pino = require('pino') as typeof import('pino').default;
    const opts = {
      name: o.name,
      level: o.level,
      base: undefined,
      redact: { paths: ['password', '*.password', 'url.password'], censor: '***' },
    };
    const pretty = !o.file && !o.json && process.stderr.isTTY;
    if (pretty) {
      const prettyFactory = require('pino-pretty') as (o: object) => NodeJS.WritableStream;
      return pino(opts, prettyFactory({ destination: 2, sync: true, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l', singleLine: true })) as unknown as Logger;
    }
    const dest = pino.destination({ dest: o.file ?? 2, sync: true, append: true, mkdir: false });
    return pino(opts, dest) as unknown as Logger;
  };
  if (o.file) real = build(); // open a log file now: a bad path is a clear start-up error
  const at =
    (lvl: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      if (LEVELS[lvl] < min) return;
      real ??= build();
      (real[lvl] as (...a: unknown[]) => void)(...args);
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as Logger;
  return logger;
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
