/**
 * heat-manage's grammar, as data, and the one parser that reads it (argparse's rules):
 *
 *   heat-manage [--config-file F]... [--config-dir D] [-d] [--verbose] [--log-json] COMMAND [ARGS]
 *
 * Options are `--name V`, `--name=V`, `-x V` or `-xV`; a string option takes one value per
 * occurrence; `--` ends the options; a word like `-1` is a positional (as in argparse, since no
 * option looks like a number). Global options are accepted before and after the command (oslo
 * takes them before; later is harmless). `-h/--help` prints the help of what precedes it and
 * `--version` the version, both on stdout with exit 0; anything malformed is a {@link ParseResult}
 * of kind `usage` (exit 2) that names the argument and the accepted values.
 *
 * The help texts are generated from the same data, so what parses is what `--help` says.
 */
export interface OptionSpec {
  readonly long: string;
  readonly short?: string;
  /** The key in {@link Parsed.options} (and what a usage error calls it). */
  readonly dest: string;
  readonly kind: 'string' | 'boolean';
  /** Older long names still accepted (oslo.config's deprecated_name: `--logfile`). */
  readonly aliases?: readonly string[];
  /** A boolean that `--no<long>` turns off (oslo.config's BoolOpt: `--nodebug`). */
  readonly negatable?: boolean;
  readonly repeat?: boolean;
  readonly choices?: readonly string[];
  readonly metavar?: string;
  readonly help: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly optional?: boolean;
  readonly choices?: readonly string[];
  readonly metavar?: string;
  readonly help: string;
  /** The usage message when it is missing (required positionals). */
  readonly missing?: string;
}

/** The commands that need no TypeORM (bare drivers: fast start-up). */
export type MigrationCommand = 'db_sync' | 'db_version' | 'db_check';
/** The management commands (TypeORM, loaded when one runs). */
export type ManagementCommand = 'purge_deleted' | 'update_params' | 'resource_data_list' | 'service';
export type CommandName = MigrationCommand | ManagementCommand;

export interface CommandSpec {
  readonly name: CommandName;
  readonly help: string;
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  readonly positionals: readonly PositionalSpec[];
}

export const PROG = 'heat-manage';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    long: 'config-file',
    dest: 'configFile',
    kind: 'string',
    repeat: true,
    metavar: 'PATH',
    help: 'Path to a config file to use. Repeatable: later files override earlier ones. Default search: ~/.heat/heat.conf, ~/heat.conf, /etc/heat/heat.conf, /etc/heat.conf',
  },
  { long: 'config-dir', dest: 'configDir', kind: 'string', metavar: 'DIR', help: 'Directory whose *.conf files are read (sorted) after the config files' },
  { long: 'debug', short: 'd', dest: 'debug', kind: 'boolean', negatable: true, help: 'Log at DEBUG level, including every SQL statement ([DEFAULT] debug; --nodebug: INFO)' },
  { long: 'verbose', dest: 'verbose', kind: 'boolean', negatable: true, help: 'Log at INFO level (the default; an old oslo.log option)' },
  { long: 'log-json', dest: 'logJson', kind: 'boolean', help: 'Log JSON lines (oslo.log\'s JSON format), also on a terminal; same as --use-json' },
  // oslo.log's command-line options, as Heat's heat-manage registers them (oslo_log/_options.py).
  { long: 'log-file', aliases: ['logfile'], dest: 'logFile', kind: 'string', metavar: 'PATH', help: 'Append the log to this file instead of stderr ([DEFAULT] log_file; relative to --log-dir)' },
  { long: 'log-dir', aliases: ['logdir'], dest: 'logDir', kind: 'string', metavar: 'DIR', help: 'Base directory of a relative --log-file; alone: log to DIR/heat-manage.log ([DEFAULT] log_dir)' },
  { long: 'use-json', dest: 'useJson', kind: 'boolean', negatable: true, help: "Log JSON lines in oslo.log's JSONFormatter shape ([DEFAULT] use_json)" },
  { long: 'use-syslog', dest: 'useSyslog', kind: 'boolean', negatable: true, help: 'Also send the log to the local syslog socket /dev/log ([DEFAULT] use_syslog)' },
  { long: 'syslog-log-facility', dest: 'syslogLogFacility', kind: 'string', metavar: 'FACILITY', help: 'Syslog facility of --use-syslog, e.g. LOG_USER (default), LOG_LOCAL0 ([DEFAULT] syslog_log_facility)' },
  { long: 'log-date-format', dest: 'logDateFormat', kind: 'string', metavar: 'DATE_FORMAT', help: 'strftime format of the date in log lines, default %Y-%m-%d %H:%M:%S ([DEFAULT] log_date_format)' },
  { long: 'log-config-append', aliases: ['log-config'], dest: 'logConfigAppend', kind: 'string', metavar: 'PATH', help: 'A Python logging configuration file: accepted, no effect here (said once on stderr)' },
  { long: 'watch-log-file', dest: 'watchLogFile', kind: 'boolean', negatable: true, help: 'Accepted, no effect here (said once on stderr)' },
  { long: 'use-journal', dest: 'useJournal', kind: 'boolean', negatable: true, help: 'Accepted, no effect here (said once on stderr)' },
  { long: 'use-eventlog', dest: 'useEventlog', kind: 'boolean', negatable: true, help: 'Accepted, no effect here (said once on stderr)' },
];

