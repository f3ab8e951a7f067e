/**
 * The heat.conf options heat-manage reads, as oslo.db / oslo.log / Heat register them: group,
 * name, type, default and the deprecated names still honoured. Everything else in heat.conf is
 * ignored (but can be referenced with `$name`, see `substitute.ts`).
 */

import { DEFAULT_LOCK_TIMEOUT_S, DEFAULT_LOCK_WAIT_TIMEOUT_S } from '../../migrate/defaults.js';

export type OptType = 'string' | 'integer' | 'boolean';

export interface OptDef {
  /** Normalised group name (`DEFAULT` or lower case). */
  readonly group: string;
  readonly name: string;
  readonly type: OptType;
  /** The default as text, converted like a file value. */
  readonly default?: string;
  /** Never quote its value in a message. */
  readonly secret?: boolean;
  /** Integer options: the smallest value accepted, and how to say so. */
  readonly min?: { readonly value: number; readonly hint: string };
  /**
   * oslo's DeprecatedOpt: older [group] names read too. Within one file the current name wins;
   * across files the last file that sets any of the names wins.
   */
  readonly deprecated?: readonly (readonly [group: string, name: string])[];
}

export const OPTIONS = {
  connection: {
    group: 'database',
    name: 'connection',
    type: 'string',
    secret: true,
    deprecated: [
      ['DEFAULT', 'sql_connection'],
      ['database', 'sql_connection'],
      ['sql', 'connection'],
    ],
  },
  maxRetries: {
    group: 'database',
    name: 'max_retries',
    type: 'integer',
    default: '10',
    min: { value: -1, hint: 'use -1 to retry forever, or a number of retries >= 0' },
    deprecated: [
      ['DEFAULT', 'sql_max_retries'],
      ['database', 'sql_max_retries'],
    ],
  },
  retryInterval: {
    group: 'database',
    name: 'retry_interval',
    type: 'integer',
    default: '10',
    min: { value: 0, hint: 'use a number of seconds >= 0' },
    deprecated: [
      ['DEFAULT', 'sql_retry_interval'],
      ['database', 'reconnect_interval'],
    ],
  },
  /** Ours: how long db_sync waits for another migration's lock, in seconds. */
  lockTimeout: {
    group: 'database',
    name: 'migration_lock_timeout',
    type: 'integer',
    default: String(DEFAULT_LOCK_TIMEOUT_S),
    min: { value: 0, hint: 'use a number of seconds >= 0' },
  },
  /** Heat's key for encrypted parameters, properties and resource data (heat/common/crypt.py). */
  authEncryptionKey: {
    group: 'DEFAULT',
    name: 'auth_encryption_key',
    type: 'string',
    secret: true,
    default: 'notgood but just long enough i t',
  },
  /**
   * Ours: how long one migration statement waits for a table or row lock another session holds
   * (a running heat-engine's open transaction), in seconds: MySQL lock_wait_timeout and
   * innodb_lock_wait_timeout, PostgreSQL lock_timeout. While DDL waits, every new query on that
   * table queues behind it, so the wait is short by default.
   */
  lockWaitTimeout: {
    group: 'database',
    name: 'lock_wait_timeout',
    type: 'integer',
    default: String(DEFAULT_LOCK_WAIT_TIMEOUT_S),
    min: { value: 1, hint: 'use a number of seconds >= 1' },
  },
  debug: { group: 'DEFAULT', name: 'debug', type: 'boolean', default: 'false' },
  /** Removed from oslo.log long ago, still found in old heat.conf files. */
  verbose: { group: 'DEFAULT', name: 'verbose', type: 'boolean', default: 'false' },
  logFile: { group: 'DEFAULT', name: 'log_file', type: 'string', deprecated: [['DEFAULT', 'logfile']] },
  logDir: { group: 'DEFAULT', name: 'log_dir', type: 'string', deprecated: [['DEFAULT', 'logdir']] },
  // oslo.log's other logging options (_options.py); the last four are accepted with no effect here.
  useJson: { group: 'DEFAULT', name: 'use_json', type: 'boolean', default: 'false' },
  useSyslog: { group: 'DEFAULT', name: 'use_syslog', type: 'boolean', default: 'false' },
  syslogLogFacility: { group: 'DEFAULT', name: 'syslog_log_facility', type: 'string', default: 'LOG_USER' },
  logDateFormat: { group: 'DEFAULT', name: 'log_date_format', type: 'string', default: '%Y-%m-%d %H:%M:%S' },
  logConfigAppend: { group: 'DEFAULT', name: 'log_config_append', type: 'string', deprecated: [['DEFAULT', 'log_config']] },
  watchLogFile: { group: 'DEFAULT', name: 'watch_log_file', type: 'boolean', default: 'false' },
  useJournal: { group: 'DEFAULT', name: 'use_journal', type: 'boolean', default: 'false' },
  useEventlog: { group: 'DEFAULT', name: 'use_eventlog', type: 'boolean', default: 'false' },
} as const satisfies Record<string, OptDef>;

export type OptionKey = keyof typeof OPTIONS;

/** oslo.config's environment source: `OS_<GROUP>__<OPTION>`, upper case. */
export function envName(group: string, name: string): string {
  return `OS_${group.toUpperCase()}__${name.toUpperCase()}`;
}

/** oslo.config's Boolean type: true/1/on/yes and false/0/off/no, any case; undefined otherwise. */
export function parseBoolean(text: string): boolean | undefined {
  const s = text.trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(s)) return true;
  if (['false', '0', 'off', 'no'].includes(s)) return false;
  return undefined;
}

/** oslo.config's Integer type (Python `int()` of the trimmed text); undefined if not an integer. */
export function parseInteger(text: string): number | undefined {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
