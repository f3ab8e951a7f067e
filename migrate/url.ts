/**
 * SQLAlchemy-style connection URLs, as they appear in existing configs (heat.conf, manage.py):
 *
 *   mysql://u:p@host:3306/db?charset=utf8     mysql+pymysql://  mysql+mysqldb://  mariadb+pymysql://
 *   postgresql://u:p@host/db                  postgresql+psycopg2://
 *   sqlite:///relative.db   sqlite:////absolute.db   sqlite://  (in memory)
 *
 * Every URL the tool echoes goes through {@link maskPassword}.
 */
import type { DialectName } from './script/contract.js';
import { InvalidUrlError } from './errors.js';

export interface ParsedUrl {
  /** The dialect used for script selection and SQL: MariaDB is `mysql`. */
  readonly dialect: DialectName;
  /** The scheme as written (`mysql+pymysql`), for messages. */
  readonly scheme: string;
  readonly username?: string;
  readonly password?: string;
  readonly host?: string;
  readonly port?: number;
  /** Database name; for SQLite the file path (`:memory:` for `sqlite://`). */
  readonly database?: string;
  readonly query: Readonly<Record<string, string>>;
  /** Query parameters we do not use (they are ignored, with a warning by the caller). */
  readonly ignoredParams: readonly string[];
  /** The URL as given, with the password masked: the only form that goes into a message. */
  readonly safe: string;
}

const DIALECTS: Record<string, DialectName> = {
  mysql: 'mysql',
  mariadb: 'mysql',
  postgresql: 'postgresql',
  postgres: 'postgresql',
  sqlite: 'sqlite',
};

/** Query parameters honoured per dialect. */
const KNOWN_PARAMS: Record<DialectName, readonly string[]> = {
  mysql: [
    'charset', 'unix_socket', 'connect_timeout', 'bind_address',
    'ssl', 'ssl_ca', 'ssl_capath', 'ssl_cert', 'ssl_key', 'ssl_key_password', 'ssl_cipher', 'ssl_verify_cert', 'ssl_verify_identity',
    // A MySQL option file (TripleO): dialect/mysql-option-file.ts.
    'read_default_file', 'read_default_group',
  ],
  postgresql: ['connect_timeout', 'sslmode', 'sslrootcert', 'host', 'application_name'],
  sqlite: ['timeout'],
};

/**
 * The DBAPI drivers SQLAlchemy ships for each dialect (`mysql+pymysql`). We talk to the server with
 * our own drivers, but an unknown one is refused as SQLAlchemy (and so Heat's own services) would.
 */
const DRIVERS: Record<string, readonly string[]> = {
  mysql: ['mysqldb', 'pymysql', 'mysqlconnector', 'mariadbconnector', 'cymysql', 'pyodbc', 'asyncmy', 'aiomysql'],
  mariadb: ['mysqldb', 'pymysql', 'mysqlconnector', 'mariadbconnector', 'cymysql', 'pyodbc', 'asyncmy', 'aiomysql'],
  postgresql: ['psycopg2', 'psycopg', 'pg8000', 'asyncpg', 'psycopg2cffi'],
  postgres: ['psycopg2', 'psycopg', 'pg8000', 'asyncpg', 'psycopg2cffi'],
  sqlite: ['pysqlite', 'aiosqlite', 'pysqlcipher'],
};

/** SQLAlchemy's NoSuchModuleError for `dialect+driver` with a driver it does not know. */
function checkDriver(scheme: string, base: string, url: string): void {
  const parts = scheme.split('+');
  if (parts.length === 1) return;
  const driver = parts.slice(1).join('+');
  const known = DRIVERS[base] ?? [];
  if (parts.length === 2 && known.includes(driver)) return;
  throw new InvalidUrlError(
    `Can't load plugin: sqlalchemy.dialects:${base}.${driver} (unknown driver '${driver}' in '${maskPassword(url)}'; ` +
      `${base} drivers: ${known.join(', ')}; e.g. ${base}+${known[base.startsWith('mysql') || base === 'mariadb' ? 1 : 0]}://)`,
  );
}