export const GRANULARITIES = ['days', 'hours', 'minutes', 'seconds'] as const;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'db_sync',
    help: 'Sync the database up to the most recent version (or to VERSION).',
    options: [],
    positionals: [{ name: 'version', metavar: 'VERSION', optional: true, help: "Target schema version: an integer up to 86 (Train), 'head' or an Alembic revision id (Heat master); default 71 (Mitaka)" }],
  },
  { name: 'db_version', help: "Print the database's current migration level.", options: [], positionals: [] },
  {
    name: 'db_check',
    help: "Compare the database's schema with the exact schema of its recorded version.",
    description:
      'Reads the schema from the database catalog (tables, columns with their types, nullability and defaults, indexes, foreign keys with their rules, MySQL engine and collation) and compares it with the exact schema of the version migrate_version records. Prints "schema matches version N" (exit 0), or every difference and, when they are the unfinished work of the next step, that db_sync will finish it (exit 1). Writes nothing; needs no privilege beyond reading the catalog. The tool\'s own migrate_* tables are ignored.',
    options: [{ long: 'json', dest: 'json', kind: 'boolean', help: 'Print the report as one JSON document (for tools).' }],
    positionals: [],
  },
  {
    name: 'purge_deleted',
    help: 'Purge deleted database records older than AGE.',
    description:
      'Deletes the stacks soft-deleted more than AGE ago with everything that belongs to them (resources, resource data, events, locks, tags, sync points, snapshots, watch rules), the templates and credentials no remaining stack or resource uses, and the services deleted before the same time. One transaction per batch of stacks.',
    options: [
      {
        long: 'granularity',
        short: 'g',
        dest: 'granularity',
        kind: 'string',
        choices: GRANULARITIES,
        help: 'Granularity to use for the age argument (default: days).',
      },
      { long: 'project-id', short: 'p', dest: 'projectId', kind: 'string', metavar: 'PROJECT_ID', help: 'Only purge the stacks of this project (stack.tenant).' },
      { long: 'batch_size', short: 'b', dest: 'batchSize', kind: 'string', metavar: 'BATCH_SIZE', help: 'Number of stacks to delete per transaction (default: 200).' },
      { long: 'dry-run', dest: 'dryRun', kind: 'boolean', help: 'Print, per table, how many rows would be deleted, and change nothing.' },
    ],
    positionals: [{ name: 'age', optional: true, help: 'How long to preserve deleted data (default: 90).' }]
  },
  {
    name: 'update_params',
    help: 'Encrypt or decrypt the hidden template parameters and the resource properties.',
    description:
      'encrypt: encrypts the hidden parameters of every template environment and the properties of every resource with [DEFAULT] auth_encryption_key (values already encrypted are left as they are). decrypt: decrypts them. The heat-engine processes must be stopped to use this.',
    options: [],
    positionals: [
      {
        name: 'command',
        choices: ['encrypt', 'decrypt'],
        help: 'encrypt or decrypt. The heat-engine processes must be stopped to use this.',
        missing: 'an action is required: encrypt or decrypt',
      },
      {
        name: 'previous_encryption_key',
        optional: true,
        help: 'decrypt: the key the values were encrypted with (default: the configured key). encrypt: the previous key of a key rotation: values encrypted with it are re-encrypted with the configured key.',
      },
    ]
  },
  {
    name: 'resource_data_list',
    help: 'Print the data of a resource (redacted values decrypted).',
    options: [],
    positionals: [{ name: 'resource_id', help: 'Stack resource id', missing: 'the resource_id argument is required' }]
  },
  {
    name: 'service',
    help: 'Manage the heat-engine service records: list them, or clean (soft-delete) those that are down.',
    options: [],
    positionals: [
      {
        name: 'action',
        choices: ['list', 'clean'],
        help: 'list: show the heat-engine services and their status; clean: remove the services that are down.',
        missing: 'an action is required: list or clean',
      },
    ]
  },
];

