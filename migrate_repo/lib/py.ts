/**
 * Python 3 string and time helpers used by Heat's migrations 037 and 043:
 * `str.istitle()`, `str.lower()` and `time.strptime(value, '%Y-%m-%d')`.
 *
 * Unicode data: Python's character flags (upper, lower, titlecase, decimal, cased,
 * case-ignorable) are the Unicode properties `Uppercase`, `Lowercase`, `Lt`, `Nd`, `Cased`,
 * `Case_Ignorable`, and `str.lower()` is the full lower-case mapping with the Final_Sigma rule —
 * the same data JavaScript's `\p{…}` and `toLowerCase()` use. Only the Unicode *versions* differ:
 * {@link OVERRIDES} pins the characters whose data changed between Unicode 14.0 (Python 3.11, the
 * reference interpreter) and the Unicode of this Node runtime (17.0), which was checked code point
 * by code point against Python 3.11. Characters that a newer Node assigns after 17.0 are not
 * pinned.
 */

const UPPER = 1;
const LOWER = 2;
const TITLE = 4;
const DECIMAL = 8;
const CASED = 16;
const CASE_IGNORABLE = 32;

/**
 * `[first, last, flags]` triples: Python 3.11's flags for the code points whose Unicode data
 * differ from this runtime's. Their Python lower-case mapping is the identity. Almost all were
 * unassigned in Unicode 14.0 (flags 0); U+0295 lost its lower-case status in Unicode 16.0.
 */
const OVERRIDES: readonly number[] = [
  0x295, 0x295, LOWER | CASED, 0x897, 0x897, 0, 0xece, 0xece, 0, 0x10fc, 0x10fc, CASE_IGNORABLE,
  0x1acf, 0x1add, 0, 0x1ae0, 0x1aeb, 0, 0x1c89, 0x1c8a, 0, 0xa7cb, 0xa7cf, 0, 0xa7d2, 0xa7d2, 0,
  0xa7d4, 0xa7d4, 0, 0xa7da, 0xa7dc, 0, 0xa7f1, 0xa7f1, 0, 0xa7f2, 0xa7f4, CASE_IGNORABLE,
  0xab69, 0xab69, CASE_IGNORABLE, 0x10d40, 0x10d49, 0, 0x10d4e, 0x10d4e, 0, 0x10d50, 0x10d65, 0,
  0x10d69, 0x10d6d, 0, 0x10d6f, 0x10d85, 0, 0x10ec5, 0x10ec5, 0, 0x10efa, 0x10eff, 0,
  0x11241, 0x11241, 0, 0x113bb, 0x113c0, 0, 0x113ce, 0x113ce, 0, 0x113d0, 0x113d0, 0,
  0x113d2, 0x113d2, 0, 0x113e1, 0x113e2, 0, 0x116d0, 0x116e3, 0, 0x1171e, 0x1171e, CASE_IGNORABLE,
  0x11b60, 0x11b60, 0, 0x11b62, 0x11b64, 0, 0x11b66, 0x11b66, 0, 0x11bf0, 0x11bf9, 0,
  0x11dd9, 0x11dd9, 0, 0x11de0, 0x11de9, 0, 0x11f00, 0x11f01, 0, 0x11f36, 0x11f3a, 0,
  0x11f40, 0x11f40, 0, 0x11f42, 0x11f42, 0, 0x11f50, 0x11f5a, 0, 0x13439, 0x13440, 0,
  0x13447, 0x13455, 0, 0x1611e, 0x16129, 0, 0x1612d, 0x16139, 0, 0x16d40, 0x16d42, 0,
  0x16d6b, 0x16d6c, 0, 0x16d70, 0x16d79, 0, 0x16ea0, 0x16eb8, 0, 0x16ebb, 0x16ed3, 0,
  0x16ff2, 0x16ff3, 0, 0x1ccf0, 0x1ccf9, 0, 0x1df25, 0x1df2a, 0, 0x1e030, 0x1e06d, 0,
  0x1e08f, 0x1e08f, 0, 0x1e4eb, 0x1e4f9, 0, 0x1e5ee, 0x1e5ef, 0, 0x1e5f1, 0x1e5fa, 0,
  0x1e6e3, 0x1e6e3, 0, 0x1e6e6, 0x1e6e6, 0, 0x1e6ee, 0x1e6ef, 0, 0x1e6f5, 0x1e6f5, 0,
  0x1e6ff, 0x1e6ff, 0,
];

