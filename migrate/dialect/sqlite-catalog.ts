/**
 * The live schema of a SQLite database as catalog facts (docs/CATALOG.md): the PRAGMAs of
 * ../shared/heat-schema/dumpers/dump_sqlite.py, plus the named constraints of each CREATE TABLE
 * text (PRAGMAs do not report constraint names).
 */
import { escapeCell, type Fact } from '../catalog/catalog.js';
import type { Queryable } from './adapter.js';

const qi = (s: string) => s.replace(/"/g, '""');

/** `CONSTRAINT <name> <TYPE> (<cols>)` clauses of a CREATE TABLE text. */
export function namedConstraints(sql: string): { name: string; type: string; columns: string }[] {
  const out: { name: string; type: string; columns: string }[] = [];
  const re = /\bCONSTRAINT\s+(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([\w$]+))\s+(FOREIGN\s+KEY|UNIQUE|PRIMARY\s+KEY|CHECK)\s*\(/gi;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    // The parenthesised list, balanced (a CHECK may nest parentheses).
    let depth = 1;
    let i = re.lastIndex;
    for (; i < sql.length && depth > 0; i++) depth += sql[i] === '(' ? 1 : sql[i] === ')' ? -1 : 0;
    const inner = sql.slice(re.lastIndex, i - 1);
    const type = m[5]!.toUpperCase().replace(/\s+/g, ' ');
    const columns = type === 'CHECK' ? inner.trim() : inner.split(',').map((c) => c.trim().replace(/^["`[]|["`\]]$/g, '')).join(',');
    out.push({ name: m[1]?.replace(/""/g, '"') ?? m[2] ?? m[3] ?? m[4]!, type, columns });
  }
  return out;
}

/** `tables`: only these; default: every table (sqlite_sequence only when a non-tool table uses AUTOINCREMENT). */
export async function sqliteCatalogFacts(q: Queryable, tables?: readonly string[]): Promise<Fact[]> {
  const master = (await q.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'")) as { name: string; sql: string | null }[];
  const tool = (n: string) => n.startsWith('migrate_') && n !== 'migrate_version';
  const autoincrement = master.some((r) => !tool(r.name) && r.name !== 'sqlite_sequence' && /autoincrement/i.test(r.sql ?? ''));
  const names = master
    .filter((r) => (autoincrement || r.name !== 'sqlite_sequence') && (!tables || tables.includes(r.name)))
    .map((r) => r.name);
  const facts: Fact[] = [];
  for (const t of names) {
    for (const r of (await q.query(`PRAGMA table_info("${qi(t)}")`)) as { cid: number; name: string; type: string; notnull: number; dflt_value: unknown; pk: number }[]) {
      const dflt = r.dflt_value === null || r.dflt_value === undefined ? null : String(r.dflt_value);
      facts.push(['column', t, r.name, String(Number(r.cid) + 1), r.type, r.notnull ? 'NOT NULL' : 'NULL', `pk=${r.pk} default=${escapeCell(dflt)}`]);
    }
    for (const ix of (await q.query(`PRAGMA index_list("${qi(t)}")`)) as { name: string; unique: number; origin: string }[]) {
      const cols = ((await q.query(`PRAGMA index_info("${qi(ix.name)}")`)) as { name: string | null }[]).map((r) => String(r.name)).join(',');
      facts.push(['index', t, ix.name, ix.unique ? 'unique' : 'non_unique', cols, `origin=${ix.origin}`, '']);
    }
    const byId = new Map<number, { seq: number; table: string; from: string; to: string | null; on_delete: string }[]>();
    for (const r of (await q.query(`PRAGMA foreign_key_list("${qi(t)}")`)) as { id: number; seq: number; table: string; from: string; to: string | null; on_delete: string }[]) {
      byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    }
    // A clause declared twice (a bug of Heat's SQLite rebuilds) is a second fact, not the same one.
    const seen = new Map<string, number>();
    for (const v of byId.values()) {
      const s = [...v].sort((a, b) => a.seq - b.seq);
      const to = s.map((x) => (x.to === null ? 'None' : x.to)).join(',');
      const fact: Fact = ['fk', t, s.map((x) => x.from).join(','), '', `${v[0]!.table}(${to})`, `ON DELETE ${v[0]!.on_delete}`, ''];
      const key = fact.join('\t');
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      facts.push(n === 1 ? fact : ['fk', t, fact[2], `dup=${n}`, fact[4], fact[5], '']);
    }
    const sql = master.find((r) => r.name === t)?.sql ?? '';
    for (const c of namedConstraints(sql)) facts.push(['named', t, c.name, '', c.type, c.columns, '']);
  }
  return facts;
}
