/**
 * `heat-manage [global options] COMMAND [args]`: db_sync, db_version, purge_deleted,
 * update_params, resource_data_list, service (grammar.ts holds the grammar and the help texts).
 *
 * The only place that prints, and the one place that turns outcomes into exit codes: results on
 * stdout (`db_version`'s number, `resource_data_list`, `service list|clean`, `--dry-run`), logs on
 * stderr; errors are `ERROR: <message>` on stderr with exit 1; usage errors exit 2.
 * Start-up: db_sync and db_version load no TypeORM (bare drivers); the management
 * commands load TypeORM (./commands.ts) only when they run.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { InterruptedError, MigrateError, UsageError, describe } from '../../migrate/errors.js';
import { maskPassword, redact, parseUrl } from '../../migrate/url.js';
import type { CliOverrides, HeatConfig } from '../config/index.js';
import { createHeatLogger, type HeatLogger } from '../log/index.js';
import { parseArgs, usageLine, PROG, type CommandName, type ManagementCommand, type Parsed } from './grammar.js';
import { stepReporter, type Terminal } from './progress.js';

export interface ManageIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly homeDir: string;
  /** stderr when it is a terminal (progress bars, short lines). */
  readonly terminal?: Terminal;
}

const defaultIo = (): ManageIo => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  homeDir: homedir(),
  terminal: process.stderr.isTTY ? { write: (s) => process.stderr.write(s), columns: process.stderr.columns } : undefined,
});

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** What a command runs with: its parsed arguments, the configuration, the logger. */
interface Running {
  readonly p: Parsed;
  readonly cfg: HeatConfig;
  readonly logger: HeatLogger;
  readonly io: ManageIo;
  readonly signal?: AbortSignal;
}
type Runner = (r: Running) => Promise<number>;

/** db_sync and db_version: the bare drivers (heat/db/migration.ts), progress on stderr. */
async function migrationOptions(r: Running) {
  const { cfg, logger, io } = r;
  const db = await import('../db/migration.js');
  const migrationLog = logger.named('heat.db.migration');
  const reporter = stepReporter({ logger: migrationLog, terminal: cfg.log.file || cfg.log.json ? undefined : io.terminal });
  const opts = {
    url: cfg.database.connection,
    logger: migrationLog,
    lockTimeoutMs: cfg.database.lockTimeout * 1000,
    lockWaitTimeoutMs: cfg.database.lockWaitTimeout * 1000,
    signal: r.signal,
    maxRetries: cfg.database.maxRetries,
    retryIntervalS: cfg.database.retryInterval,
    logSql: cfg.debug,
    onStep: reporter.onStep,
    hooks: cfg.engineHooks,
  };
  return { db, reporter, opts };
}

const dbSync: Runner = async (r) => {
  const { db, reporter, opts } = await migrationOptions(r);
  const t0 = performance.now();
  reporter.summary(await db.dbSync(opts, r.p.positionals.version), performance.now() - t0);
  return 0;
};

const dbCheck: Runner = async (r) => {
  const { db, opts } = await migrationOptions(r);
  const { schemaReport } = await import('./check-report.js');
  const report = schemaReport(await db.dbCheck(opts), !!r.p.options.json);
  r.io.out(report.text);
  return report.exitCode;
};

const dbVersion: Runner = async (r) => {
  const { db, opts } = await migrationOptions(r);
  r.io.out(`${await db.dbVersion(opts)}\n`);
  return 0;
};

/** The logger name of each management command's lines: the module that does the work. */
const LOGGER_OF: Record<ManagementCommand, string> = {
  purge_deleted: 'heat.db.purge',
  update_params: 'heat.db.params',
  resource_data_list: 'heat.db.resource_data',
  service: 'heat.db.service',
};

/** A management command (TypeORM: ./commands.ts is loaded only when one runs). */
const management =
  (name: ManagementCommand): Runner =>
  async (r) =>
    (await import('./commands.js')).runManagement(name, r.p, { ...r, logger: r.logger.named(LOGGER_OF[name]) });

/** Every command of the grammar, by name (one without an entry does not compile). */
const RUNNERS: Record<CommandName, Runner> = {
  db_sync: dbSync,
  db_version: dbVersion,
  db_check: dbCheck,
  purge_deleted: management('purge_deleted'),
  update_params: management('update_params'),
  resource_data_list: management('resource_data_list'),
  service: management('service'),
};

