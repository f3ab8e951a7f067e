/**
 * migrate.cfg as Python's ConfigParser reads it: sections, case-insensitive keys, `=` or `:`,
 * indented continuation lines, whole-line `#`/`;` comments, and BasicInterpolation (`%%`, `%(key)s`).
 */
import { ConfigFileError } from './errors.js';

/** Python ConfigParser (BasicInterpolation) reading of one file: sections -> lower-cased keys. */
export function parsePythonIni(text: string, file: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (/^\s*([#;].*)?$/.test(line)) {
      lastKey = undefined;
      return;
    }
    if (/^\s/.test(line) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)}\n${line.trim()}`);
      return;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      const name = sec[1]!;
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = undefined;
      return;
    }
    if (!current) {
      throw new ConfigFileError(
        `${file}:${i + 1}: file contains no section headers (expected [db_settings] first); fix or recreate migrate.cfg`,
      );
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) {
      throw new ConfigFileError(`${file}:${i + 1}: cannot parse '${line.trim()}' (expected key = value); fix migrate.cfg`);
    }
    lastKey = kv[1]!.trim().toLowerCase();
    current.set(lastKey, kv[2]!.trim());
  });
  return sections;
}

/** ConfigParser's BasicInterpolation: `%%` -> `%`, `%(key)s` from the same section. */
export function interpolate(value: string, section: Map<string, string>, key: string, file: string, depth = 0): string {
  if (depth > 10) throw new ConfigFileError(`${file}: interpolation too deep for '${key}'`);
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const next = value[i + 1];
    if (next === '%') {
      out += '%';
      i++;
      continue;
    }
    const ref = /^\(([^)]+)\)s/.exec(value.slice(i + 1));
    if (ref) {
      const name = ref[1]!.toLowerCase();
      const target = section.get(name);
      if (target === undefined) {
        throw new ConfigFileError(`${file}: '${key}' refers to %(${ref[1]})s, which is not set in [db_settings]`);
      }
      out += interpolate(target, section, name, file, depth + 1);
      i += ref[0].length;
      continue;
    }
    throw new ConfigFileError(
      `${file}: '%' must be followed by '%' or '(name)s' in the value of '${key}' (write a literal % as %%)`,
    );
  }
  return out;
}
