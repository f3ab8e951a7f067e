/**
 * Python's `time.strftime` for oslo.log's `log_date_format` (default `%Y-%m-%d %H:%M:%S`), in local
 * time as Python's logging formats `%(asctime)s`. The C library's directives that Python passes
 * on are supported; an unknown directive is kept as written (glibc does the same).
 *
 *   strftime('%Y-%m-%d %H:%M:%S', new Date())   // "2026-12-07 20:15:01"
 */
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const p2 = (n: number) => String(n).padStart(2, '0');

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86_400_000) + 1;
}

/** `+0100`: the local offset from UTC. */
function offset(d: Date): string {
  const m = -d.getTimezoneOffset();
  const a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
  return part?.value ?? offset(d);
}

const DIRECTIVES: Record<string, (d: Date) => string> = {
  Y: (d) => String(d.getFullYear()),
  y: (d) => p2(d.getFullYear() % 100),
  m: (d) => p2(d.getMonth() + 1),
  d: (d) => p2(d.getDate()),
  e: (d) => String(d.getDate()).padStart(2, ' '),
  H: (d) => p2(d.getHours()),
  I: (d) => p2(d.getHours() % 12 || 12),
  M: (d) => p2(d.getMinutes()),
  S: (d) => p2(d.getSeconds()),
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  a: (d) => DAYS[d.getDay()]!.slice(0, 3),
  A: (d) => DAYS[d.getDay()]!,
  w: (d) => String(d.getDay()),
  u: (d) => String(d.getDay() || 7),
  b: (d) => MONTHS[d.getMonth()]!.slice(0, 3),
  h: (d) => MONTHS[d.getMonth()]!.slice(0, 3),
  B: (d) => MONTHS[d.getMonth()]!,
  j: (d) => String(dayOfYear(d)).padStart(3, '0'),
  z: offset,
  Z: zoneName,
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  F: (d) => `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`,
  T: (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`,
  R: (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}`,
  D: (d) => `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`,
  c: (d) => `${DAYS[d.getDay()]!.slice(0, 3)} ${MONTHS[d.getMonth()]!.slice(0, 3)} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`,
  x: (d) => `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`,
  X: (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`,
  n: () => '\n',
  t: () => '\t',
  '%': () => '%',
};

export function strftime(format: string, d: Date): string {
  return format.replace(/%(.)/gs, (whole, c: string) => DIRECTIVES[c]?.(d) ?? whole);
}