/** Python's flags of a pinned code point, or -1 when the runtime's Unicode data apply. */
function override(cp: number): number {
  if (cp < 0x295) return -1;
  for (let k = 0; k < OVERRIDES.length; k += 3) {
    if (cp < OVERRIDES[k]!) return -1;
    if (cp <= OVERRIDES[k + 1]!) return OVERRIDES[k + 2]!;
  }
  return -1;
}

const RE_UPPER = /^\p{Uppercase}$/u;
const RE_LOWER = /^\p{Lowercase}$/u;
const RE_TITLE = /^\p{Lt}$/u;
const RE_DECIMAL = /^\p{Nd}$/u;
const RE_CASED = /^\p{Cased}$/u;
const RE_CASE_IGNORABLE = /^\p{Case_Ignorable}$/u;

/** Python's `_PyUnicode_*` flags of one code point (only the bits asked for in `mask`). */
function flags(cp: number, mask: number): number {
  if (cp < 0x80) {
    let f = 0;
    if (cp >= 0x41 && cp <= 0x5a) f = UPPER | CASED;
    else if (cp >= 0x61 && cp <= 0x7a) f = LOWER | CASED;
    else if (cp >= 0x30 && cp <= 0x39) f = DECIMAL;
    else if (cp === 0x27 || cp === 0x2e || cp === 0x3a || cp === 0x5e || cp === 0x60) f = CASE_IGNORABLE;
    return f & mask;
  }
  const o = override(cp);
  if (o >= 0) return o & mask;
  const c = String.fromCodePoint(cp);
  let f = 0;
  if (mask & UPPER && RE_UPPER.test(c)) f |= UPPER;
  if (mask & LOWER && RE_LOWER.test(c)) f |= LOWER;
  if (mask & TITLE && RE_TITLE.test(c)) f |= TITLE;
  if (mask & DECIMAL && RE_DECIMAL.test(c)) f |= DECIMAL;
  if (mask & CASED && RE_CASED.test(c)) f |= CASED;
  if (mask & CASE_IGNORABLE && RE_CASE_IGNORABLE.test(c)) f |= CASE_IGNORABLE;
  return f;
}

/**
 * Python 3 `str.istitle()`: true when there is at least one cased character, every upper- or
 * title-case character follows an uncased one and every lower-case character follows a cased one.
 */
export function istitle(s: string): boolean {
  let cased = false;
  let previousIsCased = false;
  for (const ch of s) {
    const f = flags(ch.codePointAt(0)!, UPPER | LOWER | TITLE);
    if (f & (UPPER | TITLE)) {
      if (previousIsCased) return false;
      previousIsCased = true;
      cased = true;
    } else if (f & LOWER) {
      if (!previousIsCased) return false;
      previousIsCased = true;
      cased = true;
    } else {
      previousIsCased = false;
    }
  }
  return cased;
}

/**
 * Python 3 `str.lower()`: full lower-case mapping (`'İ'` becomes `'i̇'`, two code points) and
 * Σ becomes ς at the end of a word (Final_Sigma, as Python's `handle_capital_sigma`).
 */
export function lower(s: string): string {
  let pinned = false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x295 && override(c >= 0xd800 && c <= 0xdbff ? s.codePointAt(k)! : c) >= 0) {
      pinned = true;
      break;
    }
  }
  // Without pinned characters the runtime's mapping and Final_Sigma rule are Python's.
  if (!pinned) return s.toLowerCase();
  const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
  let out = '';
  for (let k = 0; k < cps.length; k++) {
    const cp = cps[k]!;
    if (cp === 0x3a3) out += finalSigma(cps, k) ? '\u03c2' : '\u03c3';
    else if (override(cp) >= 0) out += String.fromCodePoint(cp);
    else out += String.fromCodePoint(cp).toLowerCase();
  }
  return out;
}

