/**
 * heat-manage's configuration: heat.conf (oslo.config's ini dialect) + environment + command
 * line -> one frozen, typed {@link HeatConfig}. The only module that reads config files or env.
 *
 * Layers, lowest first (see layers.ts):
 *   1. built-in defaults (oslo.db's max_retries 10, retry_interval 10; ours: lock timeout 120,
 *      lock wait timeout 30)
 *   2. config files: the `--config-file`s in order (default: the first `heat.conf` found in
 *      ~/.heat, ~, /etc/heat, /etc, then the first `heat-engine.conf`, as Heat), then the `*.conf` of
 *      `--config-dir` (default: `heat.conf.d`/`heat-manage.conf.d` in the same places), sorted
 *      (see files.ts)
 *   3. environment, oslo.config style: `OS_<GROUP>__<OPTION>` (`OS_DATABASE__CONNECTION`)
 *   4. command-line options ({@link ConfigSources.cliOverrides})
 *
 * With no `[database] connection` anywhere, the embedded default is a SQLite file `heat.sqlite`
 * in the working directory (writable without root), and a warning says so.
 *
 * Secrets: no message or warning contains a password. `describeDatabase` masks the URL, and the
 * `database` object masks it too when passed to JSON.stringify or util.inspect (e.g. a logger).
 */
import { join, resolve } from 'node:path';
import { hooksFromEnv } from '../../migrate/cli/env.js';
import type { EngineHooks } from '../../migrate/hooks.js';
import { maskPassword } from '../../migrate/url.js';
import { ConfigError } from './errors.js';
import { defaultNames, fixPath, findDefaults, listConfigDir, searchDirs, PROG, type SearchRoots } from './files.js';
import { label, layerOptions, sourceLabel, where, type CliOverrides, type Origin, type RawValue } from './layers.js';
import type { LogSettings } from '../log/index.js';
import { FACILITY_NAMES, syslogFacility } from '../log/format.js';
import { OPTIONS, parseBoolean, parseInteger, type OptDef } from './options.js';

export { ConfigError } from './errors.js';
export type { CliOverrides } from './layers.js';

export interface LogConfig extends LogSettings {
  /**
   * The logging options set that heat-manage accepts with no effect (log_config_append,
   * watch_log_file, use_journal, use_eventlog), each with where it was set; [] when none.
   */
  readonly inert: readonly string[];
}

/** Where use_syslog sends by default (HEAT_MANAGE_SYSLOG_SOCKET overrides it, for tests). */
export const SYSLOG_SOCKET = '/dev/log';

export interface HeatConfig {
  readonly database: {
    /** The URL to use (embedded default filled in). Secret: log it only through describeDatabase. */
    readonly connection: string;
    /** Where it came from: 'default' | 'env OS_DATABASE__CONNECTION' | '<file>:[database] connection' | '--database-connection'. */
    readonly connectionSource: string;
    /** Connection attempts at start-up; -1 = forever. */
    readonly maxRetries: number;
    /** Seconds between attempts. */
    readonly retryInterval: number;
    /** Seconds to wait for the migration lock ([database] migration_lock_timeout). */
    readonly lockTimeout: number;
    /** Seconds one statement waits for another session's table/row lock ([database] lock_wait_timeout). */
    readonly lockWaitTimeout: number;
  };
  /** `[DEFAULT] auth_encryption_key` (Heat's default when unset). Secret: never print it. */
  readonly authEncryptionKey: string;
  readonly debug: boolean;
  readonly verbose: boolean;
  /** oslo.log's file: log_dir joined with log_file (or `heat-manage.log`), absolute; null: none. */
  readonly logFile: string | null;
  /** oslo.log's logging options, as the logger (heat/log) takes them. */
  readonly log: LogConfig;
  /** Files actually read, in order (absolute). */
  readonly configFiles: readonly string[];
  /** One-line warnings for the CLI to log: readable secrets, deprecated names, embedded default. */
  readonly warnings: readonly string[];
  /** The engine's hooks from the environment (MIGRATE_TEST_ABORT, MIGRATE_SQL_CAPTURE, MIGRATE_MYSQL_LOCK, ...). */
  readonly engineHooks: EngineHooks;
  /** HEAT_MANAGE_NOW as given (tests): the management commands' "now" instead of the clock; checked where it is used. */
  readonly fixedNow?: string;
}

export interface ConfigSources {
  /** --config-file, in the order given; undefined = the default search. */
  configFiles?: string[];
  /** --config-dir; undefined or null = the default `heat.conf.d` search. */
  configDir?: string | null;
  /** Leave a flag undefined when it was not given (an explicit false overrides the files). */
  cliOverrides?: CliOverrides;
  /** process.env (read nowhere else). */
  env: Record<string, string | undefined>;
  homeDir: string;
  cwd: string;
  /** Where `/etc` is, for tests; default '/etc'. */
  etcDir?: string;
}

