/**
 * Test databases on the real servers. Every test creates its own uniquely named database and drops
 * it at the end; nothing depends on leftovers.
 *
 *   const db = await createTestDatabase('mysql');   // or 'postgresql' | 'sqlite'
 *   db.url        // SQLAlchemy-style URL of the new database, e.g. mysql://root@127.0.0.1:3306/t_ab12cd
 *   await db.query('SELECT 1')  // a short-lived raw connection (driver directly, no TypeORM)
 *   await db.drop()
 *
 * `forEachDialect(t => ...)` / `dialectsAvailable()` tell which servers are reachable. With CI=true an
 * unreachable server is an error (the test fails); otherwise the test is skipped with a reason.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestDialect = 'mysql' | 'postgresql' | 'sqlite';
export const ALL_DIALECTS: readonly TestDialect[] = ['mysql', 'postgresql', 'sqlite'];

export const MYSQL_SERVER = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const PG_SERVER = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';

export interface TestDatabase {
  readonly dialect: TestDialect;
  readonly name: string;
  /** SQLAlchemy-style URL of the database. */
  readonly url: string;
  /** For SQLite: the database file. */
  readonly file?: string;
  /** Runs one statement on a fresh connection; returns rows. `?` placeholders on every dialect. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

function uniqueName(): string {
  return `t_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function toPgParams(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function mysqlConfig(server: string, database?: string) {
  const u = new URL(server.replace(/^mysql(\+\w+)?:/, 'http:').replace(/^mariadb(\+\w+)?:/, 'http:'));
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database,
    multipleStatements: true,
  };
}

function pgConfig(server: string, database?: string) {
  const u = new URL(server.replace(/^postgres(ql)?(\+\w+)?:/, 'http:'));
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password || ''),
    database: database ?? 'postgres',
  };
}

/** Runs statements against a server (or a database on it) on one short-lived connection. */
export async function serverQuery(
  dialect: 'mysql' | 'postgresql',
  sql: string,
  params: unknown[] = [],
  database?: string,
): Promise<Record<string, unknown>[]> {
  if (dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection(mysqlConfig(MYSQL_SERVER, database));
    try {
      const [rows] = await conn.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await conn.end();
    }
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client(pgConfig(PG_SERVER, database));
  await client.connect();
  try {
    const res = await client.query(toPgParams(sql), params);
    return res.rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const reachable = new Map<TestDialect, Promise<string | null>>();

/** null when the dialect's server answers, else the reason it does not. */
export function unreachableReason(dialect: TestDialect): Promise<string | null> {
  if (dialect === 'sqlite') return Promise.resolve(null);
  let p = reachable.get(dialect);
  if (!p) {
    p = serverQuery(dialect, 'SELECT 1').then(
      () => null,
      (e: unknown) => `${dialect} server not reachable: ${(e as Error).message}`,
    );
    reachable.set(dialect, p);
  }
  return p;
}

/**
 * Options for node:test's `test()`/`describe()`: `{ skip: reason }` when the server is down and CI is
 * not set. Under CI=true it never skips: the test then fails when it connects.
 */
export async function skipUnlessReachable(dialect: TestDialect): Promise<{ skip?: string }> {
  const reason = await unreachableReason(dialect);
  if (!reason || process.env.CI === 'true') return {};
  return { skip: reason };
}

export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  const name = uniqueName();
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-test-'));
    const file = join(dir, `${name}.sqlite`);
    return {
      dialect,
      name,
      file,
      url: `sqlite:///${file}`,
      async query(sql, params = []) {
        const Database = (await import('better-sqlite3')).default;
        const db = new Database(file);
        try {
          const stmt = db.prepare(sql);
          return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
        } finally {
          db.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (dialect === 'mysql') {
    await serverQuery('mysql', `CREATE DATABASE \`${name}\``);
    return {
      dialect,
      name,
      url: `${MYSQL_SERVER}/${name}`,
      query: (sql, params = []) => serverQuery('mysql', sql, params, name),
      async drop() {
        await serverQuery('mysql', `DROP DATABASE IF EXISTS \`${name}\``);
      },
    };
  }
  await serverQuery('postgresql', `CREATE DATABASE "${name}"`);
  return {
    dialect,
    name,
    url: `${PG_SERVER}/${name}`,
    query: (sql, params = []) => serverQuery('postgresql', sql, params, name),
    async drop() {
      await serverQuery('postgresql', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * Runs `fn` on a fresh database of `dialect` and drops it afterwards; skips the test (with the
 * reason) when the server is unreachable and CI is not set.
 */
export async function withTestDatabase(
  t: { skip(reason?: string): void },
  dialect: TestDialect,
  fn: (db: TestDatabase) => Promise<void>,
): Promise<void> {
  const skip = await skipUnlessReachable(dialect);
  if (skip.skip) return t.skip(skip.skip);
  const db = await createTestDatabase(dialect);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

/**
 * One `describe` per dialect (MariaDB, PostgreSQL, SQLite; SQLite always runs): `body` declares
 * the tests of that dialect. Under CI=true an unreachable server fails its tests instead of skipping.
 */
export async function forEachDialect(title: string, body: (dialect: TestDialect) => void | Promise<void>): Promise<void> {
  const { describe } = await import('node:test');
  for (const dialect of ALL_DIALECTS) {
    const skip = await skipUnlessReachable(dialect);
    await describe(`${title} on ${dialect}`, skip, () => body(dialect));
  }
}
