/**
 * PostgreSQL driver settings (pg): the connection options a URL gives (host, user, connect
 * timeout, sslmode/sslrootcert), for the bare driver and for TypeORM, and the driver's results
 * reduced to RawResult (`?` placeholders become `$n`). Used by the adapter (postgres.ts) only.
 */
import { readFileSync } from 'node:fs';
import { InvalidUrlError } from '../errors.js';
import type { Row } from '../script/contract.js';
import { toPositional } from '../sql.js';
import type { ParsedUrl } from '../url.js';
import { connectTimeoutMs } from './helpers.js';
import type { ConnectOptions, RawQuery } from './contract.js';

/** libpq's sslmode (SQLAlchemy passes it through): require = encrypted; verify-* = checked too. */
function ssl(u: ParsedUrl): { rejectUnauthorized: boolean; ca?: string } | undefined {
  const mode = u.query.sslmode;
  if (!mode || mode === 'disable' || mode === 'allow' || mode === 'prefer') return undefined;
  const ca = u.query.sslrootcert ? readFileSync(u.query.sslrootcert, 'utf8') : undefined;
  if (mode === 'require') return { rejectUnauthorized: false, ca };
  if (mode === 'verify-ca' || mode === 'verify-full') return { rejectUnauthorized: true, ca };
  throw new InvalidUrlError(`unknown sslmode '${mode}': use disable, require, verify-ca or verify-full`);
}

function options(u: ParsedUrl, o: ConnectOptions) {
  return {
    host: u.query.host ?? u.host ?? 'localhost',
    port: u.port ?? 5432,
    user: u.username ?? o.defaultUser ?? 'postgres',
    password: u.password,
    database: u.database ?? u.username ?? 'postgres',
    application_name: u.query.application_name ?? o.applicationName,
    connectionTimeoutMillis: connectTimeoutMs(u),
    keepAlive: true,
    ssl: ssl(u),
  };
}

type Client = { query(sql: string, params: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }> };

export async function connectPostgres(u: ParsedUrl, o: ConnectOptions) {
  const pg = (await import('pg')).default;
  const client = new pg.Client(options(u, o));
  client.on('error', () => undefined); // a dropped connection surfaces on the next query
  await client.connect();
  return { raw: wrapPostgres(client), close: () => client.end().catch(() => undefined) };
}

export function postgresTypeormOptions(u: ParsedUrl, o: ConnectOptions) {
  const p = options(u, o);
  return {
    type: 'postgres' as const,
    host: p.host,
    port: p.port,
    username: p.user,
    password: p.password,
    database: p.database,
    applicationName: p.application_name,
    connectTimeoutMS: p.connectionTimeoutMillis,
    ssl: p.ssl,
    extra: { keepAlive: true },
    poolSize: 1,
  };
}

export function wrapPostgres(client: unknown): RawQuery {
  return async (sql, params) => {
    const res = await (client as Client).query(params.length ? toPositional(sql) : sql, params as unknown[]);
    return { rows: res.rows ?? [], affected: res.rowCount ?? 0 };
  };
}