/** File name of the embedded SQLite database, created in the working directory. */
export const EMBEDDED_DB_FILE = 'heat.sqlite';

export function loadHeatConfig(src: ConfigSources): HeatConfig {
  const warnings: string[] = [];
  const roots: SearchRoots = { homeDir: src.homeDir, etcDir: src.etcDir ?? '/etc', snapCommon: src.env.SNAP_COMMON, snap: src.env.SNAP };
  const fix = (p: string): string => fixPath(p, src.homeDir, src.cwd);

  const dirGiven = src.configDir !== undefined && src.configDir !== null;
  const paths = [
    ...(src.configFiles !== undefined ? src.configFiles.map(fix) : findDefaults(roots, '.conf')),
    ...(dirGiven ? [fix(src.configDir!)] : findDefaults(roots, '.conf.d')).flatMap((d) => listConfigDir(d, dirGiven)),
  ];

  const read = layerOptions({ paths, env: src.env, cli: src.cliOverrides ?? {}, warnings });

  const integer = (opt: OptDef): number => {
    const r = read(opt)!;
    const n = parseInteger(r.text);
    if (n === undefined) {
      throw new ConfigError(`${where(r.origin)}: ${label(opt, r.origin)} must be an integer, not '${r.text}'; fix the value`);
    }
    if (opt.min && n < opt.min.value) throw new ConfigError(`${where(r.origin)}: ${label(opt, r.origin)} is ${n}; ${opt.min.hint}`);
    return n;
  };
  const boolean = (opt: OptDef): boolean => {
    const r = read(opt)!;
    const b = parseBoolean(r.text);
    if (b === undefined) {
      throw new ConfigError(
        `${where(r.origin)}: ${label(opt, r.origin)} must be true or false (or yes/no, on/off, 1/0), not '${r.text}'; fix the value`,
      );
    }
    return b;
  };

  const logFileText = read(OPTIONS.logFile)?.text ?? '';
  const logDirText = read(OPTIONS.logDir)?.text ?? '';
  // oslo.log: log_dir + log_file (an absolute log_file wins), log_dir alone: <log_dir>/<prog>.log
  const logFile = logFileText
    ? resolve(src.cwd, logDirText, logFileText)
    : logDirText
      ? resolve(src.cwd, logDirText, `${PROG}.log`)
      : null;

  const maxRetries = integer(OPTIONS.maxRetries);
  const retryInterval = integer(OPTIONS.retryInterval);
  const lockTimeout = integer(OPTIONS.lockTimeout);
  const lockWaitTimeout = integer(OPTIONS.lockWaitTimeout);
  const debug = boolean(OPTIONS.debug);
  const verbose = boolean(OPTIONS.verbose);
  const log = logConfig(read, boolean, { debug, file: logFile, env: src.env });

  // The connection last: a bad value of another option is the more precise error.
  const embedded = join(src.cwd, EMBEDDED_DB_FILE);
  let connection: string;
  let connectionSource: string;
  const conn = read(OPTIONS.connection);
  if (conn === undefined) {
    // The embedded default only when nothing at all was configured: a config mount that came up
    // empty must not "succeed" by migrating a throwaway file (issue 9).
    const given = configuredButNoConnection(src, dirGiven, paths);
    if (given) throw new ConfigError(given);
    connection = 'sqlite:///' + embedded.replace(/%/g, '%25').replace(/\?/g, '%3F');
    connectionSource = 'default';
    const dirs = searchDirs(roots).join(', ');
    warnings.push(
      `no config file found (looked for ${defaultNames('.conf').join(' and ')} in ${dirs}); using the embedded SQLite ` +
        `database at ${embedded}`,
    );
  } else {
    if (conn.text.trim() === '') throw new ConfigError(emptyConnection(conn.origin));
    connection = conn.text;
    connectionSource = sourceLabel(conn.origin);
  }

  const database = { connection, connectionSource, maxRetries, retryInterval, lockTimeout, lockWaitTimeout };
  const masked = (): object => ({ ...database, connection: maskUrl(database.connection) });
  Object.defineProperty(database, 'toJSON', { value: masked });
  Object.defineProperty(database, Symbol.for('nodejs.util.inspect.custom'), { value: masked });

  const authEncryptionKey = read(OPTIONS.authEncryptionKey)!.text;
  const config = {
    database,
    authEncryptionKey,
    debug,
    verbose,
    logFile,
    log,
    configFiles: paths,
    warnings,
    engineHooks: hooksFromEnv(src.env),
    fixedNow: src.env.HEAT_MANAGE_NOW,
  };
  // The key is a secret: keep it out of JSON.stringify / util.inspect of the whole config.
  Object.defineProperty(config, 'authEncryptionKey', { value: authEncryptionKey, enumerable: false });
  return deepFreeze(config);
}

