/**
 * Builds the `migrate_engine` handed to a script: counts statements (for the crash-test hook),
 * records them in preview mode, and exposes TypeORM's schema classes.
 */
import type { QueryRunner } from 'typeorm';
import type { Catalog, DialectName, LargeTextRow, Logger, MigrateEngine, Row } from './contract.js';
import type { DialectAdapter, Queryable } from '../dialect/contract.js';

export interface EngineOptions {
  readonly dialect: DialectName;
  readonly session: Queryable;
  /** Quoting and the backend's writeLargeText (absent: a parameterised UPDATE with ANSI quotes). */
  readonly adapter?: Pick<DialectAdapter, 'quote' | 'writeLargeText'>;
  readonly queryRunner?: QueryRunner;
  readonly logger: Logger;
  readonly step: MigrateEngine['step'];
  readonly resumed: boolean;
  /** Collect statements instead of running them (reads still run). */
  readonly preview?: { sql: string[]; notes: string[] };
  /** Throw after this many statements (test hook, MIGRATE_TEST_ABORT). */
  readonly abortAfter?: number;
  /** A stop request: once aborted, the script's next statement throws instead of running. */
  readonly signal?: AbortSignal;
  /** Receives the script's `progress(done, total)` calls. */
  readonly onProgress?: (done: number, total?: number) => void;
  /** The repository's expected schemas (migrate_engine.expected). */
  readonly expected?: (version: number) => Catalog | undefined;
}

const READ = /^\s*(SELECT|WITH|SHOW|PRAGMA\s+\w+\s*(\(|$)|EXPLAIN|DESC)/i;
const WRITES = /\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|REPLACE|GRANT)\b/i;

/** A statement that only reads (runs even under --preview_sql). A WITH that writes is a write. */
export function isRead(sql: string): boolean {
  return READ.test(sql) && !(/^\s*(WITH|SELECT)/i.test(sql) && WRITES.test(sql.replace(/'[^']*'/g, "''")));
}

export class TestAbort extends Error {}

/** Thrown instead of running a statement once the run was asked to stop. */
export class StopRequested extends Error {
  constructor(readonly reason: unknown) {
    super(`stop requested (${reason instanceof Error ? reason.message : String(reason)}): statement not run`);
  }
}

const ansiQuote = (id: string) => `"${id.replace(/"/g, '""')}"`;

/** writeLargeText as one UPDATE (what preview records, and the statement on PostgreSQL/SQLite). */
function largeTextUpdate(row: LargeTextRow, quote: (id: string) => string): string {
  const keys = Object.keys(row.key);
  if (keys.length === 0) throw new Error(`writeLargeText(${row.table}.${row.column}): row.key names no column`);
  return `UPDATE ${quote(row.table)} SET ${quote(row.column)} = ? WHERE ${keys.map((k) => `${quote(k)} = ?`).join(' AND ')}`;
}

export async function makeEngine(o: EngineOptions): Promise<MigrateEngine> {
  // TypeORM is loaded only for module scripts (they get a QueryRunner); .sql steps never load it.
  const typeorm = o.queryRunner ? await import('typeorm') : undefined;
  const missing = (): never => {
    throw new Error('TypeORM schema classes are available to module scripts only');
  };
  let count = 0;
  const counted = async <T>(sql: string, run: () => Promise<T>, empty: T): Promise<T> => {
    if (o.preview && !isRead(sql)) {
      o.preview.sql.push(sql);
      return empty;
    }
    if (o.preview && o.preview.notes.length === 0 && /^\s*SELECT/i.test(sql)) {
      o.preview.notes.push('this step reads data; the statements shown after this point depend on what the reads returned from the current database');
    }
    if (o.signal?.aborted) throw new StopRequested(o.signal.reason);
    const r = await run();
    count++;
    if (o.abortAfter !== undefined && count >= o.abortAfter) {
      throw new TestAbort(`test abort after statement ${count} of step ${o.step.from} -> ${o.step.to}`);
    }
    return r;
  };
  return {
    dialect: o.dialect,
    get queryRunner(): QueryRunner {
      if (!o.queryRunner) {
        throw new Error(
          'migrate_engine.queryRunner is not open for this step: no TypeORM use was found in the script or the files it imports by relative path; mention migrate_engine.queryRunner in the script itself',
        );
      }
      return o.queryRunner;
    },
    logger: o.logger,
    step: o.step,
    resumed: o.resumed,
    preview: !!o.preview,
    progress: (done, total) => {
      if (!o.preview) o.onProgress?.(done, total);
    },
    schema: async (tables) => (await import('../catalog/introspect.js')).introspect(o.session, tables),
    expected: (version) => o.expected?.(version),
    query: (sql, params = []) => counted<Row[]>(sql, () => o.session.query(sql, params), []),
    execute: (sql, params = []) => counted<number>(sql, () => o.session.execute(sql, params), 0),
    writeLargeText: async (row, value) => {
      const sql = largeTextUpdate(row, o.adapter?.quote ?? ansiQuote);
      const viaAdapter = o.adapter?.writeLargeText?.bind(o.adapter);
      const run = viaAdapter ? () => viaAdapter(o.session, row, value) : () => o.session.execute(sql, [value, ...Object.values(row.key)]);
      return counted<number>(sql, run, 0);
    },
    get Table() {
      return typeorm?.Table ?? missing();
    },
    get TableColumn() {
      return typeorm?.TableColumn ?? missing();
    },
    get TableIndex() {
      return typeorm?.TableIndex ?? missing();
    },
    get TableForeignKey() {
      return typeorm?.TableForeignKey ?? missing();
    },
    get TableUnique() {
      return typeorm?.TableUnique ?? missing();
    },
  };
}
