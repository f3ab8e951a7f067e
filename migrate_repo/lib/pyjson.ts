/**
 * Python 3 `json.loads` / `json.dumps` (default arguments), byte for byte.
 *
 * Heat's data migrations 037, 041 and 043 parse `raw_template.template` with Python's json module,
 * edit the result and write `json.dumps(...)` back (MIGRATIONS.md §2.5). This module reproduces
 * that text exactly, so it keeps what `JSON.parse` loses:
 *
 * - integers and floats stay distinct (`1` vs `1.0`): {@link PyInt} holds the exact decimal text
 *   (any size), {@link PyFloat} a double that is printed like Python's `repr(float)`;
 * - objects are `Map`s, whose insertion order is Python's dict order: a duplicate key keeps the
 *   place of its first occurrence and the last value; `map.set` on an existing key keeps its
 *   place, a new key goes last, `map.delete` removes it — exactly like a dict;
 * - strings keep lone surrogates; `NaN`, `Infinity`, `-Infinity` are accepted and written back.
 *
 * Errors mirror Python's: {@link PyJsonDecodeError} with Python's message and a `pos` counted in
 * code points (as Python counts), `TypeError` for a non-string input, {@link PyValueError} for an
 * integer of more than 4300 digits (Python 3.11+ `int` limit), {@link PyRecursionError} for
 * nesting 1000 deep (Python's default recursion limit; Python fails a little earlier, depending
 * on its call stack).
 *
 * Both directions are single-pass, hand-rolled scanners over `charCodeAt`.
 */

/** A JSON integer: its exact decimal text as Python's `int` would print it (`-0` becomes `0`). */
export class PyInt {
  constructor(readonly text: string) {}
}

/** A JSON number with a fraction or an exponent (or NaN/Infinity): a Python `float`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | string | PyInt | PyFloat | PyJson[] | PyObject;
/** A Python dict: insertion order is the dict's order. */
export type PyObject = Map<string, PyJson>;

/** Python's `json.JSONDecodeError`; `message` is `"<msg>: line L column C (char P)"`. */
export class PyJsonDecodeError extends Error {
  /** The bare message, e.g. `Expecting value`. */
  readonly msg: string;
  /** Index in the document, in code points (Python's string index). */
  readonly pos: number;
  readonly lineno: number;
  readonly colno: number;

  /** `pos` is a code-point index into `doc`, as in Python. */
  constructor(msg: string, doc: string, pos: number) {
    const cut = codePointToUtf16(doc, pos);
    const lineno = countNewlines(doc, cut) + 1;
    const nl = cut > 0 ? doc.lastIndexOf('\n', cut - 1) : -1;
    const colno = pos - utf16ToCodePoint(doc, nl + 1) + 1;
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
    this.name = 'JSONDecodeError';
    this.msg = msg;
    this.pos = pos;
    this.lineno = lineno;
    this.colno = colno;
  }
}

/** Python's `ValueError` raised while loading (an integer beyond `sys.get_int_max_str_digits()`). */
export class PyValueError extends Error {
  override readonly name = 'ValueError';
}

/** Python's `RecursionError` raised while loading a document nested too deeply. */
export class PyRecursionError extends Error {
  override readonly name = 'RecursionError';
}

/** Python 3.11+ default `sys.get_int_max_str_digits()`. */
const INT_MAX_STR_DIGITS = 4300;
/** Python's default recursion limit: nesting this deep never loads in Python. */
const MAX_DEPTH = 1000;

/** `isinstance(v, dict)`. */
export function isObject(v: PyJson | undefined): v is PyObject {
  return v instanceof Map;
}

/** `json.loads(text)` with Python 3 semantics (strict strings, NaN/Infinity allowed). */
export function loads(text: string): PyJson {
  if (typeof text !== 'string') {
    throw new TypeError(`the JSON object must be str, bytes or bytearray, not ${pyTypeName(text)}`);
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new PyJsonDecodeError('Unexpected UTF-8 BOM (decode using utf-8-sig)', text, 0);
  }
  const p = new Parser(text);
  p.i = p.ws(0);
  const value = p.value(0);
  const end = p.ws(p.i);
  if (end !== text.length) throw p.error('Extra data', end);
  return value;
}