export type Value = string | boolean | string[] | undefined;

export interface Parsed {
  readonly command: CommandSpec;
  readonly positionals: Readonly<Record<string, string | undefined>>;
  readonly options: Readonly<Record<string, Value>>;
  readonly globals: Readonly<Record<string, Value>>;
}

export type ParseResult =
  | { readonly kind: 'run'; readonly parsed: Parsed }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage'; readonly message: string; readonly command?: CommandSpec };

class Usage extends Error {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
  }
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;
const flag = (o: OptionSpec) => (o.short ? `-${o.short}/--${o.long}` : `--${o.long}`);
const accepted = (c: readonly string[]) => c.join(', ');

export function parseArgs(argv: readonly string[]): ParseResult {
  try {
    return parseOrThrow(argv);
  } catch (e) {
    if (e instanceof Usage) return { kind: 'usage', message: e.message, command: e.command };
    throw e;
  }
}

function parseOrThrow(argv: readonly string[]): ParseResult {
  const globals: Record<string, Value> = {};
  const options: Record<string, Value> = {};
  const words: string[] = [];
  let command: CommandSpec | undefined;
  let onlyPositionals = false;
  const take = (o: OptionSpec, into: Record<string, Value>, inline: string | undefined, i: number, negated = false): number => {
    if (o.kind === 'boolean') {
      if (inline !== undefined) throw new Usage(`option ${negated ? `--no${o.long}` : flag(o)} takes no value`, command);
      into[o.dest] = !negated;
      return i;
    }
    let v = inline;
    if (v === undefined) {
      v = argv[i + 1];
      if (v === undefined || (v.startsWith('-') && v !== '-' && !NEGATIVE_NUMBER.test(v))) {
        throw new Usage(`option ${flag(o)} expects a value${o.choices ? ` (${accepted(o.choices)})` : ''}`, command);
      }
      i++;
    }
    if (v === '') throw new Usage(`option ${flag(o)} expects a non-empty value`, command);
    if (o.choices && !o.choices.includes(v)) {
      throw new Usage(`argument ${flag(o)}: invalid choice '${v}' (choose from ${accepted(o.choices)})`, command);
    }
    if (o.repeat) into[o.dest] = [...((into[o.dest] as string[] | undefined) ?? []), v];
    else into[o.dest] = v;
    return i;
  };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (onlyPositionals || !w.startsWith('-') || w === '-' || NEGATIVE_NUMBER.test(w)) {
      if (!command) {
        command = COMMANDS.find((c) => c.name === w);
        if (!command) throw new Usage(`unknown command '${w}' (choose from ${accepted(COMMANDS.map((c) => c.name))})`);
      } else words.push(w);
      continue;
    }
    if (w === '--') {
      onlyPositionals = true;
      continue;
    }
    if (w === '-h' || w === '--help') return { kind: 'help', text: command ? commandHelp(command) : globalHelp() };
    if (w === '--version') return { kind: 'version' };
    const long = w.startsWith('--');
    const eq = long ? w.indexOf('=') : -1;
    const name = long ? (eq >= 0 ? w.slice(2, eq) : w.slice(2)) : w.slice(1, 2);
    const inline = long ? (eq >= 0 ? w.slice(eq + 1) : undefined) : w.length > 2 ? w.slice(2) : undefined;
    const match = (o: OptionSpec) => (long ? o.long === name || !!o.aliases?.includes(name) : o.short === name);
    const own = command?.options.find(match);
    if (own) {
      i = take(own, options, inline, i);
      continue;
    }
    const global = GLOBAL_OPTIONS.find(match);
    if (global) {
      i = take(global, globals, inline, i);
      continue;
    }
    const negated = long && name.startsWith('no') ? GLOBAL_OPTIONS.find((o) => o.negatable && o.long === name.slice(2)) : undefined;
    if (negated) {
      i = take(negated, globals, inline, i, true);
      continue;
    }
    throw new Usage(`unknown option '${w}'${command ? ` for ${command.name}` : ''}`, command);
  }
  if (!command) throw new Usage(`a command is required (choose from ${accepted(COMMANDS.map((c) => c.name))})`);
  const positionals: Record<string, string | undefined> = {};
  const specs = command.positionals;
  if (words.length > specs.length) {
    throw new Usage(`unexpected argument '${words[specs.length]}' (${command.name} takes ${describeArity(command)})`, command);
  }
  specs.forEach((p, k) => {
    const v = words[k];
    if (v === undefined && !p.optional) throw new Usage(p.missing ?? `the ${p.name} argument is required`, command);
    if (v !== undefined && p.choices && !p.choices.includes(v)) {
      throw new Usage(`argument ${p.name}: invalid choice '${v}' (choose from ${accepted(p.choices)})`, command);
    }
    positionals[p.name] = v;
  });
  return { kind: 'run', parsed: { command, positionals, options, globals } };
}

