/**
 * Small SQL text utilities: `?` -> `$n` for PostgreSQL, and splitting a .sql script into
 * statements (quotes, identifiers, comments and PostgreSQL dollar quotes respected).
 */

/** Scans SQL, calling `onCode` for every character outside quotes/comments. */
function scan(sql: string, onCode: (ch: string, i: number) => string | void, dropComments = false): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\' && ch === "'") {
          j += 2;
          continue;
        }
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? n : j;
      if (!dropComments) out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? n : j + 2;
      out += dropComments ? ' ' : sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const j = sql.indexOf(tag[0], i + tag[0].length);
        const end = j < 0 ? n : j + tag[0].length;
        out += sql.slice(i, end);
        i = end;
        continue;
      }
    }
    const r = onCode(ch, i);
    out += r ?? ch;
    i++;
  }
  return out;
}

/** `?` placeholders -> `$1..$n` (outside quotes and comments). */
export function toPositional(sql: string): string {
  if (!sql.includes('?')) return sql;
  let k = 0;
  return scan(sql, (ch) => (ch === '?' ? `$${++k}` : undefined));
}

/** Removes `--` and `/* *\/` comments (outside quotes). */
function stripComments(sql: string): string {
  return scan(sql, () => undefined, true);
}

/** Splits a script into statements (comments stripped, empty statements dropped). */
export function splitStatements(script: string): string[] {
  const text = stripComments(script);
  const parts: string[] = [];
  let start = 0;
  scan(text, (ch, i) => {
    if (ch === ';') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  });
  parts.push(text.slice(start));
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** How a backend writes literals: `booleanWords` true/false (else 1/0); `backslashEscapes` in strings. */
export interface LiteralStyle {
  readonly booleanWords?: boolean;
  readonly backslashEscapes?: boolean;
}

/** A literal for SQL text (benchmark capture only; never used to build executed statements). */
export function sqlLiteral(v: unknown, style: LiteralStyle): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return style.booleanWords ? String(v) : v ? '1' : '0';
  if (v instanceof Date) return `'${v.toISOString().replace('T', ' ').replace('Z', '')}'`;
  const s = Buffer.isBuffer(v) ? v.toString('latin1') : String(v);
  const escaped = s.replace(/'/g, "''");
  return style.backslashEscapes ? `'${escaped.replace(/\\/g, '\\\\')}'` : `'${escaped}'`;
}

/** The statement with its `?` placeholders replaced by literals (the adapter's `literal`). */
export function inlineParams(sql: string, params: readonly unknown[], literal: (v: unknown) => string): string {
  if (!params.length) return sql;
  let k = 0;
  return scan(sql, (ch) => (ch === '?' && k < params.length ? literal(params[k++]) : undefined));
}
