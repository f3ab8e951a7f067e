/**
 * Naive UTC datetimes as integer microseconds since 1970-01-01 (BigInt), as Heat's
 * `timeutils.utcnow()` values: full precision (PostgreSQL keeps microseconds, a JS Date only
 * milliseconds), independent of TZ, and years 1..9999 like Python's datetime.
 *
 *   parseNaive('2020-03-03 00:00:00.5')  -> 1583193600500000n
 *   sqlText(t)    '2020-03-03 00:00:00.500000'  (what we bind and what SQLite compares textually)
 *   pyText(t)     '2020-03-03 00:00:00.500000'  (Python's str(datetime): no fraction when zero)
 */
export type Micros = bigint;

export const US_PER_S = 1_000_000n;
const US_PER_DAY = 86_400n * US_PER_S;
/** 0001-01-01 00:00:00, Python's datetime.min. */
export const MIN_MICROS = daysFromCivil(1, 1, 1) * US_PER_DAY;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): bigint {
  const yy = BigInt(m <= 2 ? y - 1 : y);
  const era = (yy >= 0n ? yy : yy - 399n) / 400n;
  const yoe = yy - era * 400n;
  const mp = BigInt((m + 9) % 12);
  const doy = (153n * mp + 2n) / 5n + BigInt(d - 1);
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146097n + doe - 719468n;
}

function civilFromDays(z0: bigint): [number, number, number] {
  const z = z0 + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = Number(doy - (153n * mp + 2n) / 5n + 1n);
  const m = Number(mp < 10n ? mp + 3n : mp - 9n);
  return [Number(yoe + era * 400n) + (m <= 2 ? 1 : 0), m, d];
}

const NAIVE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (or a `T`) -> micros; undefined when malformed or not a real date. */
export function parseNaive(text: string): Micros | undefined {
  const m = NAIVE.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const days = daysFromCivil(y, mo, d);
  if (civilFromDays(days)[2] !== d) return undefined; // 2021-02-30
  const frac = BigInt((m[7] ?? '').padEnd(6, '0') || '0');
  return days * US_PER_DAY + BigInt(h * 3600 + mi * 60 + s) * US_PER_S + frac;
}

/** A timestamp as the database gave it (string, or a Date from a driver that made one). */
export function fromDb(v: unknown): Micros | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  const t = parseNaive(String(v));
  if (t === undefined) throw new Error(`unreadable timestamp '${String(v)}' in the database`);
  return t;
}

function parts(t: Micros): { date: string; time: string; frac: bigint } {
  const days = t >= 0n ? t / US_PER_DAY : -((-t + US_PER_DAY - 1n) / US_PER_DAY);
  const rest = t - days * US_PER_DAY;
  const [y, m, d] = civilFromDays(days);
  const secs = Number(rest / US_PER_S);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}`,
    time: `${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}`,
    frac: rest % US_PER_S,
  };
}

/** `YYYY-MM-DD HH:MM:SS.ffffff`, all six digits: what we bind, and SQLAlchemy's SQLite text form. */
export function sqlText(t: Micros): string {
  const p = parts(t);
  return `${p.date} ${p.time}.${String(p.frac).padStart(6, '0')}`;
}

/** Python's `str(datetime)`: the fraction only when it is not zero. */
export function pyText(t: Micros): string {
  const p = parts(t);
  return `${p.date} ${p.time}${p.frac ? `.${String(p.frac).padStart(6, '0')}` : ''}`;
}

/** "Now" of a heat-manage run: HEAT_MANAGE_NOW when given (validated), else the process clock. */
export function resolveNow(override: string | undefined, clockMs: number = Date.now()): Micros {
  if (override === undefined) return BigInt(clockMs) * 1000n;
  const t = parseNaive(override);
  if (t === undefined || /T/.test(override)) {
    throw new Error(`HEAT_MANAGE_NOW must be 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC); unset it to use the clock`);
  }
  return t;
}
