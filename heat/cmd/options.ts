/**
 * heat-manage's options and commands as data. Two readers:
 *  - `fastParse`: the plain forms an entrypoint uses (`[--config-file X]... [-d] db_sync [N]`,
 *    `db_version`) without loading yargs (~80 ms of start-up on every container start);
 *  - yargs (manage.ts) for everything else: help, unknown options, malformed input.
 * Both build the same {@link Args}; anything fastParse is not sure about goes to yargs.
 */
export interface Args {
  readonly command: 'db_sync' | 'db_version';
  readonly version?: string;
  readonly configFile?: string[];
  readonly configDir?: string;
  readonly debug: boolean;
  readonly verbose: boolean;
  readonly logJson: boolean;
}

export interface OptionDef {
  readonly name: string;
  readonly alias?: string;
  /** 'string' options take exactly one value per occurrence (`--x V` or `--x=V`). */
  readonly type: 'string' | 'boolean';
  /** Repeatable string option (later occurrences add). */
  readonly repeat?: boolean;
  readonly describe: string;
}

export const OPTIONS: readonly OptionDef[] = [
  {
    name: 'config-file',
    type: 'string',
    repeat: true,
    describe:
      'Path to a config file to use. Repeatable: later files override earlier ones. Default search: ~/.heat/heat.conf, ~/heat.conf, /etc/heat/heat.conf, /etc/heat.conf',
  },
  { name: 'config-dir', type: 'string', describe: 'Directory whose *.conf files are read (sorted) after the config files' },
  { name: 'debug', alias: 'd', type: 'boolean', describe: 'Log at DEBUG level, including every SQL statement' },
  { name: 'verbose', type: 'boolean', describe: 'Log at INFO level (the default)' },
  { name: 'log-json', type: 'boolean', describe: 'Log JSON lines even on a terminal' },
];

export const COMMANDS = [
  { name: 'db_sync', usage: 'db_sync [VERSION]', describe: 'Sync the database up to the most recent version (or to VERSION)' },
  { name: 'db_version', usage: 'db_version', describe: "Print the database's current migration level" },
] as const;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Parses the plain forms; returns null for anything else (help, version, unknown or malformed
 * options, extra words), which the caller hands to yargs for its messages.
 */
export function fastParse(argv: readonly string[]): Args | null {
  const values: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (!w.startsWith('-') || w === '-') {
      positional.push(w);
      continue;
    }
    const eq = w.indexOf('=');
    const flag = w.startsWith('--') ? (eq >= 0 ? w.slice(2, eq) : w.slice(2)) : w.slice(1);
    const def = OPTIONS.find((o) => (w.startsWith('--') ? o.name === flag : o.alias === flag));
    if (!def) return null;
    const key = camel(def.name);
    if (def.type === 'boolean') {
      if (eq >= 0) return null;
      values[key] = true;
      continue;
    }
    const value = eq >= 0 ? w.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) return null;
    if (def.repeat) values[key] = [...((values[key] as string[] | undefined) ?? []), value];
    else if (key in values) return null;
    else values[key] = value;
  }
  const [command, version, ...extra] = positional;
  if (extra.length) return null;
  if (command === 'db_version' && version !== undefined) return null;
  if (command !== 'db_sync' && command !== 'db_version') return null;
  return {
    command,
    version,
    configFile: values.configFile as string[] | undefined,
    configDir: values.configDir as string | undefined,
    debug: !!values.debug,
    verbose: !!values.verbose,
    logJson: !!values.logJson,
  };
}
