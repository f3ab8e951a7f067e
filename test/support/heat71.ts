/**
 * Seeded Heat databases at schema 71 for the management-command tests:
 *
 *   await withHeat71('mysql', async (h) => {
 *     await h.insert('raw_template', { id: 1, template: '{}', environment: '{}' });
 *     await h.insert('stack', stackRow({ id: 's1', raw_template_id: 1, deleted_at: h.ts('2020-01-01 00:00:00') }));
 *     const r = await runHeat(['purge_deleted'], { url: h.url, env: { HEAT_MANAGE_NOW: '...' } });
 *   });
 *
 * The schema is built by the migration repository (Heat's own db_sync path), once per database.
 * Timestamps are written as Heat/SQLAlchemy writes them: `YYYY-MM-DD HH:MM:SS[.ffffff]` on the
 * servers, always six fraction digits on SQLite (where comparisons are textual).
 */
import { createTestDatabase, type TestDatabase, type TestDialect } from './db.js';
import { heatUpgrade, heatVersionControl } from './heat-run.js';

export interface Heat71 {
  readonly dialect: TestDialect;
  readonly db: TestDatabase;
  readonly url: string;
  /** A timestamp as Heat stores it on this backend. */
  ts(text: string): string;
  insert(table: string, row: Record<string, unknown>): Promise<void>;
  /** Many rows with the same columns, in multi-row INSERTs. */
  insertMany(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  rows(table: string, orderBy?: string): Promise<Record<string, unknown>[]>;
  count(table: string, where?: string, params?: unknown[]): Promise<number>;
  /** Deletes every row of Heat's tables (children first): a fresh seed for the next test. */
  reset(): Promise<void>;
  q(id: string): string;
  /** SQL for a column's value as text (timestamps without a driver's Date conversion). */
  text(col: string): string;
}

const CHILD_FIRST = [
  'watch_data',
  'watch_rule',
  'resource_data',
  'event',
  'sync_point',
  'snapshot',
  'stack_lock',
  'stack_tag',
  'resource',
  'software_deployment',
  'software_config',
  'stack',
  'user_creds',
  'raw_template',
  'service',
];

export async function makeHeat71(dialect: TestDialect): Promise<Heat71> {
  const db = await createTestDatabase(dialect);
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 71);
  const q = (id: string) => (dialect === 'mysql' ? `\`${id}\`` : `"${id}"`);
  const norm = (v: unknown) => (typeof v === 'boolean' && dialect !== 'postgresql' ? (v ? 1 : 0) : v);
  return {
    dialect,
    db,
    url: db.url,
    q,
    text: (col) => `CAST(${col} AS ${dialect === 'mysql' ? 'CHAR' : 'TEXT'})`,
    ts(text) {
      if (dialect !== 'sqlite') return text;
      const [whole, frac = ''] = text.split('.');
      return `${whole}.${frac.padEnd(6, '0')}`;
    },
    async insert(table, row) {
      const cols = Object.keys(row);
      await db.query(
        `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        cols.map((c) => norm(row[c])),
      );
    },
    async insertMany(table, rows) {
      if (!rows.length) return;
      const cols = Object.keys(rows[0]!);
      for (let i = 0; i < rows.length; i += 400) {
        const chunk = rows.slice(i, i + 400);
        await db.query(
          `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES ${chunk.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`,
          chunk.flatMap((r) => cols.map((c) => norm(r[c]))),
        );
      }
    },
    async rows(table, orderBy = 'id') {
      return db.query(`SELECT * FROM ${q(table)} ORDER BY ${orderBy}`);
    },
    async count(table, where = '1=1', params = []) {
      const r = await db.query(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${where}`, params);
      return Number(r[0]!.n);
    },
    async reset() {
      for (const t of CHILD_FIRST) await db.query(`DELETE FROM ${q(t)}`);
    },
  };
}

export async function withHeat71(dialect: TestDialect, fn: (h: Heat71) => Promise<void>): Promise<void> {
  const h = await makeHeat71(dialect);
  try {
    await fn(h);
  } finally {
    await h.db.drop();
  }
}

/** A stack row with Heat's NOT NULL columns filled in. */
export function stackRow(r: { id: string; raw_template_id: number } & Record<string, unknown>): Record<string, unknown> {
  return { name: `stack-${r.id}`, disable_rollback: true, tenant: 'tenant-a', ...r };
}