const enum C {
  TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, QUOTE = 0x22, PLUS = 0x2b, COMMA = 0x2c,
  MINUS = 0x2d, DOT = 0x2e, SLASH = 0x2f, D0 = 0x30, D1 = 0x31, D9 = 0x39, COLON = 0x3a,
  UE = 0x45, UI = 0x49, UN = 0x4e, LBRACKET = 0x5b, BACKSLASH = 0x5c, RBRACKET = 0x5d,
  LB = 0x62, LE = 0x65, LF_ = 0x66, LN = 0x6e, LR = 0x72, LT = 0x74, LU = 0x75,
  LBRACE = 0x7b, RBRACE = 0x7d,
}

/** Recursive-descent scanner with Python's C scanner's (`_json.c`) error positions. */
class Parser {
  i = 0;
  constructor(readonly s: string) {}

  error(msg: string, index: number): PyJsonDecodeError {
    return new PyJsonDecodeError(msg, this.s, utf16ToCodePoint(this.s, index));
  }

  /** Skips `[ \t\n\r]*` from `i`; returns the next index. */
  ws(i: number): number {
    const s = this.s;
    const len = s.length;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c !== C.SPACE && c !== C.LF && c !== C.CR && c !== C.TAB) break;
      i++;
    }
    return i;
  }

  /** Reads one value at `this.i` (no leading whitespace); leaves `this.i` after it. */
  value(depth: number): PyJson {
    const s = this.s;
    const i = this.i;
    switch (s.charCodeAt(i)) {
      case C.QUOTE:
        return this.string(i + 1);
      case C.LBRACE:
        return this.object(i + 1, depth + 1);
      case C.LBRACKET:
        return this.array(i + 1, depth + 1);
      case C.LN:
        if (s.startsWith('null', i)) { this.i = i + 4; return null; }
        break;
      case C.LT:
        if (s.startsWith('true', i)) { this.i = i + 4; return true; }
        break;
      case C.LF_:
        if (s.startsWith('false', i)) { this.i = i + 5; return false; }
        break;
      case C.UN:
        if (s.startsWith('NaN', i)) { this.i = i + 3; return new PyFloat(NaN); }
        break;
      case C.UI:
        if (s.startsWith('Infinity', i)) { this.i = i + 8; return new PyFloat(Infinity); }
        break;
      case C.MINUS:
        if (s.startsWith('-Infinity', i)) { this.i = i + 9; return new PyFloat(-Infinity); }
        break;
    }
    return this.number(i);
  }

  /** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?` at `start`, else "Expecting value". */
  number(start: number): PyInt | PyFloat {
    const s = this.s;
    const len = s.length;
    let i = start;
    let c = s.charCodeAt(i);
    if (c === C.MINUS) c = s.charCodeAt(++i);
    if (c >= C.D1 && c <= C.D9) {
      i++;
      while (i < len && isDigit(s.charCodeAt(i))) i++;
    } else if (c === C.D0) {
      i++;
    } else {
      throw this.error('Expecting value', start);
    }
    const intEnd = i;
    let isFloat = false;
    if (s.charCodeAt(i) === C.DOT && isDigit(s.charCodeAt(i + 1))) {
      isFloat = true;
      i += 2;
      while (i < len && isDigit(s.charCodeAt(i))) i++;
    }
    c = s.charCodeAt(i);
    if (c === C.LE || c === C.UE) {
      let j = i + 1;
      c = s.charCodeAt(j);
      if (c === C.PLUS || c === C.MINUS) j++;
      const digitsStart = j;
      while (j < len && isDigit(s.charCodeAt(j))) j++;
      if (j > digitsStart) {
        isFloat = true;
        i = j;
      }
    }
    this.i = i;
    if (isFloat) return new PyFloat(Number(s.slice(start, i)));
    const neg = s.charCodeAt(start) === C.MINUS;
    const digits = intEnd - start - (neg ? 1 : 0);
    if (digits > INT_MAX_STR_DIGITS) {
      throw new PyValueError(
        `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ` +
          `${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
      );
    }
    if (neg && digits === 1 && s.charCodeAt(start + 1) === C.D0) return new PyInt('0');
    return new PyInt(s.slice(start, i));
  }

  /** Reads a string whose opening quote is at `start - 1`; leaves `this.i` after the closing quote. */
  string(start: number): string {
    const s = this.s;
    const len = s.length;
    let i = start;
    // Fast path: no escape.
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === C.QUOTE) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === C.BACKSLASH) break;
      if (c < 0x20) throw this.error('Invalid control character at', i);
    }
    let out = s.slice(start, i);
    for (;;) {
      if (i >= len) throw this.error('Unterminated string starting at', start - 1);
      // s[i] is a backslash.
      i++;
      if (i >= len) throw this.error('Unterminated string starting at', start - 1);
      const e = s.charCodeAt(i);
      if (e === C.LU) {
        // Python: the 4 hex digits must not end the document.
        if (i + 5 >= len) throw this.error('Invalid \\uXXXX escape', i);
        let code = 0;
        for (let k = i + 1; k <= i + 4; k++) {
          const h = hexValue(s.charCodeAt(k));
          if (h < 0) throw this.error('Invalid \\uXXXX escape', i);
          code = (code << 4) | h;
        }
        // A surrogate pair is two UTF-16 units in JS whether joined or not: no special case.
        out += String.fromCharCode(code);
        i += 5;
      } else {
        const ch = simpleEscape(e);
        if (ch === undefined) throw this.error('Invalid \\escape', i - 1);
        out += ch;
        i++;
      }
      const chunk = i;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c === C.QUOTE) {
          this.i = i + 1;
          return out + s.slice(chunk, i);
        }
        if (c === C.BACKSLASH) break;
        if (c < 0x20) throw this.error('Invalid control character at', i);
      }
      out += s.slice(chunk, i);
    }
  }

  /** Reads an object whose `{` is at `start - 1`. */
  object(start: number, depth: number): PyObject {
    if (depth >= MAX_DEPTH) throw recursionError('object');
    const s = this.s;
    const len = s.length;
    const obj: PyObject = new Map();
    let i = this.ws(start);
    if (s.charCodeAt(i) !== C.RBRACE) {
      for (;;) {
        if (i >= len || s.charCodeAt(i) !== C.QUOTE) {
          throw this.error('Expecting property name enclosed in double quotes', i);
        }
        const key = this.string(i + 1);
        i = this.ws(this.i);
        if (s.charCodeAt(i) !== C.COLON) throw this.error("Expecting ':' delimiter", i);
        this.i = this.ws(i + 1);
        const v = this.value(depth);
        obj.set(key, v);
        i = this.ws(this.i);
        const c = s.charCodeAt(i);
        if (c === C.RBRACE) break;
        if (c !== C.COMMA) throw this.error("Expecting ',' delimiter", i);
        i = this.ws(i + 1);
      }
    }
    this.i = i + 1;
    return obj;
  }

  /** Reads an array whose `[` is at `start - 1`. */
  array(start: number, depth: number): PyJson[] {
    if (depth >= MAX_DEPTH) throw recursionError('array');
    const s = this.s;
    const arr: PyJson[] = [];
    let i = this.ws(start);
    if (s.charCodeAt(i) !== C.RBRACKET) {
      for (;;) {
        this.i = i;
        arr.push(this.value(depth));
        i = this.ws(this.i);
        const c = s.charCodeAt(i);
        if (c === C.RBRACKET) break;
        if (c !== C.COMMA) throw this.error("Expecting ',' delimiter", i);
        i = this.ws(i + 1);
      }
    }
    this.i = i + 1;
    return arr;
  }
}

function recursionError(what: string): PyRecursionError {
  return new PyRecursionError(
    `maximum recursion depth exceeded while decoding a JSON ${what} from a unicode string`,
  );
}

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function simpleEscape(c: number): string | undefined {
  switch (c) {
    case C.QUOTE: return '"';
    case C.BACKSLASH: return '\\';
    case C.SLASH: return '/';
    case C.LB: return '\b';
    case C.LF_: return '\f';
    case C.LN: return '\n';
    case C.LR: return '\r';
    case C.LT: return '\t';
    default: return undefined;
  }
}

/** Python's index of the code point at UTF-16 index `index` (a surrogate pair is one code point). */
function utf16ToCodePoint(s: string, index: number): number {
  let pairs = 0;
  for (let k = 0; k < index - 1; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        k++;
      }
    }
  }
  return index - pairs;
}

function codePointToUtf16(s: string, pos: number): number {
  let k = 0;
  for (let n = 0; n < pos && k < s.length; n++) {
    const c = s.charCodeAt(k);
    const d = s.charCodeAt(k + 1);
    k += c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
  }
  return k;
}

function countNewlines(s: string, end: number): number {
  let n = 0;
  for (let k = s.indexOf('\n'); k >= 0 && k < end; k = s.indexOf('\n', k + 1)) n++;
  return n;
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

// ---------------------------------------------------------------------------------------------
// dumps

/**
 * `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, no indentation,
 * `ensure_ascii=True`, `allow_nan=True`, keys in Map order.
 * Throws `TypeError` for a value that is not {@link PyJson} and `Error('Circular reference
 * detected')` (Python's ValueError) for a container that contains itself.
 */
export function dumps(value: PyJson): string {
  const e = new Encoder();
  try {
    e.encode(value);
    return e.text();
  } finally {
    e.release();
  }
}

/** Scratch output of {@link Encoder}, reused between calls (dropped when it grew past this size). */
let scratch = Buffer.allocUnsafe(1 << 16);
const KEEP_SCRATCH = 8 << 20;

/**
 * Writes the output as bytes: json.dumps' output is ASCII (ensure_ascii), so each character is one
 * byte of a reused buffer and the result is one latin1 slice at the end — no string concatenation,
 * no rope to flatten, no garbage per value (measured in bench/pyjson.ts). Maps are iterated with
 * `forEach` (no entry array per key).
 */
class Encoder {
  private buf = scratch;
  private p = 0;
  /** Containers being encoded (Python's check_circular); short, so a linear scan is cheap. */
  private readonly stack: object[] = [];

  text(): string {
    return this.buf.toString('latin1', 0, this.p);
  }

  release(): void {
    scratch = this.buf.length > KEEP_SCRATCH ? Buffer.allocUnsafe(1 << 16) : this.buf;
  }

  /** Room for n more bytes. */
  private room(n: number): Buffer {
    if (this.p + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.p + n));
      this.buf.copy(bigger, 0, 0, this.p);
      this.buf = bigger;
    }
    return this.buf;
  }

  /** An ASCII string that needs no escaping (literals, number text). */
  private raw(s: string): void {
    const b = this.room(s.length);
    let p = this.p;
    for (let k = 0; k < s.length; k++) b[p++] = s.charCodeAt(k);
    this.p = p;
  }

  /** Python's `encode_basestring_ascii`: escapes `"`, `\`, controls and every non-ASCII unit. */
  private string(s: string): void {
    const len = s.length;
    let b = this.room(len + 2);
    let p = this.p;
    b[p++] = C.QUOTE;
    // A plain loop: a native copy of the plain prefix (regex + Buffer.write) measured slower here.
    for (let k = 0; k < len; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x20 && c <= 0x7e && c !== C.QUOTE && c !== C.BACKSLASH) {
        b[p++] = c;
        continue;
      }
      // At most 6 bytes for this unit, plus the rest of the string and the closing quote.
      this.p = p;
      b = this.room(6 + (len - k));
      b[p++] = C.BACKSLASH;
      switch (c) {
        case C.QUOTE: b[p++] = C.QUOTE; break;
        case C.BACKSLASH: b[p++] = C.BACKSLASH; break;
        case C.LF: b[p++] = C.LN; break;
        case C.CR: b[p++] = C.LR; break;
        case C.TAB: b[p++] = C.LT; break;
        case 0x08: b[p++] = C.LB; break;
        case 0x0c: b[p++] = C.LF_; break;
        // A code point above U+FFFF is already a surrogate pair here, as Python writes it.
        default:
          b[p++] = C.LU;
          b[p++] = HEX[c >> 12]!;
          b[p++] = HEX[(c >> 8) & 15]!;
          b[p++] = HEX[(c >> 4) & 15]!;
          b[p++] = HEX[c & 15]!;
      }
    }
    b[p++] = C.QUOTE;
    this.p = p;
  }

  encode(v: PyJson): void {
    if (v === null) return this.raw('null');
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'boolean':
        return this.raw(v ? 'true' : 'false');
      case 'object':
        if (v instanceof Map) return this.map(v);
        if (v instanceof PyInt) return this.raw(v.text);
        if (v instanceof PyFloat) return this.raw(floatRepr(v.value));
        if (Array.isArray(v)) return this.array(v);
    }
    const hint = typeof v === 'number' ? ' (wrap numbers in PyInt or PyFloat)' : '';
    throw new TypeError(`Object of type ${pyTypeName(v)} is not JSON serializable${hint}`);
  }

  private array(v: PyJson[]): void {
    if (v.length === 0) return this.raw('[]');
    this.enter(v);
    this.room(1)[this.p++] = C.LBRACKET;
    this.encode(v[0]!);
    for (let k = 1; k < v.length; k++) {
      const b = this.room(2);
      b[this.p++] = C.COMMA;
      b[this.p++] = C.SPACE;
      this.encode(v[k]!);
    }
    this.stack.pop();
    this.room(1)[this.p++] = C.RBRACKET;
  }

  private map(v: PyObject): void {
    if (v.size === 0) return this.raw('{}');
    this.enter(v);
    this.room(1)[this.p++] = C.LBRACE;
    let first = true;
    v.forEach((item, key) => {
      if (typeof key !== 'string') {
        throw new TypeError(`keys must be str, int, float, bool or None, not ${pyTypeName(key)}`);
      }
      if (!first) {
        const b = this.room(2);
        b[this.p++] = C.COMMA;
        b[this.p++] = C.SPACE;
      }
      first = false;
      this.string(key);
      const b = this.room(2);
      b[this.p++] = C.COLON;
      b[this.p++] = C.SPACE;
      this.encode(item);
    });
    this.stack.pop();
    this.room(1)[this.p++] = C.RBRACE;
  }

  private enter(container: object): void {
    const stack = this.stack;
    for (let k = 0; k < stack.length; k++) {
      if (stack[k] === container) throw new Error('Circular reference detected');
    }
    stack.push(container);
  }
}

/** ASCII codes of the hex digits. */
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Python's `float.__repr__` as json writes it: the shortest round-tripping digits, positional
 * when the decimal exponent is in [-4, 16), else `d[.ddd]e±XX`; `NaN`, `Infinity`, `-Infinity`.
 */
export function floatRepr(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax >= 1e-4 && ax < 1e16) {
    // JS writes this range positionally with the same shortest digits.
    const t = String(x);
    return t.includes('.') ? t : t + '.0';
  }
  // Decompose JS's shortest representation into digits and a decimal-point position.
  let t = String(ax);
  let exp = 0;
  const e = t.indexOf('e');
  if (e >= 0) {
    exp = Number(t.slice(e + 1));
    t = t.slice(0, e);
  }
  const dot = t.indexOf('.');
  let digits = dot < 0 ? t : t.slice(0, dot) + t.slice(dot + 1);
  let decpt = (dot < 0 ? t.length : dot) + exp;
  let lead = 0;
  while (digits.charCodeAt(lead) === C.D0) lead++;
  let end = digits.length;
  while (end > lead + 1 && digits.charCodeAt(end - 1) === C.D0) end--;
  digits = digits.slice(lead, end);
  decpt -= lead;
  const e10 = decpt - 1;
  const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const absExp = Math.abs(e10);
  return (x < 0 ? '-' : '') + mant + (e10 < 0 ? 'e-' : 'e+') + (absExp < 10 ? '0' : '') + absExp;
}
