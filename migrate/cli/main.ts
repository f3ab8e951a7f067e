/**
 * `migrate` / `manage.js`: argv in, exit code out. The only place that prints and that turns
 * outcomes into exit codes: 0 success, 2 usage and known errors, 1 everything else.
 */
import { MigrateError, describe } from '../errors.js';
import { createLogger } from '../logger.js';
import { COMMANDS, summary, type CommandDef } from './commands.js';
import { CommandUsageError, parseArgs } from './parse.js';

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

export interface RunContext {
  readonly prog?: string;
  /** Baked-in defaults of a manage.js launcher. */
  readonly defaults?: Readonly<Record<string, string>>;
  readonly io?: Io;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const stdIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

function topUsage(prog: string, withOptions: boolean): string {
  const lines = COMMANDS.filter((c) => !c.unsupported)
    .map((c) => c.name)
    .sort();
  const body = lines
    .map((name, i) => `${i === 0 ? '        ' : '\t'}${name.padEnd(28)} - ${summary(COMMANDS.find((c) => c.name === name)!)}`)
    .join('\n');
  let s = `Usage: ${prog} COMMAND ...\n\n    Available commands:\n${body}\n\n    Enter "${prog} help COMMAND" for information on a particular command.\n    \n`;
  if (withOptions) s += `\n${optionsBlock([])}`;
  return s;
}

function optionsBlock(params: readonly string[]): string {
  const lines = [
    'Options:',
    '  -h, --help            show this help message and exit',
    '  -d, --debug           Shortcut to turn on DEBUG mode for logging',
    '  -q, --disable_logging',
    '                        Use this option to disable logging configuration',
  ];
  for (const p of params) {
    const opt = `  --${p}=${p.toUpperCase()}`;
    lines.push(opt.length < 24 ? opt.padEnd(24) : opt);
  }
  return `${lines.join('\n')}\n`;
}

function commandHelp(prog: string, c: CommandDef): string {
  return `Usage: ${prog} ${c.usage}\n\n${c.help}\n\n${optionsBlock(c.params)}`;
}

function commandUsageError(prog: string, c: CommandDef, msg: string): string {
  return `Usage: ${prog} ${c.usage}\n\n${c.help}\n\n${prog}: error: ${msg}\n`;
}

/** Runs the CLI; never throws; returns the exit code. */
export async function run(argv: readonly string[], ctx: RunContext = {}): Promise<number> {
  const io = ctx.io ?? stdIo;
  const prog = ctx.prog ?? 'migrate';
  let debug = argv.includes('-d') || argv.includes('--debug');
  try {
    const parsed = parseArgs(argv, ctx.defaults ?? {});
    if (parsed.kind === 'usage') {
      if (!parsed.toStderr) {
        io.out(topUsage(prog, true));
        return 0;
      }
      io.err(`${topUsage(prog, false)}${prog}: error: ${parsed.error}\n`);
      return 2;
    }
    if (parsed.kind === 'help') {
      io.out(commandHelp(prog, parsed.command));
      return 0;
    }
    debug = parsed.debug;
    if (parsed.command.unsupported) {
      throw new CommandUsageError(
        parsed.command,
        `${parsed.command.name} works on SQLAlchemy models and is not supported by this implementation`,
      );
    }
    const logger = createLogger({
      level: parsed.quiet ? 'silent' : debug ? 'debug' : 'warn',
      format: 'plain',
      out: io.out,
      err: io.err,
      name: prog,
    });
    const { execute } = await import('./execute.js');
    const { hooksFromEnv } = await import('./env.js');
    await execute(parsed, { io, logger, debug, hooks: hooksFromEnv(ctx.env ?? process.env), prog });
    return 0;
  } catch (e) {
    if (e instanceof CommandUsageError) {
      io.err(commandUsageError(prog, e.command, e.message));
      return 2;
    }
    if (e instanceof MigrateError) {
      const kind = e.exitCode === 2 ? '' : `${e.kind}: `;
      io.err(`${prog}: error: ${kind}${e.message || e.kind}\n`);
      if (debug && e.stack) io.err(`${e.stack}\n${causeChain(e)}`);
      return e.exitCode;
    }
    io.err(`${prog}: error: ${describe(e)}\n`);
    if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 1;
  }
}

function causeChain(e: Error): string {
  let out = '';
  let c = e.cause;
  while (c instanceof Error) {
    out += `Caused by: ${c.stack ?? c.message}\n`;
    c = c.cause;
  }
  return out;
}

