/**
 * `heat-manage [global options] db_sync [version] | db_version`.
 *
 * Global options as oslo.config gives them (--config-file, --config-dir, --debug/-d, --verbose,
 * --version, --help, COMMAND --help). The only place that prints: `db_version` prints the bare
 * number on stdout; `db_sync` prints nothing on success (progress goes to the log on stderr);
 * errors are `ERROR: <message>` on stderr with exit 1; usage errors exit 2.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { MigrateError, UsageError, describe } from '../../migrate/errors.js';
import { createLogger } from '../../migrate/logger.js';
import type { Logger } from '../../migrate/script/contract.js';
import { maskPassword, redact, parseUrl } from '../../migrate/url.js';
import { COMMANDS, OPTIONS, fastParse, type Args } from './options.js';
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

type Parsed = { kind: 'run'; args: Args } | { kind: 'output'; text: string; code: number };

/** Parses argv with yargs, capturing help/version/usage output instead of printing or exiting. */
async function parse(argv: readonly string[]): Promise<Parsed> {
  const fast = fastParse(argv);
  if (fast) return { kind: 'run', args: fast };
  const { default: yargs } = await import('yargs');
  let y = yargs([...argv])
    .scriptName('heat-manage')
    .usage('Usage: $0 [options] <command> [args]')
    .parserConfiguration({ 'camel-case-expansion': true, 'boolean-negation': false });
  for (const o of OPTIONS) {
    // A string option takes one value per occurrence, as in oslo.config:
    // `--config-file A --config-file B db_sync` (an array option would swallow the command).
    y = y.option(o.name, {
      alias: o.alias,
      type: o.type,
      describe: o.describe,
      ...(o.type === 'string' ? { nargs: 1, requiresArg: true } : { default: false }),
    });
  }
  for (const c of COMMANDS) {
    y = y.command(c.usage, c.describe, (b) =>
      c.name === 'db_sync' ? b.positional('VERSION', { type: 'string', describe: 'Target schema version (default: the latest)' }) : b,
    );
  }
  y = y
    .demandCommand(1, 'a command is required: db_sync or db_version')
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .exitProcess(false)
    .wrap(100);
  return new Promise<Parsed>((resolve) => {
    y.parse([...argv], {}, (err, a, output) => {
      if (err) {
        resolve({ kind: 'output', code: 2, text: `heat-manage: error: ${err.message}\nTry 'heat-manage --help'.\n` });
        return;
      }
      if (output) {
        resolve({ kind: 'output', code: 0, text: output.endsWith('\n') ? output : `${output}\n` });
        return;
      }
      const av = a as unknown as Record<string, unknown>;
      const many = (v: unknown) => (v === undefined ? undefined : ([] as string[]).concat(v as string | string[]));
      const last = (v: unknown) => (v === undefined ? undefined : many(v)!.at(-1));
      resolve({
        kind: 'run',
        args: {
          command: String((a as { _: unknown[] })._[0]) as Args['command'],
          version: av.VERSION === undefined ? undefined : String(av.VERSION),
          configFile: many(av.configFile),
          configDir: last(av.configDir),
          debug: !!av.debug,
          verbose: !!av.verbose,
          logJson: !!av.logJson,
        },
      });
    });
  });
}

/** `db_sync -1` would be read as an option by any getopt-style parser: say what is wrong instead. */
function negativeVersion(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('db_sync');
  return i < 0 ? undefined : argv.slice(i + 1).find((w) => /^-\d+$/.test(w));
}

/** heat-manage: argv in, exit code out; never throws. */
export async function main(argv: readonly string[], io: ManageIo = defaultIo()): Promise<number> {
  const negative = negativeVersion(argv);
  if (negative) {
    io.err(`heat-manage: error: version should be a non-negative integer (a Heat schema version, 28 or above), got '${negative}'\n`);
    return 2;
  }
  const parsed = await parse(argv);
  if (parsed.kind === 'output') {
    (parsed.code === 0 ? io.out : io.err)(parsed.text);
    return parsed.code;
  }
  const a = parsed.args;
  let secret: string | undefined;
  let logger: Logger | undefined;
  try {
    const { loadHeatConfig } = await import('../config/index.js');
    const cfg = loadHeatConfig({
      configFiles: a.configFile,
      configDir: a.configDir ?? null,
      cliOverrides: { debug: a.debug || undefined, verbose: a.verbose || undefined },
      env: io.env,
      homeDir: io.homeDir,
      cwd: io.cwd,
    });
    secret = safePassword(cfg.database.connection);
    try {
      logger = createLogger({
        level: cfg.debug ? 'debug' : 'info',
        json: a.logJson || undefined,
        file: cfg.logFile,
        name: 'heat-manage',
      });
    } catch (e) {
      throw new HeatManageError(
        `cannot open the log file ${String(cfg.logFile)} ([DEFAULT] log_file / log_dir): ${describe(e)}; fix the path or its directory's permissions`,
      );
    }
    for (const w of cfg.warnings) logger.warn(w);
    logger.info(
      { database: maskPassword(cfg.database.connection), source: cfg.database.connectionSource },
      `using database ${maskPassword(cfg.database.connection)} (${cfg.database.connectionSource})`,
    );
    for (const p of parseUrl(cfg.database.connection).ignoredParams) logger.warn(`ignoring unknown URL parameter '${p}'`);
    const db = await import('../db/migration.js');
    const reporter = stepReporter({ logger, terminal: cfg.logFile || a.logJson ? undefined : io.terminal });
    const opts = {
      url: cfg.database.connection,
      logger,
      lockTimeoutMs: cfg.database.lockTimeout * 1000,
      maxRetries: cfg.database.maxRetries,
      retryIntervalS: cfg.database.retryInterval,
      logSql: cfg.debug,
      onStep: reporter.onStep,
      hooks: cfg.engineHooks,
    };
    if (a.command === 'db_version') {
      io.out(`${await db.dbVersion(opts)}\n`);
      return 0;
    }
    const t0 = performance.now();
    const r = await db.dbSync(opts, a.version);
    reporter.summary(r, performance.now() - t0);
    return 0;
  } catch (e) {
    const msg = redact(describe(e), secret);
    if (e instanceof UsageError) {
      io.err(`heat-manage: error: ${msg}\n`);
      return 2;
    }
    io.err(`ERROR: ${msg}\n`);
    if (a.debug && e instanceof Error && e.stack) io.err(`${redact(e.stack, secret)}\n`);
    if (!(e instanceof MigrateError) && !(e instanceof Error && e.name === 'ConfigError') && logger) {
      try {
        logger.error({ err: msg }, 'unexpected error');
      } catch {
        // the log itself failed; the ERROR line above already said what happened
      }
    }
    return 1;
  }
}

/** A start-up problem of heat-manage itself (printed as `ERROR: <message>`, exit 1). */
class HeatManageError extends MigrateError {}

function safePassword(url: string): string | undefined {
  try {
    return parseUrl(url).password;
  } catch {
    return undefined;
  }
}
