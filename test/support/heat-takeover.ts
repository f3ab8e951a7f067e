/**
 * Real Heat 6.0.0's crash points as data (test/fixtures/heat-takeover/<dialect>/, made by
 * scripts/heat-harness/takeover.py), and the replay that rebuilds any of them without Python:
 *
 *   const f = loadTakeover('mysql')          // seed and 34 -> 71 statement logs, real Heat's end state, kill hashes
 *   const r = new Replayer(db, f.header.session)
 *   await r.apply(f.seed); await r.apply(upto(f.log, k)); await r.close()   // = Heat SIGKILLed after write k
 *   await snapshot(db)                        // catalog facts + canonical rows: what the database is
 *
 * Replay rules (scripts/heat-harness/replay.py is the same): one connection per recorded connection,
 * not autocommit (MySQL autocommit=0; PostgreSQL BEGIN before the first statement after a
 * commit/rollback, as psycopg2 does), the session settings first; writes sent verbatim, reads
 * skipped, `tx` entries commit/roll back that connection; close() rolls back whatever is open (what
 * the server does for a client that died).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MYSQL_SERVER, PG_SERVER, serverQuery } from './db.js';
import { liveCatalog, type CatalogDialect } from './heat-catalog.js';
import { canonicalRows } from './heat-rows.js';

export type TakeoverDialect = 'mysql' | 'postgresql';

export const TAKEOVER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/heat-takeover');

export interface Entry {
  readonly i: number;
  readonly step: number | null;
  readonly conn: number;
  readonly write?: boolean;
  readonly k?: number;
  readonly sql?: string;
  readonly tx?: 'commit' | 'rollback';
  readonly error?: string;
}

export interface Kill {
  readonly k: number;
  readonly step: number;
  /** sha256 of the state real Heat left when killed after write k (catalog facts + canonical rows); null when not recorded. */
  readonly sha256: string | null;
  readonly verdict: string;
}

export interface Takeover {
  readonly dialect: TakeoverDialect;
  readonly header: { readonly session: readonly string[] };
  readonly seed: readonly Entry[];
  readonly log: readonly Entry[];
  /** Canonical rows after real Heat's uninterrupted run to 71. */
  readonly end: string;
  readonly kills: readonly Kill[];
}

function readLog(path: string): { header: { session: string[] }; entries: Entry[] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  return { header: JSON.parse(lines[0]!).header, entries: lines.slice(1).map((l) => JSON.parse(l) as Entry) };
}

export function loadTakeover(dialect: TakeoverDialect): Takeover {
  const dir = join(TAKEOVER_DIR, dialect);
  const seed = readLog(join(dir, 'seed.jsonl'));
  const log = readLog(join(dir, 'log.jsonl'));
  const kills = readFileSync(join(dir, 'kills.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [k, step, sha, verdict] = l.split('\t');
      return { k: Number(k), step: Number(step), sha256: sha === '-' ? null : sha!, verdict: verdict! };
    });
  return { dialect, header: seed.header, seed: seed.entries, log: log.entries, end: readFileSync(join(dir, 'end-71.tsv'), 'utf8'), kills };
}

/** Entries through write k and the commit/rollback entries right after it (a kill after write k). */
export function upto(entries: readonly Entry[], k: number): Entry[] {
  const at = entries.findIndex((e) => e.k === k);
  if (at < 0) throw new Error(`the log has no write ${k}`);
  let end = at + 1;
  while (end < entries.length && entries[end]!.tx) end++;
  return entries.slice(0, end);
}

interface Conn {
  query(sql: string): Promise<void>;
  end(): Promise<void>;
}

async function open(dialect: TakeoverDialect, database: string): Promise<Conn> {
  if (dialect === 'mysql') {
    const mysql = await import('mysql2/promise');
    const u = new URL(MYSQL_SERVER.replace(/^(mysql|mariadb)(\+\w+)?:/, 'http:'));
    const c = await mysql.createConnection({
      host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password), database,
    });
    await c.query('SET autocommit=0');
    return { query: async (sql) => void (await c.query(sql)), end: () => c.end() };
  }
  const pg = (await import('pg')).default;
  const u = new URL(PG_SERVER.replace(/^postgres(ql)?(\+\w+)?:/, 'http:'));
  const c = new pg.Client({
    host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password), database,
  });
  await c.connect();
  return { query: async (sql) => void (await c.query(sql)), end: () => c.end() };
}

