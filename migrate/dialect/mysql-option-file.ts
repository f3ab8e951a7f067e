/**
 * MySQL option files named by a URL, as TripleO writes it:
 *
 *   mysql+pymysql://heat:PW@db/heat?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo
 *
 * PyMySQL (and so Heat) reads that file and takes from it what the URL does not say: host, port,
 * user, password, socket, database, default-character-set, bind-address and the TLS settings
 * (ssl, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-password, ssl-cipher, ssl-verify-server-cert,
 * ssl-mode). Ignoring it would lose the TLS settings and connect in plain text. The rules:
 *
 * - `read_default_group` without `read_default_file` reads `/etc/my.cnf`; a file without a group
 *   reads `[client]` (PyMySQL). With a group, `[client]` is read first and the group's values win
 *   (the MySQL client library's order; PyMySQL reads the group only — a superset).
 * - A parameter given in the URL wins over the file, key by key (PyMySQL's `_config`): an empty
 *   URL value counts as not given, as in PyMySQL.
 * - Syntax: `[group]`, `key = value`, a bare `key` (= on), whole-line `#`/`;` comments, values
 *   in matching quotes unquoted; `#` inside a value is part of it (PyMySQL's configparser; a
 *   password may hold one). `-` and `_` in a key are the same, `loose-` is dropped (MySQL).
 *   `!include FILE` and `!includedir DIR` (its `*.cnf`, by name) as the MySQL client reads them.
 * - Unlike PyMySQL, a file that is missing or unreadable (also an included one) is an error
 *   naming it: never a silent plain-text connection.
 *
 * The result is the URL as PyMySQL would see it after reading the file: a ParsedUrl whose fields
 * and query parameters hold the merged values (mysql-driver.ts turns them into driver options). The
 * file system comes in as {@link OptionFileIo}: the driver passes node:fs, the tests a map.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidUrlError } from '../errors.js';
import type { ParsedUrl } from '../url.js';

export interface OptionFileIo {
  /** The file's text; throws the system error (code ENOENT, EACCES, EISDIR...). */
  readFile(path: string): string;
  /** The names in a directory; throws the system error. */
  listDir(path: string): string[];
  readonly homeDir: string;
}

/** group -> key -> value; `true` for a bare key. */
export type OptionGroups = Map<string, Map<string, string | true>>;

/** Where PyMySQL looks when only `read_default_group` is given. */
export const DEFAULT_OPTION_FILE = '/etc/my.cnf';
const MAX_INCLUDE_DEPTH = 10;

/** The option-file keys we honour and the URL query parameter each one fills. */
const QUERY_KEYS: Readonly<Record<string, string>> = {
  socket: 'unix_socket',
  'default-character-set': 'charset',
  'bind-address': 'bind_address',
  ssl: 'ssl',
  'ssl-ca': 'ssl_ca',
  'ssl-capath': 'ssl_capath',
  'ssl-cert': 'ssl_cert',
  'ssl-key': 'ssl_key',
  'ssl-password': 'ssl_key_password',
  'ssl-cipher': 'ssl_cipher',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'ENOTDIR') return 'not a directory';
  return code ?? String((e as Error)?.message ?? e);
}

class OptionFileError extends Error {}

/** Reads one option file (and what it includes) into `groups`; later values win. */
function readInto(path: string, io: OptionFileIo, groups: OptionGroups, chain: readonly string[]): void {
  const via = chain.length ? ` (included by ${chain[chain.length - 1]})` : '';
  if (chain.length > MAX_INCLUDE_DEPTH) throw new OptionFileError(`${path}${via}: more than ${MAX_INCLUDE_DEPTH} nested !include (a loop?)`);
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    throw new OptionFileError(`cannot read ${path}${via}: ${reason(e)}`);
  }
  let group: Map<string, string | true> | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const directive = /^!(include|includedir)\s+(.+)$/.exec(line);
    if (directive) {
      const target = resolve(dirname(path), directive[2]!.trim());
      const inner = [...chain, path];
      if (directive[1] === 'include') return readInto(target, io, groups, inner);
      let names: string[];
      try {
        names = io.listDir(target);
      } catch (e) {
        throw new OptionFileError(`cannot read the directory ${target} (!includedir in ${path}): ${reason(e)}`);
      }
      for (const n of names.filter((x) => x.endsWith('.cnf')).sort()) readInto(join(target, n), io, groups, inner);
      return;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      group = groups.get(name) ?? new Map();
      groups.set(name, group);
      return;
    }
    if (!group) throw new OptionFileError(`${path} line ${i + 1}: an option before any [group]; put it under [client] or the group the URL names`);
    const eq = line.indexOf('=');
    const key = (eq >= 0 ? line.slice(0, eq) : line).trim().toLowerCase().replace(/_/g, '-').replace(/^loose-/, '');
    group.set(key, eq >= 0 ? unquote(line.slice(eq + 1).trim()) : true);
  });
}

