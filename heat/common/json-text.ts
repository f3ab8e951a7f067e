/**
 * JSON text handled without losing anything: the members of an object as raw text slices (so a
 * number beyond 2^53 or a value we do not touch is written back exactly), and an ASCII-only
 * rendering (MariaDB's utf8mb3 columns cannot hold characters outside the BMP; Heat writes
 * `ensure_ascii` JSON for the same reason).
 *
 *   members('{"a": 1e400, "b": [1]}')  -> [['a', '1e400'], ['b', '[1]']]
 *   objectText([['a', '1'], ['b', '"x"']]) -> '{"a":1,"b":"x"}'
 */

function skipWs(t: string, i: number): number {
  while (i < t.length && (t[i] === ' ' || t[i] === '\t' || t[i] === '\n' || t[i] === '\r')) i++;
  return i;
}

function bad(t: string, i: number): never {
  throw new SyntaxError(`invalid JSON at position ${i}`);
}

/** The end (exclusive) of the JSON value starting at `i` (whitespace skipped first). */
function scanValue(t: string, i: number): [start: number, end: number] {
  i = skipWs(t, i);
  const start = i;
  const c = t[i];
  if (c === '"') {
    for (i++; i < t.length; i++) {
      if (t[i] === '\\') i++;
      else if (t[i] === '"') return [start, i + 1];
    }
    bad(t, i);
  }
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    i = skipWs(t, i + 1);
    if (t[i] === close) return [start, i + 1];
    for (;;) {
      if (c === '{') {
        const [, ke] = scanValue(t, i);
        if (t[skipWs(t, ke)] !== ':') bad(t, ke);
        i = skipWs(t, ke) + 1;
      }
      const [, ve] = scanValue(t, i);
      i = skipWs(t, ve);
      if (t[i] === ',') i++;
      else if (t[i] === close) return [start, i + 1];
      else bad(t, i);
    }
  }
  const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(t.slice(i, i + 400));
  if (!m) bad(t, i);
  return [start, i + m[0].length];
}

/** The members of a JSON object as [key, raw value text]; null when the text is not an object. */
export function members(text: string): [string, string][] | null {
  let i = skipWs(text, 0);
  if (text[i] !== '{') return null;
  const [, end] = scanValue(text, i);
  if (skipWs(text, end) !== text.length) bad(text, end);
  const out: [string, string][] = [];
  i = skipWs(text, i + 1);
  if (text[i] === '}') return out;
  for (;;) {
    const [ks, ke] = scanValue(text, i);
    const key = JSON.parse(text.slice(ks, ke)) as unknown;
    if (typeof key !== 'string') bad(text, ks);
    i = skipWs(text, ke) + 1;
    const [vs, ve] = scanValue(text, i);
    out.push([key, text.slice(vs, ve)]);
    i = skipWs(text, ve);
    if (text[i] === '}') return out;
    i++;
  }
}

/** Checks that `text` is one JSON value; returns it trimmed. */
export function jsonValueText(text: string): string {
  const [s, e] = scanValue(text, 0);
  if (skipWs(text, e) !== text.length) bad(text, e);
  return text.slice(s, e);
}

/** Every non-ASCII character as \uXXXX (surrogate pairs for non-BMP): valid in JSON strings, the only place they occur. */
export function asciiJson(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An object from raw member texts (keys JSON-encoded), ASCII only. */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return asciiJson(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}
