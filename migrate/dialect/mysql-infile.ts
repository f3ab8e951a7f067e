/**
 * MigrateEngine.writeLargeText on MySQL/MariaDB: a value of any size, past max_allowed_packet.
 *
 * One statement carries at most max_allowed_packet (the session value is read-only), and every
 * string function that could assemble a longer value from pieces returns NULL past it
 * (bench/README.md, "Issue 9 — big rows"). `LOAD DATA LOCAL INFILE` is not limited that way: the
 * client streams the "file" in packets of its own, and a field may be longer than the limit. So
 * the value is streamed into a one-row session TEMPORARY table and copied into the row on the
 * server by one `UPDATE … JOIN` (no string function involved), then the temporary table is dropped.
 * All on the caller's connection: the migration's own, inside its transaction if it has one.
 *
 * The file format: one field, one line (`FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES
 * TERMINATED BY '\n'`); the value's backslashes, tabs, newlines, carriage returns and NUL bytes are
 * written as `\\ \t \n \r \0`. In UTF-8 (and in raw bytes) those bytes never occur inside a
 * multi-byte character, so escaping byte by byte is exact. The value is escaped in slices while it
 * streams: no escaped copy of the whole value is built.
 *
 * When the server refuses LOCAL INFILE (`local_infile` OFF, MySQL 8's default), a value that fits
 * one statement is written with an ordinary UPDATE; one that does not stops before anything is
 * written, with one line naming the row, the size, the limit and both fixes.
 */
import { Readable } from 'node:stream';
import { LargeValueError } from '../errors.js';
import type { LargeTextRow } from '../script/contract.js';
import { driverError } from './helpers.js';
import type { Queryable } from './contract.js';

const TEMP = 'migrate_large_text';
/** Characters (or bytes) of the value per streamed chunk: one client packet of at most ~200 KB each, well under max_allowed_packet. */
const SLICE = 32 << 10;
/** Room for the UPDATE's own text around the value. */
const STATEMENT_OVERHEAD = 1024;

/** The server refused LOAD DATA LOCAL: MySQL 1148 (old) / 3948 (8.0), MariaDB 4166. */
export function isLocalInfileRefused(e: unknown): boolean {
  const { errno } = driverError(e);
  return errno === 1148 || errno === 3948 || errno === 4166;
}

/** Escape table of the LOAD DATA format above: byte → the letter after the backslash. */
const ESCAPE = new Map<number, number>([
  [0x5c, 0x5c], // \ → \\
  [0x09, 0x74], // tab → \t
  [0x0a, 0x6e], // newline → \n
  [0x0d, 0x72], // CR → \r
  [0x00, 0x30], // NUL → \0
]);

/** The value in UTF-8 (or its bytes) in slices, never splitting a surrogate pair; no copy of the whole value. */
function* slices(value: string | Buffer): Generator<Buffer> {
  if (Buffer.isBuffer(value)) {
    for (let at = 0; at < value.length; at += SLICE) yield value.subarray(at, at + SLICE);
    return;
  }
  for (let at = 0; at < value.length; ) {
    let end = Math.min(value.length, at + SLICE);
    const last = value.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff && end < value.length) end++;
    yield Buffer.from(value.slice(at, end), 'utf8');
    at = end;
  }
}

/** The value as one LOAD DATA line, escaped slice by slice. */
export function* infileLine(value: string | Buffer): Generator<Buffer> {
  for (const slice of slices(value)) {
    let specials = 0;
    for (const b of slice) if (ESCAPE.has(b)) specials++;
    if (specials === 0) {
      yield slice;
      continue;
    }
    const out = Buffer.allocUnsafe(slice.length + specials);
    let o = 0;
    for (const b of slice) {
      const letter = ESCAPE.get(b);
      if (letter === undefined) out[o++] = b;
      else {
        out[o++] = 0x5c;
        out[o++] = letter;
      }
    }
    yield out;
  }
  yield Buffer.from('\n');
}

const LITERAL_ESCAPES = new Set([0, 8, 9, 10, 13, 26, 0x22, 0x27, 0x5c]);