/** PyMySQL's Parser: a value in matching single or double quotes loses them. */
function unquote(v: string): string {
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] ? v.slice(1, -1) : v;
}

/** Every group of an option file and of the files it includes. Throws a one-line message naming the file. */
export function readOptionFile(path: string, io: OptionFileIo): OptionGroups {
  const groups: OptionGroups = new Map();
  readInto(path, io, groups, []);
  return groups;
}

const TRUE = /^(1|true|yes|on)$/i;

/**
 * The URL as PyMySQL sees it once its option file is read (the URL itself when it names none).
 * Throws InvalidUrlError (one line, the file's path, the URL masked) when the file cannot be read.
 */
export function applyOptionFile(u: ParsedUrl, io: OptionFileIo): ParsedUrl {
  const q = u.query;
  if (!q.read_default_file && !q.read_default_group) return u;
  let file = q.read_default_file || DEFAULT_OPTION_FILE;
  if (file === '~' || file.startsWith('~/')) file = join(io.homeDir, file.slice(1));
  if (!isAbsolute(file)) file = resolve(file);
  const group = q.read_default_group || 'client';
  let groups: OptionGroups;
  try {
    groups = readOptionFile(file, io);
  } catch (e) {
    if (!(e instanceof OptionFileError)) throw e;
    throw new InvalidUrlError(
      `MySQL option file (read_default_file of ${u.safe}): ${e.message}; fix the path or make the file readable by this user`,
    );
  }
  const o = new Map([...(groups.get('client') ?? []), ...(group !== 'client' ? (groups.get(group) ?? []) : [])]);
  const text = (k: string): string | undefined => {
    const v = o.get(k);
    return v === true ? 'true' : v || undefined;
  };
  const query: Record<string, string> = { ...q };
  const fill = (k: string, v: string | undefined) => {
    if (v !== undefined && !query[k]) query[k] = v;
  };
  for (const [key, param] of Object.entries(QUERY_KEYS)) fill(param, text(key));
  // ssl-verify-server-cert: check the server's certificate and its name (MySQL client semantics).
  const verify = o.get('ssl-verify-server-cert');
  if (verify !== undefined) {
    const on = verify === true || TRUE.test(verify) ? 'true' : 'false';
    fill('ssl_verify_cert', on);
    fill('ssl_verify_identity', on);
  }
  // ssl-mode (MySQL 5.7+ clients): REQUIRED and the VERIFY_* modes turn TLS on.
  const mode = text('ssl-mode')?.toUpperCase();
  if (mode === 'REQUIRED' || mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY') fill('ssl', 'true');
  if (mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY') fill('ssl_verify_cert', 'true');
  if (mode === 'VERIFY_IDENTITY') fill('ssl_verify_identity', 'true');
  let port = u.port;
  const portText = text('port');
  if (!port && portText) {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw new InvalidUrlError(`MySQL option file ${file} (read_default_file of ${u.safe}): [${group}] port = '${portText}' is not a port number`);
    }
    port = Number(portText) || undefined;
  }
  return {
    ...u,
    username: u.username || text('user'),
    password: u.password || text('password'),
    host: u.host || text('host'),
    port,
    database: u.database || text('database'),
    query,
  };
}