/** Python's `handle_capital_sigma`: `\p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})`. */
function finalSigma(cps: readonly number[], i: number): boolean {
  let j = i - 1;
  while (j >= 0 && flags(cps[j]!, CASE_IGNORABLE)) j--;
  if (j < 0 || !flags(cps[j]!, CASED)) return false;
  j = i + 1;
  while (j < cps.length && flags(cps[j]!, CASE_IGNORABLE)) j++;
  return j === cps.length || !flags(cps[j]!, CASED);
}

/** A calendar date as `time.strptime` returns it (`tm_year`, `tm_mon`, `tm_mday`). */
export interface Ymd {
  year: number;
  month: number;
  day: number;
}

/**
 * `time.strptime(value, '%Y-%m-%d')` → the date, or `null` where Python raises: `TypeError`
 * (`value` is not a string) or `ValueError` (no match, unconverted data, invalid date).
 *
 * Python's `_strptime` matches, case-insensitively and anchored at the start only,
 * `(?P<Y>\d\d\d\d)-(?P<m>1[0-2]|0[1-9]|[1-9])-(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])`, then
 * requires the match to cover the whole string. `\d` is any Unicode decimal digit (so the year
 * may be written in, say, Arabic-Indic digits), and `int()` reads those digits. The date must
 * exist: year 1..9999, Feb 29 only in leap years.
 */
export function strptimeYmd(value: unknown): Ymd | null {
  if (typeof value !== 'string') return null;
  const cps = Array.from(value, (ch) => ch.codePointAt(0)!);
  const n = cps.length;
  let i = 0;
  // %Y: exactly four decimal digits.
  let year = 0;
  for (; i < 4; i++) {
    const d = i < n ? decimalValue(cps[i]!) : -1;
    if (d < 0) return null;
    year = year * 10 + d;
  }
  if (cps[i++] !== 0x2d) return null;
  // %m: 1[0-2] | 0[1-9] | [1-9]  (the alternatives are tried in this order).
  let month: number;
  const m0 = cps[i];
  const m1 = cps[i + 1];
  if (m0 === 0x31 && m1 !== undefined && m1 >= 0x30 && m1 <= 0x32) {
    month = 10 + (m1 - 0x30);
    i += 2;
  } else if (m0 === 0x30 && m1 !== undefined && m1 >= 0x31 && m1 <= 0x39) {
    month = m1 - 0x30;
    i += 2;
  } else if (m0 !== undefined && m0 >= 0x31 && m0 <= 0x39) {
    month = m0 - 0x30;
    i += 1;
  } else {
    return null;
  }
  if (cps[i++] !== 0x2d) return null;
  // %d: 3[0-1] | [1-2]\d | 0[1-9] | [1-9] | ' '[1-9]; the first alternative that matches wins
  // because nothing follows it in the pattern.
  let day: number;
  const d0 = cps[i];
  const d1 = cps[i + 1];
  const d1Value = d1 === undefined ? -1 : decimalValue(d1);
  if (d0 === 0x33 && (d1 === 0x30 || d1 === 0x31)) {
    day = 30 + (d1 - 0x30);
    i += 2;
  } else if ((d0 === 0x31 || d0 === 0x32) && d1Value >= 0) {
    day = (d0 - 0x30) * 10 + d1Value;
    i += 2;
  } else if (d0 === 0x30 && d1 !== undefined && d1 >= 0x31 && d1 <= 0x39) {
    day = d1 - 0x30;
    i += 2;
  } else if (d0 !== undefined && d0 >= 0x31 && d0 <= 0x39) {
    day = d0 - 0x30;
    i += 1;
  } else if (d0 === 0x20 && d1 !== undefined && d1 >= 0x31 && d1 <= 0x39) {
    day = d1 - 0x30;
    i += 2;
  } else {
    return null;
  }
  if (i !== n) return null; // "unconverted data remains"
  if (year < 1 || day > daysInMonth(year, month)) return null; // datetime.date() ValueError
  return { year, month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The value 0..9 of a Unicode decimal digit (Python's `\d` and `int()`), else -1. Decimal digits
 * come in runs of ten starting at zero (a Unicode stability guarantee), so the value is the
 * distance from the start of the run modulo 10.
 */
function decimalValue(cp: number): number {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  if (cp < 0x80 || !flags(cp, DECIMAL)) return -1;
  let start = cp;
  while (flags(start - 1, DECIMAL)) start--;
  return (cp - start) % 10;
}
