/**
 * The layers of heat-manage's configuration, lowest first, merged with node-config's `Load`
 * (which keeps each layer as a named source, so we can tell where a value came from):
 *   defaults < each config file in order < environment (`OS_<GROUP>__<OPTION>`) < command line.
 *
 * A file layer holds every option of the file (for `$name` references) and our options under
 * their current names, resolved from deprecated names as oslo.config does. `read(opt)` gives the
 * winning raw text, `$`-substituted when it came from a file or the environment, and its origin.
 */
import { Load } from 'config/lib/util.js';
import { ConfigError } from './errors.js';
import { readConfigFile } from './files.js';
import { lastEntry, type OsloIni } from './oslo-ini.js';
import { envName, OPTIONS, type OptDef, type OptionKey } from './options.js';
import { substitute, SubstitutionError } from './substitute.js';

export type Origin =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line: number; group: string; key: string }
  | { kind: 'env'; name: string }
  | { kind: 'cli'; flag: string };

export interface RawValue {
  readonly text: string;
  readonly origin: Origin;
}

export interface LayerInputs {
  /** Config files to read, in order (absolute). */
  readonly paths: readonly string[];
  readonly env: Record<string, string | undefined>;
  readonly cli: CliOverrides;
  /** Warnings are appended here (readable files, deprecated names). */
  readonly warnings: string[];
}

type Layer = Record<string, Record<string, string>>;

/** Names that must not reach node-config's deep merge (prototype pollution). */
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/** Options given on the command line (undefined: not given; an explicit false overrides the files). */
export type CliOverrides = Partial<Record<OptionKey, string | boolean>>;

const CLI_FLAGS: Partial<Record<OptionKey, string>> = {
  connection: '--database-connection',
  debug: '--debug',
  verbose: '--verbose',
  logFile: '--log-file',
  logDir: '--log-dir',
  useJson: '--use-json',
  useSyslog: '--use-syslog',
  syslogLogFacility: '--syslog-log-facility',
  logDateFormat: '--log-date-format',
  logConfigAppend: '--log-config-append',
  watchLogFile: '--watch-log-file',
  useJournal: '--use-journal',
  useEventlog: '--use-eventlog',
};

const ALL = Object.values(OPTIONS) as OptDef[];

/** Reads the files and returns `read(opt)`: the winning value of an option, or undefined if unset. */
export function layerOptions(inputs: LayerInputs): (opt: OptDef) => RawValue | undefined {
  const { paths, env, cli, warnings } = inputs;
  const load = new Load({});
  const origins: Map<string, Origin>[] = [];
  const addLayer = (name: string, layer: Layer, origin: Map<string, Origin>): void => {
    load.addConfig(name, layer);
    origins.push(origin);
  };

  // 1. defaults
  const defaults: Layer = {};
  const defaultOrigins = new Map<string, Origin>();
  for (const opt of ALL) {
    if (opt.default === undefined) continue;
    (defaults[opt.group] ??= {})[opt.name] = opt.default;
    defaultOrigins.set(id(opt.group, opt.name), { kind: 'default' });
  }
  addLayer('defaults', defaults, defaultOrigins);

  // 2. files
  const seenDeprecated = new Set<string>();
  for (const path of paths) {
    const { ini, mode } = readConfigFile(path);
    if (mode & 0o004) {
      warnings.push(
        `config file ${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and may hold ` +
          `passwords; restrict it: chmod o-r ${path}`,
      );
    }
    const [layer, origin] = fileLayer(ini);
    for (const opt of ALL) {
      const o = origin.get(id(opt.group, opt.name));
      if (o?.kind !== 'file' || (o.group === opt.group && o.key === opt.name)) continue;
      if (seenDeprecated.has(id(o.group, o.key))) continue;
      seenDeprecated.add(id(o.group, o.key));
      warnings.push(
        `Option "${o.key}" from group "${o.group}" is deprecated. Use option "${opt.name}" from group ` +
          `"${opt.group}". (${o.file}:${o.line})`,
      );
    }
    addLayer(path, layer, origin);
  }

  // 3. environment
  const envLayer: Layer = {};
  const envOrigins = new Map<string, Origin>();
  for (const opt of ALL) {
    const name = envName(opt.group, opt.name);
    const v = env[name];
    if (v === undefined) continue;
    (envLayer[opt.group] ??= {})[opt.name] = v;
    envOrigins.set(id(opt.group, opt.name), { kind: 'env', name });
  }
  addLayer('environment', envLayer, envOrigins);

  // 4. command line
  const cliLayer: Layer = {};
  const cliOrigins = new Map<string, Origin>();
  for (const [key, value] of Object.entries(cli) as [OptionKey, string | boolean | undefined][]) {
    const opt: OptDef | undefined = OPTIONS[key];
    if (value === undefined || !opt) continue;
    (cliLayer[opt.group] ??= {})[opt.name] = String(value);
    cliOrigins.set(id(opt.group, opt.name), { kind: 'cli', flag: CLI_FLAGS[key] ?? key });
  }
  addLayer('command line', cliLayer, cliOrigins);

  // Resolution over the merged layers.
  const merged = load.config as Layer;
  const sources = load.getSources();
  const known = new Set(ALL.map((o) => id(o.group, o.name)));
  const rawValue = (group: string, key: string): string | undefined =>
    Object.hasOwn(merged, group) && Object.hasOwn(merged[group]!, key) ? merged[group]![key] : undefined;
  const originOf = (group: string, key: string): Origin | undefined => {
    for (let i = sources.length - 1; i >= 0; i--) {
      const parsed = sources[i]!.parsed as Layer;
      if (Object.hasOwn(parsed, group) && Object.hasOwn(parsed[group]!, key)) return origins[i]!.get(id(group, key));
    }
    return undefined;
  };
  const lookup = (group: string, key: string): string | undefined => {
    if (UNSAFE.has(group) || UNSAFE.has(key)) return undefined;
    if (known.has(id(group, key))) return rawValue(group, key) ?? '';
    return env[envName(group, key)] ?? rawValue(group, key);
  };

  const read = (opt: OptDef): RawValue | undefined => {
    const text = rawValue(opt.group, opt.name);
    const origin = originOf(opt.group, opt.name);
    if (text === undefined || !origin) return undefined;
    if (origin.kind !== 'file' && origin.kind !== 'env') return { text, origin };
    try {
      return { text: substitute(text, opt.group, lookup), origin };
    } catch (e) {
      if (!(e instanceof SubstitutionError)) throw e;
      throw new ConfigError(`${where(origin)}: ${substitutionProblem(opt, origin, e)}`);
    }
  };
  return read;
}