/** How many bytes the value takes as an escaped string literal (mysql2: `\0 \b \t \n \r \x1a " ' \\`), or as hex for bytes. */
function literalBytes(value: string | Buffer, bytes: number): number {
  if (Buffer.isBuffer(value)) return 2 * bytes + 3;
  let n = bytes + 2;
  for (let i = 0; i < value.length; i++) if (LITERAL_ESCAPES.has(value.charCodeAt(i))) n++;
  return n;
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

export async function writeLargeTextByInfile(q: Queryable, row: LargeTextRow, value: string | Buffer, quote: (id: string) => string): Promise<number> {
  const keys = Object.entries(row.key);
  const where = keys.map(([k]) => `t.${quote(k)} = ?`).join(' AND ');
  const keyValues = keys.map(([, v]) => v);
  const bytes = Buffer.isBuffer(value) ? value.length : Buffer.byteLength(value, 'utf8');
  const [server] = await q.query('SELECT @@max_allowed_packet AS max_packet, @@local_infile AS local_infile');
  const maxPacket = Number(server?.max_packet ?? 16 << 20);
  const update = `UPDATE ${quote(row.table)} t SET t.${quote(row.column)} = ? WHERE ${where}`;
  const fits = literalBytes(value, bytes) + update.length + STATEMENT_OVERHEAD <= maxPacket;

  const refused = (cause?: unknown) => {
    const label = `${row.table}.${row.column} (${keys.map(([k, v]) => `${k}=${String(v)}`).join(', ')})`;
    const need = Math.ceil((literalBytes(value, bytes) + STATEMENT_OVERHEAD) / 1048576) + 1;
    return new LargeValueError(
      `cannot write the ${mb(bytes)} value of ${label}: one statement carries at most the server's max_allowed_packet ` +
        `(${mb(maxPacket)}) and the server refuses LOAD DATA LOCAL INFILE (local_infile is OFF), which writes larger values; this row was not changed. ` +
        `Either raise max_allowed_packet to ${need} MB (SET GLOBAL max_allowed_packet = ${need} * 1024 * 1024, or max_allowed_packet = ${need}M under [mysqld]) ` +
        'or enable local_infile (SET GLOBAL local_infile = 1, or local_infile = 1 under [mysqld]), and run again',
      cause === undefined ? undefined : { cause },
    );
  };
  const plain = () => q.execute(update, [value, ...keyValues]);
  if (Number(server?.local_infile ?? 1) === 0) {
    if (fits) return plain();
    throw refused();
  }

  const type = Buffer.isBuffer(value) ? 'LONGBLOB' : 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
  await q.execute(`DROP TEMPORARY TABLE IF EXISTS ${TEMP}`);
  // A primary key for servers that require one (sql_require_primary_key, innodb_force_primary_key).
  await q.execute(`CREATE TEMPORARY TABLE ${TEMP} (id TINYINT NOT NULL PRIMARY KEY, v ${type} NOT NULL)`);
  try {
    try {
      await q.execute(
        `LOAD DATA LOCAL INFILE '${TEMP}' INTO TABLE ${TEMP} CHARACTER SET ${Buffer.isBuffer(value) ? 'binary' : 'utf8mb4'} ` +
          "FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES STARTING BY '' TERMINATED BY '\\n' (v) SET id = 1",
        [],
        { infile: () => Readable.from(infileLine(value), { objectMode: false }) },
      );
    } catch (e) {
      if (!isLocalInfileRefused(e)) throw e;
      if (fits) return await plain();
      throw refused(e);
    }
    // What arrived is exactly the value (a truncation would be only a warning outside strict mode).
    const loaded = await q.query(`SELECT LENGTH(v) AS n FROM ${TEMP}`);
    if (loaded.length !== 1 || Number(loaded[0]!.n) !== bytes) {
      throw new LargeValueError(
        `LOAD DATA LOCAL INFILE for ${row.table}.${row.column} loaded ${loaded.length} row(s) of ${String(loaded[0]?.n)} bytes, not 1 of ${bytes}; nothing was written`,
      );
    }
    return await q.execute(`UPDATE ${quote(row.table)} t JOIN ${TEMP} s SET t.${quote(row.column)} = s.v WHERE ${where}`, keyValues);
  } finally {
    await q.execute(`DROP TEMPORARY TABLE IF EXISTS ${TEMP}`).catch(() => undefined);
  }
}
