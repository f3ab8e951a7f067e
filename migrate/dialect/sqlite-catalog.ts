/**
 * The live schema of a SQLite database as catalog facts (docs/CATALOG.md): the PRAGMAs of
 * ../shared/heat-schema/dumpers/dump_sqlite.py, plus the named constraints of each CREATE TABLE
 * text (PRAGMAs do not report constraint names).
 */
import { escapeCell, type Fact } from '../catalog/catalog.js';
import type { Queryable } from './contract.js';

const qi = (s: string) => s.replace(/"/g, '""');

/** The body of a CREATE TABLE text split at its top-level commas (column definitions and table constraints). */
export function elements(sql: string): string[] {
  const open = sql.indexOf('(');
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (let i = open + 1; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '[') quote = ']';
    else if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const NAME = String.raw`(?:"((?:[^"]|"")+)"|\`([^\`]+)\`|\[([^\]]+)\]|([\w$]+))`;
const unquote = (m: RegExpExecArray, at: number) => m[at]?.replace(/""/g, '"') ?? m[at + 1] ?? m[at + 2] ?? m[at + 3]!;

/** The parenthesised text that starts at `open` (balanced). */
function parenthesised(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    depth += text[i] === '(' ? 1 : text[i] === ')' ? -1 : 0;
    if (depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/**
 * The named constraints of a CREATE TABLE text: table constraints (`CONSTRAINT n FOREIGN KEY(c)
 * REFERENCES ...`) and column constraints (`c INTEGER CONSTRAINT n REFERENCES ...`, as
 * `ALTER TABLE ADD COLUMN` writes them), both as {name, type, columns}: the same constraint either way.
 */
export function namedConstraints(sql: string): { name: string; type: string; columns: string }[] {
  const out: { name: string; type: string; columns: string }[] = [];
  const tableRe = new RegExp(`^CONSTRAINT\\s+${NAME}\\s+(FOREIGN\\s+KEY|UNIQUE|PRIMARY\\s+KEY|CHECK)\\s*\\(`, 'i');
  const columnRe = new RegExp(`\\bCONSTRAINT\\s+${NAME}\\s+(REFERENCES|UNIQUE|PRIMARY\\s+KEY|CHECK|NOT\\s+NULL|NULL|DEFAULT|COLLATE|GENERATED|AS)\\b`, 'gi');
  for (const el of elements(sql)) {
    const t = tableRe.exec(el);
    if (t) {
      const type = t[5]!.toUpperCase().replace(/\s+/g, ' ');
      const inner = parenthesised(el, t[0].length - 1);
      const columns = type === 'CHECK' ? inner.trim() : inner.split(',').map((c) => c.trim().replace(/^["`[]|["`\]]$/g, '')).join(',');
      out.push({ name: unquote(t, 1), type, columns });
      continue;
    }
    const col = new RegExp(`^${NAME}`).exec(el);
    if (!col) continue;
    for (let m = columnRe.exec(el); m; m = columnRe.exec(el)) {
      const kind = m[5]!.toUpperCase().replace(/\s+/g, ' ');
      const type = kind === 'REFERENCES' ? 'FOREIGN KEY' : kind;
      out.push({ name: unquote(m, 1), type, columns: unquote(col, 1) });
    }
  }
  return out;
}

/** `tables`: only these; default: every table (sqlite_sequence only when a non-tool table uses AUTOINCREMENT). */
export async function sqliteCatalogFacts(q: Pick<Queryable, 'query'>, tables?: readonly string[]): Promise<Fact[]> {
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