/** One file as a layer: every option (last value wins), our options under their current names. */
function fileLayer(ini: OsloIni): [Layer, Map<string, Origin>] {
  const layer: Layer = {};
  const origin = new Map<string, Origin>();
  for (const [group, options] of ini.groups) {
    if (UNSAFE.has(group)) continue;
    for (const [key, entries] of options) {
      if (UNSAFE.has(key)) continue;
      const e = entries[entries.length - 1]!;
      (layer[group] ??= {})[key] = e.value;
      origin.set(id(group, key), { kind: 'file', file: ini.file, line: e.line, group, key });
    }
  }
  for (const opt of ALL) {
    for (const [g, k] of [[opt.group, opt.name] as const, ...(opt.deprecated ?? [])]) {
      const e = lastEntry(ini, g, k);
      if (!e) continue;
      (layer[opt.group] ??= {})[opt.name] = e.value;
      origin.set(id(opt.group, opt.name), { kind: 'file', file: ini.file, line: e.line, group: g, key: k });
      break;
    }
  }
  return [layer, origin];
}

function id(group: string, key: string): string {
  return `${group}\u0000${key}`;
}

/** The option as the user wrote it: a deprecated name in a file is named as such. */
export function label(opt: OptDef, o?: Origin): string {
  return o?.kind === 'file' ? `[${o.group}] ${o.key}` : `[${opt.group}] ${opt.name}`;
}

export function where(o: Origin): string {
  switch (o.kind) {
    case 'file':
      return `${o.file}:${o.line}`;
    case 'env':
      return `environment variable ${o.name}`;
    case 'cli':
      return o.flag;
    default:
      return 'built-in default';
  }
}

export function sourceLabel(o: Origin): string {
  switch (o.kind) {
    case 'file':
      return `${o.file}:[${o.group}] ${o.key}`;
    case 'env':
      return `env ${o.name}`;
    case 'cli':
      return o.flag;
    default:
      return 'default';
  }
}

function substitutionProblem(opt: OptDef, o: Origin, e: SubstitutionError): string {
  const literal = "write '$$' for a literal '$'";
  const name = label(opt, o);
  if (opt.secret) {
    // The name after '$' may be part of a password: never quote it.
    return e.loop
      ? `${name} contains a '$' reference that loops; ${literal}`
      : `${name} contains a '$' that oslo.config substitutes, and no option of that name is set; ${literal}`;
  }
  return e.loop
    ? `${name}: $${e.reference} refers back to itself; break the loop or ${literal}`
    : `${name} refers to $${e.reference}, which no config file sets; set it, or ${literal}`;
}