function describeArity(c: CommandSpec): string {
  if (!c.positionals.length) return 'no arguments';
  return c.positionals.map((p) => (p.optional ? `[${p.metavar ?? p.name}]` : (p.metavar ?? p.name))).join(' ');
}

function optionUsage(o: OptionSpec): string {
  const f = o.short ? `-${o.short}` : `--${o.long}`;
  if (o.kind === 'boolean') return `[${f}]`;
  return `[${f} ${o.choices ? `{${o.choices.join(',')}}` : (o.metavar ?? o.dest.toUpperCase())}]`;
}

function positionalUsage(p: PositionalSpec): string {
  const n = p.choices ? `{${p.choices.join(',')}}` : (p.metavar ?? p.name);
  return p.optional ? `[${n}]` : n;
}

/** The one-line usage of a command (also printed with its usage errors). */
export function usageLine(c?: CommandSpec): string {
  if (!c) return `usage: ${PROG} [-h] [--version] [--config-file PATH] [--config-dir DIR] [-d] [--log-file PATH] [--use-json] [... oslo.log options] {${COMMANDS.map((x) => x.name).join(',')}} ...`;
  return [`usage: ${PROG} [global options] ${c.name} [-h]`, ...c.options.map(optionUsage), ...c.positionals.map(positionalUsage)].join(' ');
}

function wrap(text: string, indent: number, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function table(rows: [string, string][]): string {
  const col = 24;
  const out: string[] = [];
  for (const [left, help] of rows) {
    const body = wrap(help, col);
    const head = `  ${left}`;
    if (head.length + 2 <= col) out.push(head.padEnd(col) + (body[0] ?? ''), ...body.slice(1).map((l) => ' '.repeat(col) + l));
    else out.push(head, ...body.map((l) => ' '.repeat(col) + l));
  }
  return out.join('\n');
}

function optionRows(opts: readonly OptionSpec[]): [string, string][] {
  return opts.map((o) => {
    const arg = o.kind === 'boolean' ? '' : ` ${o.choices ? `{${o.choices.join(',')}}` : (o.metavar ?? o.dest.toUpperCase())}`;
    const names = [...(o.short ? [`-${o.short}`] : []), ...[o.long, ...(o.aliases ?? [])].map((n) => `--${n}${arg}`), ...(o.negatable ? [`--no${o.long}`] : [])];
    return [names.join(', '), o.help];
  });
}

export function commandHelp(c: CommandSpec): string {
  const parts = [usageLine(c), '', ...wrap(c.description ?? c.help, 0)];
  if (c.positionals.length) parts.push('', 'positional arguments:', table(c.positionals.map((p) => [positionalUsage(p).replace(/^\[(.*)\]$/, '$1'), p.help])));
  parts.push('', 'options:', table([['-h, --help', 'show this help message and exit'], ...optionRows(c.options)]));
  parts.push('', `Global options (${GLOBAL_OPTIONS.map((o) => `--${o.long}`).join(', ')}) come before the command; see '${PROG} --help'.`);
  return `${parts.join('\n')}\n`;
}

export function globalHelp(): string {
  const parts = [
    usageLine(),
    '',
    "Heat's database management tool.",
    '',
    'commands:',
    table(COMMANDS.map((c) => [c.name, c.help])),
    '',
    'options:',
    table([['-h, --help', 'show this help message and exit'], ['--version', 'show the version and exit'], ...optionRows(GLOBAL_OPTIONS)]),
    '',
    `'${PROG} COMMAND --help' describes a command's arguments.`,
  ];
  return `${parts.join('\n')}\n`;
}