/** A replay in progress on one database (see the file comment). */
export class Replayer {
  private readonly conns = new Map<number, Conn>();
  private readonly inTx = new Set<number>();
  constructor(
    private readonly db: { dialect: TakeoverDialect; name: string },
    private readonly session: readonly string[],
  ) {}

  private async conn(n: number): Promise<Conn> {
    let c = this.conns.get(n);
    if (!c) {
      c = await open(this.db.dialect, this.db.name);
      this.conns.set(n, c);
      for (const s of this.session) await c.query(s);
    }
    return c;
  }

  async apply(entries: readonly Entry[]): Promise<void> {
    const pg = this.db.dialect === 'postgresql';
    for (const e of entries) {
      if (e.tx) {
        const c = this.conns.get(e.conn);
        if (c && (!pg || this.inTx.has(e.conn))) await c.query(e.tx === 'commit' ? 'COMMIT' : 'ROLLBACK');
        this.inTx.delete(e.conn);
        continue;
      }
      if (!e.write) continue;
      const c = await this.conn(e.conn);
      if (pg && !this.inTx.has(e.conn)) await c.query('BEGIN');
      this.inTx.add(e.conn);
      try {
        await c.query(e.sql!);
      } catch (err) {
        if (e.error === undefined) throw new Error(`replay of entry ${e.i} (write ${e.k}, step ${e.step}) failed: ${(err as Error).message}`);
      }
    }
  }

  /** Recorded connections with writes not committed yet (a clone now would not hold them). */
  get openTransactions(): number {
    return this.inTx.size;
  }

  /** Rolls back what is open and closes every connection. */
  async close(): Promise<void> {
    for (const [n, c] of this.conns) {
      try {
        if (this.db.dialect === 'mysql' || this.inTx.has(n)) await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    }
    this.conns.clear();
    this.inTx.clear();
  }
}

/** Replays `entries` on a database in one go. */
export async function replay(db: { dialect: TakeoverDialect; name: string }, session: readonly string[], entries: readonly Entry[]): Promise<void> {
  const r = new Replayer(db, session);
  try {
    await r.apply(entries);
  } finally {
    await r.close();
  }
}

/** What a database is: its catalog facts and canonical rows (takeover.py `snapshot`, the same text). */
export async function snapshot(db: { dialect: CatalogDialect; name: string; file?: string }): Promise<string> {
  const facts = await liveCatalog(db);
  return `${facts.map((l) => `${l}\n`).join('')}${await canonicalRows(db)}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A copy of database `from` named `to` (created here), the same for every snapshot fact: PostgreSQL
 * `CREATE DATABASE to TEMPLATE from` (nobody may be connected to `from`); MariaDB/MySQL: each table
 * created from its own SHOW CREATE TABLE text (columns, keys, named FKs, engine, charset, collation
 * and the AUTO_INCREMENT counter) with foreign-key checks off, then its rows copied, in one round
 * trip. `copyScript` reads `from`'s tables once; the script is reused for every copy of an unchanged
 * `from`. The CI test checks copies against the state real Heat left (kills.tsv).
 */
export async function copyScript(dialect: TakeoverDialect, from: string): Promise<(to: string) => string> {
  if (dialect === 'postgresql') return () => '';
  const tables = (await serverQuery('mysql', "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'", [], from)).map((r) => String(Object.values(r)[0]));
  const ddl = tables.length
    ? await serverQuery('mysql', tables.map((t) => `SHOW CREATE TABLE \`${t}\``).join(';'), [], from)
    : [];
  // one result set per statement: mysql2 returns an array of row arrays
  const texts = (ddl as unknown as Record<string, unknown>[][]).map((rs) => String((Array.isArray(rs) ? rs[0]! : rs)['Create Table']));
  return (to) =>
    ['SET FOREIGN_KEY_CHECKS=0', ...tables.flatMap((t, i) => [texts[i]!, `INSERT INTO \`${to}\`.\`${t}\` SELECT * FROM \`${from}\`.\`${t}\``]), 'SET FOREIGN_KEY_CHECKS=1'].join(';\n');
}

export async function cloneDatabase(dialect: TakeoverDialect, from: string, to: string, script?: (to: string) => string): Promise<void> {
  if (dialect === 'postgresql') {
    await serverQuery('postgresql', `CREATE DATABASE "${to}" TEMPLATE "${from}"`);
    return;
  }
  const make = script ?? (await copyScript(dialect, from));
  await serverQuery('mysql', `CREATE DATABASE \`${to}\``);
  await serverQuery('mysql', make(to), [], to);
}