/** oslo.log's options -> the logger's settings (+ the accepted options that do nothing here). */
function logConfig(
  read: (opt: OptDef) => RawValue | undefined,
  boolean: (opt: OptDef) => boolean,
  o: { debug: boolean; file: string | null; env: Record<string, string | undefined> },
): LogConfig {
  let syslog: LogSettings['syslog'] = null;
  if (boolean(OPTIONS.useSyslog)) {
    const r = read(OPTIONS.syslogLogFacility)!;
    const facility = syslogFacility(r.text);
    if (facility === undefined) {
      throw new ConfigError(
        `${where(r.origin)}: ${label(OPTIONS.syslogLogFacility, r.origin)} is '${r.text}'; syslog facility must be one of: ${FACILITY_NAMES.join(', ')}`,
      );
    }
    syslog = { socket: o.env.HEAT_MANAGE_SYSLOG_SOCKET || SYSLOG_SOCKET, facility };
  }
  const inert: string[] = [];
  const appended = read(OPTIONS.logConfigAppend);
  if (appended && appended.text.trim() !== '') inert.push(`${label(OPTIONS.logConfigAppend, appended.origin)} (${where(appended.origin)})`);
  for (const opt of [OPTIONS.watchLogFile, OPTIONS.useJournal, OPTIONS.useEventlog]) {
    if (boolean(opt)) inert.push(`${label(opt, read(opt)!.origin)} (${where(read(opt)!.origin)})`);
  }
  return {
    level: o.debug ? 'debug' : 'info',
    file: o.file,
    json: boolean(OPTIONS.useJson),
    dateFormat: read(OPTIONS.logDateFormat)!.text,
    syslog,
    inert,
  };
}

const HOW_TO_SET =
  'set [database] connection (e.g. mysql+pymysql://heat:PASSWORD@db.example/heat) in heat.conf, or OS_DATABASE__CONNECTION';

/**
 * Why a configuration that names something but yields no connection is an error, or undefined
 * when nothing was configured at all (no file given or found, no `OS_<GROUP>__<OPTION>` variable).
 * `OS_AUTH_URL`-style client variables (no `__`) are not oslo.config's and do not count.
 */
function configuredButNoConnection(src: ConfigSources, dirGiven: boolean, paths: readonly string[]): string | undefined {
  const fix = (p: string): string => fixPath(p, src.homeDir, src.cwd);
  const named: string[] = [];
  const givenFiles = (src.configFiles ?? []).map(fix);
  if (givenFiles.length) named.push(`--config-file ${givenFiles.join(', ')}`);
  const dir = dirGiven ? fix(src.configDir!) : undefined;
  const inDir = (p: string): boolean => dir !== undefined && p.startsWith(`${dir}/`);
  if (dir !== undefined) {
    named.push(`--config-dir ${dir}${paths.some(inDir) ? '' : ' (it has no *.conf file: did the config mount come up empty?)'}`);
  }
  const envVars = Object.keys(src.env).filter((k) => /^OS_[A-Z0-9_]+__[A-Z0-9_]+$/.test(k) && src.env[k] !== undefined);
  if (envVars.length) named.push(`environment ${envVars.sort().join(', ')}`);
  const found = paths.filter((p) => !givenFiles.includes(p) && !inDir(p));
  if (found.length) named.push(`${found.join(', ')} (found by the default search)`);
  if (!named.length) return undefined;
  return `no [database] connection in what was given: ${named.join('; ')}; ${HOW_TO_SET} (the embedded SQLite default applies only when nothing at all is configured)`;
}

/** "mysql://heat:***@db/heat (from /etc/heat/heat.conf:[database] connection)", for logs. */
export function describeDatabase(cfg: HeatConfig): string {
  return `${maskUrl(cfg.database.connection)} (from ${cfg.database.connectionSource})`;
}

/**
 * `maskPassword` of migrate/url.ts, made safe for passwords it does not mask (it cuts the query at
 * the first '?', so a '?' in a password hides the '@'): if the password is still there, everything
 * between `user:` and the last '@' is masked.
 */
export function maskUrl(url: string): string {
  const masked = maskPassword(url);
  const m = /^([A-Za-z][\w+]*:\/\/)(.*)$/s.exec(url);
  if (!m) return masked;
  const at = m[2]!.lastIndexOf('@');
  const colon = m[2]!.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return masked;
  const password = m[2]!.slice(colon + 1, at);
  if (password === '' || !masked.includes(password)) return masked;
  return `${m[1]}${m[2]!.slice(0, colon)}:***${m[2]!.slice(at)}`;
}

function emptyConnection(o: Origin): string {
  const fix = 'set it to a database URL (e.g. mysql+pymysql://heat:PASSWORD@db.example/heat)';
  switch (o.kind) {
    case 'file':
      return `[${o.group}] ${o.key} is empty in ${o.file} (line ${o.line}); ${fix}`;
    case 'env':
      return `environment variable ${o.name} is empty; set it to a database URL (e.g. mysql+pymysql://heat:PASSWORD@db.example/heat)`;
    default:
      return `${where(o)} is empty; give a database URL or leave the option out to use heat.conf`;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