/** heat-manage: argv in, exit code out; never throws. */
export async function main(argv: readonly string[], io: ManageIo = defaultIo(), signal?: AbortSignal): Promise<number> {
  const r = parseArgs(argv);
  if (r.kind === 'help') {
    io.out(r.text);
    return 0;
  }
  if (r.kind === 'version') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  if (r.kind === 'usage') {
    io.err(`${PROG}: error: ${r.message}\n${usageLine(r.command)}  (see '${PROG}${r.command ? ` ${r.command.name}` : ''} --help')\n`);
    return 2;
  }
  const p: Parsed = r.parsed;
  const g = p.globals;
  const debug = g.debug === true;
  // Never echoed: the database password, the encryption keys (configured and given).
  const secrets: (string | undefined)[] = [p.positionals.previous_encryption_key];
  let logger: HeatLogger | undefined;
  try {
    const { loadHeatConfig } = await import('../config/index.js');
    const cfg = loadHeatConfig({
      configFiles: g.configFile as string[] | undefined,
      configDir: (g.configDir as string | undefined) ?? null,
      cliOverrides: cliOverrides(g),
      env: io.env,
      homeDir: io.homeDir,
      cwd: io.cwd,
    });
    secrets.push(safePassword(cfg.database.connection), cfg.authEncryptionKey);
    try {
      logger = createHeatLogger(cfg.log, { stderr: io.err, terminal: !!io.terminal });
    } catch (e) {
      throw new HeatManageError(
        `cannot open the log file ${String(cfg.logFile)} ([DEFAULT] log_file / log_dir): ${describe(e)}; fix the path or its directory's permissions`,
      );
    }
    for (const w of cfg.warnings) logger.warn(w);
    if (cfg.log.inert.length) {
      logger.warn(`accepted for compatibility with oslo.log, no effect here: ${cfg.log.inert.join(', ')}`);
    }
    logger.info(
      { database: maskPassword(cfg.database.connection), source: cfg.database.connectionSource },
      `using database ${maskPassword(cfg.database.connection)} (${cfg.database.connectionSource})`,
    );
    for (const q of parseUrl(cfg.database.connection).ignoredParams) logger.warn(`ignoring unknown URL parameter '${q}'`);
    return await RUNNERS[p.command.name]({ p, cfg, logger, io, signal });
  } catch (e) {
    const msg = redactAll(describe(e), secrets);
    if (e instanceof UsageError) {
      io.err(`heat-manage: error: ${msg}\n`);
      return 2;
    }
    io.err(`ERROR: ${msg}\n`);
    if (e instanceof InterruptedError) return (e.reason as { exitCode?: number }).exitCode ?? 130; // 128 + signal
    if (debug && e instanceof Error && e.stack) io.err(`${redactAll(e.stack, secrets)}\n`);
    if (!(e instanceof MigrateError) && !(e instanceof Error && e.name === 'ConfigError') && logger) {
      try {
        logger.error({ err: msg }, 'unexpected error');
      } catch {
        // the log itself failed; the ERROR line above already said what happened
      }
    }
    return 1;
  } finally {
    await logger?.close();
  }
}

/** The global options given on the command line, as config overrides (unset: undefined). */
function cliOverrides(g: Parsed['globals']): CliOverrides {
  const flag = (k: string): boolean | undefined => (typeof g[k] === 'boolean' ? (g[k] as boolean) : undefined);
  const text = (k: string): string | undefined => (typeof g[k] === 'string' ? (g[k] as string) : undefined);
  return {
    debug: flag('debug'),
    verbose: flag('verbose'),
    // --log-json (ours) is --use-json
    useJson: g.logJson === true ? true : flag('useJson'),
    useSyslog: flag('useSyslog'),
    watchLogFile: flag('watchLogFile'),
    useJournal: flag('useJournal'),
    useEventlog: flag('useEventlog'),
    logFile: text('logFile'),
    logDir: text('logDir'),
    syslogLogFacility: text('syslogLogFacility'),
    logDateFormat: text('logDateFormat'),
    logConfigAppend: text('logConfigAppend'),
  };
}

/** A start-up problem of heat-manage itself (printed as `ERROR: <message>`, exit 1). */
class HeatManageError extends MigrateError {}

function redactAll(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>((t, s) => (s ? redact(t, s) : t), text);
}

function safePassword(url: string): string | undefined {
  try {
    return parseUrl(url).password;
  } catch {
    return undefined;
  }
}
