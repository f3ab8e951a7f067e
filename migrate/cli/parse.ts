/**
 * The `migrate` command-line grammar (SPEC §1.1), as a pure function of argv: the first word is a
 * command; then positional words, `--name=value` / `--name value` for parameters, other long
 * options as extras, `-d`/`-q`/`-h` short flags, and `--` to end options (after it a word like
 * `-1` is positional, but `--name=value` is still a parameter or an extra, as in the real tool).
 */
import { UsageError } from '../errors.js';
import { findCommand, type CommandDef } from './commands.js';

export type Parsed =
  | { readonly kind: 'usage'; readonly toStderr: boolean; readonly error?: string }
  | { readonly kind: 'help'; readonly command: CommandDef }
  | {
      readonly kind: 'run';
      readonly command: CommandDef;
      readonly args: Readonly<Record<string, string>>;
      readonly extras: Readonly<Record<string, string | true>>;
      readonly debug: boolean;
      readonly quiet: boolean;
    };

/** A usage error tied to a command (its usage is printed with it). */
export class CommandUsageError extends UsageError {
  constructor(
    readonly command: CommandDef,
    message: string,
  ) {
    super(message);
  }
}

const FLAG_OPTIONS = new Set(['debug', 'disable_logging', 'help']);

export function parseArgs(argv: readonly string[], defaults: Readonly<Record<string, string>> = {}): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'usage', toStderr: false };
  if (first === 'help' || first === '-h' || first === '--help') {
    if (rest.length === 0) return { kind: 'usage', toStderr: false };
    const c = findCommand(rest[0]!);
    if (!c) return { kind: 'usage', toStderr: true, error: `Invalid command ${rest[0]}` };
    return { kind: 'help', command: c };
  }
  const command = first.startsWith('_') ? undefined : findCommand(first);
  if (!command) return { kind: 'usage', toStderr: true, error: `Invalid command ${first}` };

  const positional: string[] = [];
  // --name=value for a parameter: `named` from options before `--`, `anonymous` from words after
  // it. sqlalchemy-migrate's shell hands `--` and what follows to the positional words, then takes
  // every word starting with `--` out of them again as a keyword (`version -- --repository=R`
  // works, sqlalchemy-migrate's own test_main), and the options before `--` win over those.
  const named: Record<string, string> = {};
  const anonymous: Record<string, string> = {};
  const extras: Record<string, string | true> = {};
  let debug = false;
  let quiet = false;
  let help = false;
  let onlyPositional = false;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (onlyPositional && w.startsWith('--')) {
      const eq = w.indexOf('=');
      const key = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const value = eq >= 0 ? w.slice(eq + 1) : undefined;
      // After `--` no word is a flag: --disable_logging still turns logging off (the shell pops it
      // from the keywords), --debug and --help are extras the commands ignore.
      if (key === 'disable_logging') quiet = value === undefined || /^(true|yes|on|y|t|1)$/i.test(value);
      else if (command.params.includes(key)) {
        if (value === undefined) throw new CommandUsageError(command, `--${key} option requires an argument (write --${key}=VALUE after --)`);
        anonymous[key] = value;
      } else extras[key] = value ?? true;
    } else if (onlyPositional) {
      positional.push(w);
    } else if (w === '--') {
      onlyPositional = true;
    } else if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const key = eq >= 0 ? w.slice(2, eq) : w.slice(2);
      const value = eq >= 0 ? w.slice(eq + 1) : undefined;
      if (FLAG_OPTIONS.has(key)) {
        if (value !== undefined) throw new CommandUsageError(command, `--${key} option does not take a value`);
        if (key === 'debug') debug = true;
        else if (key === 'disable_logging') quiet = true;
        else help = true;
      } else if (command.params.includes(key)) {
        if (value !== undefined) named[key] = value;
        else if (i + 1 < rest.length) named[key] = rest[++i]!;
        else throw new CommandUsageError(command, `--${key} option requires an argument`);
      } else {
        extras[key] = value ?? true;
      }
    } else if (w.startsWith('-') && w.length > 1) {
      for (const ch of w.slice(1)) {
        if (ch === 'd') debug = true;
        else if (ch === 'q') quiet = true;
        else if (ch === 'h') help = true;
        else throw new CommandUsageError(command, `no such option: -${ch}${/\d/.test(ch) ? ` (a negative number? versions are non-negative; use -- before it to pass it as a word)` : ''}`);
      }
    } else {
      positional.push(w);
    }
  }
  Object.assign(named, { ...anonymous, ...named });
  if (help) return { kind: 'help', command };

  // Baked-in defaults (manage.js) and --name=value take their parameters out of the positional
  // slots, as in sqlalchemy-migrate's shell; the remaining words fill the rest in order.
  const args: Record<string, string> = {};
  const free = command.params.filter((p) => !(p in named) && !(p in defaults));
  if (positional.length > free.length) {
    throw new CommandUsageError(
      command,
      `Too many arguments for command ${command.name}: ${positional[free.length]}`,
    );
  }
  free.forEach((p, i) => {
    if (i < positional.length) args[p] = positional[i]!;
  });
  Object.assign(args, named);
  for (const [k, v] of Object.entries(defaults)) {
    if (command.params.includes(k)) {
      if (!(k in args)) args[k] = v;
    } else if (!(k in extras) && !['debug', 'disable_logging'].includes(k)) {
      extras[k] = v;
    }
  }
  const missing = command.required.filter((p) => !(p in args)).sort();
  if (missing.length) {
    throw new CommandUsageError(command, `Not enough arguments for command ${command.name}: ${missing.join(', ')} not specified`);
  }
  return { kind: 'run', command, args, extras, debug, quiet };
}