/** Python's `urllib.parse.unquote`: invalid escapes are left as they are. */
function unquote(s: string): string {
  return s.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

const parsed = new Map<string, ParsedUrl>();

/** Parses a URL (each distinct text once per process: callers at every layer may ask again). */
export function parseUrl(url: string): ParsedUrl {
  let u = parsed.get(url);
  if (!u) parsed.set(url, (u = Object.freeze({ ...parse(url), safe: maskPassword(url) })));
  return u;
}

function parse(url: string): Omit<ParsedUrl, 'safe'> {
  const m = /^([A-Za-z][\w+]*):\/\/(.*)$/s.exec(url.trim());
  if (!m) {
    throw new InvalidUrlError(
      `Could not parse SQLAlchemy URL from string '${maskPassword(url)}': expected dialect://user:password@host/database`,
    );
  }
  const scheme = m[1]!.toLowerCase();
  const base = scheme.split('+')[0]!;
  const dialect = DIALECTS[base];
  if (!dialect) {
    throw new InvalidUrlError(
      `unsupported database scheme '${scheme}' in '${maskPassword(url)}': use mysql://, mariadb://, postgresql:// or sqlite://`,
    );
  }
  checkDriver(scheme, base, url);
  let rest = m[2]!;
  const query: Record<string, string> = {};
  // The query starts at the first '?' after the userinfo, so a raw '?' in a password works.
  const q = rest.indexOf('?', rest.lastIndexOf('@') + 1);
  if (q >= 0) {
    for (const part of rest.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const k = unquote(eq >= 0 ? part.slice(0, eq) : part);
      query[k] = unquote(eq >= 0 ? part.slice(eq + 1) : '');
    }
    rest = rest.slice(0, q);
  }
  const ignoredParams = Object.keys(query).filter((k) => !KNOWN_PARAMS[dialect].includes(k));
  if (dialect === 'sqlite') {
    // sqlite:// = memory; sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db
    if (rest === '' || rest === '/' || rest === '/:memory:') {
      return { dialect, scheme, database: ':memory:', query, ignoredParams };
    }
    if (!rest.startsWith('/')) {
      throw new InvalidUrlError(
        `Could not parse SQLAlchemy URL from string '${maskPassword(url)}': SQLite URLs are sqlite:///relative/path or sqlite:////absolute/path`,
      );
    }
    return { dialect, scheme, database: unquote(rest.slice(1)), query, ignoredParams };
  }
  // userinfo is everything before the last '@' of the authority+path part, so that an unencoded
  // '@', ':' or '/' in a password still works.
  let userinfo: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const slash = rest.indexOf('/');
  const hostport = slash >= 0 ? rest.slice(0, slash) : rest;
  const database = slash >= 0 ? unquote(rest.slice(slash + 1)) : undefined;
  let host: string | undefined;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(hostport);
  let portText: string | undefined;
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const colon = hostport.lastIndexOf(':');
    host = colon >= 0 ? hostport.slice(0, colon) : hostport;
    portText = colon >= 0 ? hostport.slice(colon + 1) : undefined;
  }
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw new InvalidUrlError(`invalid port '${portText}' in '${maskPassword(url)}': use host:port with a number`);
    }
    port = Number(portText);
  }
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const c = userinfo.indexOf(':');
    username = unquote(c >= 0 ? userinfo.slice(0, c) : userinfo);
    password = c >= 0 ? unquote(userinfo.slice(c + 1)) : undefined;
  }
  if (host !== undefined && /[\s/]/.test(host)) {
    throw new InvalidUrlError(`invalid host '${host}' in '${maskPassword(url)}'`);
  }
  return {
    dialect,
    scheme,
    username: username || undefined,
    password,
    host: host || undefined,
    port,
    database: database || undefined,
    query,
    ignoredParams,
  };
}

/** The URL with its password replaced by `***`; anything unparsable is masked defensively. */
export function maskPassword(url: string): string {
  const m = /^([A-Za-z][\w+]*:\/\/)(.*)$/s.exec(url);
  if (!m) {
    // Not scheme://...: mask anything between a user's ':' and the last '@' (mysql:/u:PW@h/db).
    return url.replace(/^([^@]*?[^:@/]:)(?!\/\/)([^@]*)@(?=[^@]*$)/s, '$1***@').replace(/^([^:]*:\/*[^:/@]*:)[^@]*@/s, '$1***@');
  }
  const body = m[2]!;
  const q = body.indexOf('?', body.lastIndexOf('@') + 1);
  const main = q >= 0 ? body.slice(0, q) : body;
  const tail = q >= 0 ? body.slice(q) : '';
  const at = main.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = main.slice(0, at);
  const c = userinfo.indexOf(':');
  if (c < 0) return url;
  return `${m[1]}${userinfo.slice(0, c)}:***${main.slice(at)}${tail}`;
}

/** Removes every occurrence of `secret` (and its percent-encoded form) from a message. */
export function redact(message: string, secret: string | undefined): string {
  if (!secret) return message;
  let out = message.split(secret).join('***');
  const enc = encodeURIComponent(secret);
  if (enc !== secret) out = out.split(enc).join('***');
  return out;
}
