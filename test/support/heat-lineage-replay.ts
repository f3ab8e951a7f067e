/**
 * Replays what real Heat sent to a database after 71 (../shared/heat-lineage/sql/, copied to
 * test/fixtures/heat-lineage/sql/): Heat 13.0.0's steps and Heat master's stamp and revisions, as
 * extracted from SQLAlchemy's engine log, so that the suite can build "a database real Heat left
 * at 80 / 86 / head / blindly stamped" without Python (CI has no Heat).
 *
 *   const stmts = parseHeatSql(readFileSync('.../postgresql-80.sql', 'utf8'), 'postgresql');
 *   await replayHeatSql(db, stmts);
 *
 * Format (the shared README): a statement ends with `;`, or is completed by the `--   params:` line
 * that follows it (Python literals: a dict for psycopg2's `%(name)s`, a tuple for PyMySQL's `%s` and
 * sqlite3's `?`); other `--` lines are markers. A step that failed ends with `-- FAILED (exit 1): …`:
 * its failing statement left nothing (MariaDB: a refused CREATE TABLE) and is not replayed.
 */
import type { TestDatabase, TestDialect } from './db.js';

function pyLiterals(text: string): Array<[key: string | undefined, value: string | number]> {
  const out: Array<[string | undefined, string | number]> = [];
  const re = /(?:'([^']*)'\s*:\s*)?(?:'((?:[^'\\]|\\.)*)'|(-?\d+))/g;
  for (const m of text.matchAll(re)) out.push([m[1], m[2] !== undefined ? m[2].replace(/\\'/g, "'") : Number(m[3])]);
  return out;
}

const literal = (v: string | number) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

function bind(sql: string, params: string, dialect: TestDialect): string {
  const values = pyLiterals(params);
  if (params.trim().startsWith('{')) {
    const byName = new Map(values.map(([k, v]) => [k!, v]));
    return sql.replace(/%\((\w+)\)s/g, (_, n: string) => literal(byName.get(n)!));
  }
  let i = 0;
  return sql.replace(dialect === 'mysql' ? /%s/g : /\?/g, () => literal(values[i++]![1]));
}

export function parseHeatSql(text: string, dialect: TestDialect): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    const params = /^--\s+params:\s*(.*);$/.exec(line);
    if (params) {
      const sql = cur.length ? cur.join('\n') : out.pop()!;
      cur = [];
      out.push(bind(sql, params[1]!, dialect));
      continue;
    }
    if (line.startsWith('-- FAILED')) {
      if (cur.length) cur = [];
      else out.pop();
      break;
    }
    if (line.startsWith('--') || (line.trim() === '' && cur.length === 0)) continue;
    cur.push(line);
    if (line.trimEnd().endsWith(';')) {
      out.push(cur.join('\n').trimEnd().replace(/;$/, ''));
      cur = [];
    }
  }
  if (cur.length) out.push(cur.join('\n').trim());
  return out.filter((s) => s.trim() !== '');
}

/**
 * Runs the statements in order. SQLite: on one connection of its own (the log's `PRAGMA
 * legacy_alter_table` lines hold for the connection), foreign keys off as in Heat's engine.
 */
export async function replayHeatSql(db: TestDatabase, statements: readonly string[]): Promise<void> {
  if (db.dialect !== 'sqlite') {
    for (const s of statements) await db.query(s);
    return;
  }
  const Database = (await import('better-sqlite3')).default;
  const c = new Database(db.file!);
  try {
    c.pragma('foreign_keys = OFF');
    for (const s of statements) c.exec(s);
  } finally {
    c.close();
  }
}
