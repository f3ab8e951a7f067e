/**
 * raw_template JSON rewrites of 037, 041 and 043 (MIGRATIONS.md §2.5, §3).
 *
 * `rewriteTemplates(e, step, decide)` streams raw_template in id order (keyset pagination), calls
 * `decide(text)` for each row and writes back only the rows for which it returns new text. Memory
 * is bounded by construction: a batch is at most {@link BATCH} rows AND at most
 * {@link READ_BYTES} of template text (the sizes are read first, so a batch never holds more; a
 * row larger than that is read alone), writes go out once {@link WRITE_ROWS} rows or
 * `writeBytes` are pending (one UPDATE in flight at a time, not waited for while the next rows are
 * parsed), and at most two batches are held: the one being decided and the next one, read ahead
 * so that the server reads while this process parses.
 *
 * Every write sets a row's final text in one statement (several rows per UPDATE: a long data step
 * on MySQL is otherwise one commit per row), so a step interrupted between statements converges
 * when it runs again, and no row is ever half-written. Rows that need no change are never written,
 * so they keep their text byte for byte. `decide` reproduces Heat's Python on the parsed document
 * ({@link PyJson}); where Heat crashed on bad data, it throws a {@link TemplateDataError} that
 * names the step, the table and the row, and says what to fix.
 *
 * MySQL/MariaDB specifics (measured, bench/README.md): the column is read as bytes
 * (`CAST(template AS BINARY)`) and decoded here with a strict UTF-8 decoder — exact for Heat's
 * utf8/utf8mb4 columns, and it keeps mysql2 from decoding `utf8` results through iconv-lite's
 * CESU-8 decoder (a URL with `?charset=utf8` made 037 five times slower and 500 MB big); new text
 * (always ASCII: Python's json.dumps escapes the rest) is sent as bytes, which the driver writes as a
 * hex literal instead of escaping the JSON's every quote. A batched write never exceeds the
 * server's `max_allowed_packet`, read at the start of the step. A value of a megabyte or more, or
 * one that does not fit one packet, is written alone with `migrate_engine.writeLargeText`, which on
 * MySQL streams it with LOAD DATA LOCAL INFILE (any size; no string function can assemble a value
 * past `max_allowed_packet`). Where the server refuses LOCAL INFILE and the value does not fit,
 * the engine stops before writing that row, naming the row, its size, the limit and both fixes.
 */
import type { MigrateEngine, Row } from '../../migrate/script/contract.js';
import { isObject, loads, PyJsonDecodeError, type PyJson, type PyObject } from './pyjson.js';

/** Most rows per read batch. */
export const BATCH = 500;
/**
 * Most bytes of template text per read batch (a bigger row is read alone). 1 MB: on PostgreSQL the
 * batch's rows are JS strings on the heap, and step 037 at N = 20 000 peaked at 164 MB RSS with 4 MB
 * batches, 130 MB with 2 MB, 123 MB with 1 MB, for the same CPU time (bench/README.md).
 */
export const READ_BYTES = 1 << 20;
/** Most rows per UPDATE. */
const WRITE_ROWS = 100;
/** Most bytes of new text per UPDATE (lowered to fit the server's max_allowed_packet). */
const WRITE_BYTES = 4 << 20;
/**
 * A new text this long (characters; json.dumps output is ASCII) or one that does not fit an UPDATE
 * is written alone with `migrate_engine.writeLargeText`: on MySQL it streams (no escaped or hex SQL
 * text of its size is built: one or two copies of the value fewer at the peak) and it is not
 * limited by max_allowed_packet. Its few extra round trips are nothing next to 1 MB.
 */
const LARGE_VALUE = 1 << 20;
/** Room for the UPDATE's own text around the values, per row and per statement. */
const ROW_OVERHEAD = 64;
const STATEMENT_OVERHEAD = 1024;

/** Bad template data that Heat's script would have crashed on. */
export class TemplateDataError extends Error {
  override readonly name = 'TemplateDataError';
}

/** A problem in one template; `rewriteTemplates` adds the step and row to the message. */
export class TemplateProblem extends Error {}

/** New text for the row, or null to leave it untouched. */
export type Decide = (text: string | null) => string | null;

/** How a step reads and writes raw_template on this connection. */
interface Io {
  /** Column expression for the template (bytes on MySQL when that is exact). */
  readonly column: string;
  /** Byte length of the template, in SQL. */
  readonly length: string;
  /** Largest statement the server takes (MySQL), else Infinity. */
  readonly maxPacket: number;
  /** Send new text as bytes (hex literal on MySQL). */
  readonly bytesOut: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function io(e: MigrateEngine): Promise<Io> {
  if (e.dialect === 'postgresql') return { column: 'template', length: 'OCTET_LENGTH(template)', maxPacket: Infinity, bytesOut: false };
  if (e.dialect === 'sqlite') return { column: 'template', length: 'LENGTH(CAST(template AS BLOB))', maxPacket: Infinity, bytesOut: false };
  const rows = await e.query(
    'SELECT @@max_allowed_packet AS max_packet, (SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS ' +
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'raw_template' AND COLUMN_NAME = 'template') AS charset",
  );
  const charset = String(rows[0]?.charset ?? '');
  // The stored bytes are the text only in a UTF-8 column; otherwise let the server convert.
  const utf8 = /^utf8(mb3|mb4)?$/i.test(charset);
  return {
    column: utf8 ? 'CAST(template AS BINARY)' : 'template',
    length: 'LENGTH(template)',
    maxPacket: Number(rows[0]?.max_packet ?? 16 << 20),
    bytesOut: true,
  };
}

/**
 * The row's text: bytes decoded as strict UTF-8 (invalid bytes: the server's own conversion).
 * `bytes` is the stored length (undefined for NULL): MariaDB's CAST yields NULL for a value longer than
 * max_allowed_packet, which is then read in pieces.
 */
async function textOf(e: MigrateEngine, how: Io, id: number, raw: unknown, bytes: number | undefined): Promise<string | null> {
  if (raw === null || raw === undefined) return bytes === undefined ? null : readInPieces(e, how, id, bytes);
  if (!Buffer.isBuffer(raw)) return String(raw);
  try {
    return UTF8.decode(raw);
  } catch {
    // Not valid UTF-8 (a surrogate code point stored in a utf8mb3 column): read it as text, as
    // before, and let the driver decide.
    const rows = await e.query('SELECT template FROM raw_template WHERE id = ?', [id]);
    const v = rows[0]?.template;
    return v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
}

/**
 * A value longer than max_allowed_packet (MySQL): read as byte strings of whole characters, each
 * well under the limit (a utf8mb4 character is at most 4 bytes), decoded one by one.
 */
async function readInPieces(e: MigrateEngine, how: Io, id: number, bytes: number): Promise<string> {
  const chars = Math.max(1024, Math.floor((how.maxPacket - STATEMENT_OVERHEAD) / 4));
  let out = '';
  let got = 0;
  for (let from = 1; got < bytes; from += chars) {
    const rows = await e.query('SELECT CAST(SUBSTRING(template, ?, ?) AS BINARY) AS piece FROM raw_template WHERE id = ?', [from, chars, id]);
    const piece = rows[0]?.piece;
    if (!Buffer.isBuffer(piece) || piece.length === 0) throw new Error(`raw_template row id=${id} changed while it was being read`);
    got += piece.length;
    out += UTF8.decode(piece);
  }
  return out;
}

/** One read batch: its rows (id order), their stored byte lengths, and where the next one starts. */
interface Batch {
  /** Null: not read yet (a row larger than READ_BYTES is not read ahead). */
  rows: Row[] | null;
  readonly after: number;
  readonly stored: Map<number, number>;
  readonly upTo: number;
  readonly final: boolean;
}

const rowsOf = (e: MigrateEngine, how: Io, after: number, upTo: number) =>
  e.query(`SELECT id, ${how.column} AS template FROM raw_template WHERE id > ? AND id <= ? ORDER BY id`, [after, upTo]);

/**
 * Reads the batch after row id `after`: sizes first, cut where its text would pass READ_BYTES. Read
 * ahead (`ahead`), a batch of one row larger than READ_BYTES gets its sizes only: two big templates
 * are never held at once.
 */
async function readBatch(e: MigrateEngine, how: Io, after: number, ahead = false): Promise<Batch | null> {
  const sizes = await e.query(`SELECT id, ${how.length} AS len FROM raw_template WHERE id > ? ORDER BY id LIMIT ${BATCH}`, [after]);
  if (sizes.length === 0) return null;
  let upTo = Number(sizes[0]!.id);
  let bytes = 0;
  for (const r of sizes) {
    const len = Number(r.len ?? 0);
    if (bytes > 0 && bytes + len > READ_BYTES) break;
    bytes += len;
    upTo = Number(r.id);
  }
  const stored = new Map<number, number>();
  for (const r of sizes) if (r.len !== null && r.len !== undefined) stored.set(Number(r.id), Number(r.len));
  const final = sizes.length < BATCH && upTo >= Number(sizes[sizes.length - 1]!.id);
  const rows = ahead && bytes > READ_BYTES ? null : await rowsOf(e, how, after, upTo);
  return { rows, after, stored, upTo, final };
}

export async function rewriteTemplates(e: MigrateEngine, step: string, decide: Decide): Promise<void> {
  const countRows = await e.query('SELECT COUNT(*) AS n FROM raw_template');
  const total = Number(countRows[0]?.n ?? 0);
  if (total === 0) return;
  const how = await io(e);
  const w = new Writer(e, how);
  let done = 0;
  let ahead: Promise<Batch | null> | null = readBatch(e, how, -1);
  try {
    for (let batch = await ahead; batch; batch = ahead ? await ahead : null) {
      // Read ahead: the next batch's statements go to the server now, so that it reads while this
      // batch is parsed here (rows are disjoint: this batch's writes touch ids <= batch.upTo only).
      // Issued before this batch's UPDATEs, they still queue on the one connection in order.
      batch.rows ??= await rowsOf(e, how, batch.after, batch.upTo);
      ahead = batch.final ? null : readBatch(e, how, batch.upTo, true);
      ahead?.catch(() => undefined); // awaited below or in finally; never an unhandled rejection
      for (const row of batch.rows) {
        const id = Number(row.id);
        const text = await textOf(e, how, id, row.template, batch.stored.get(id));
        row.template = null; // the bytes are no longer needed
        let next: string | null;
        try {
          next = decide(text);
        } catch (err) {
          if (err instanceof TemplateProblem) {
            throw new TemplateDataError(
              `migration ${step}: raw_template row id=${id}: ${err.message}. Heat's own migration fails on this row too; ` +
                'fix the template (or delete the row if no stack uses it) and run the upgrade again.',
            );
          }
          throw err;
        }
        if (next !== null && next !== text) await w.add(id, next);
      }
      done += batch.rows.length;
      batch.rows = [];
      await w.send();
      e.progress(done, total);
      e.logger.debug({ step, done, total, changed: w.changed }, 'raw_template rows checked');
    }
    await w.flush();
  } finally {
    // A failed batch: nothing of ours stays in flight on the connection when the step ends.
    if (ahead) await ahead.catch(() => undefined);
    await w.settle().catch(() => undefined);
  }
  e.logger.info({ step, done, total, changed: w.changed }, 'raw_template rows checked and rewritten');
}

/** Pending new texts, written several rows per UPDATE within the server's packet limit. */
class Writer {
  private pending: Array<[number, string | Buffer]> = [];
  private bytes = 0;
  private inFlight: Promise<void> | null = null;
  changed = 0;
  /** Bytes of values one UPDATE may carry. */
  private readonly budget: number;

  constructor(
    private readonly e: MigrateEngine,
    private readonly how: Io,
  ) {
    this.budget = Math.min(WRITE_BYTES, this.how.maxPacket - STATEMENT_OVERHEAD);
  }

  /** Bytes the value takes in the statement (a hex literal doubles it). */
  private cost(v: string | Buffer): number {
    return (Buffer.isBuffer(v) ? 2 * v.length : 2 * v.length + 2) + ROW_OVERHEAD;
  }

  async add(id: number, text: string): Promise<void> {
    const v: string | Buffer | undefined = text.length >= LARGE_VALUE ? undefined : this.how.bytesOut ? Buffer.from(text, 'utf8') : text;
    if (v === undefined || this.cost(v) > this.budget) {
      // Alone, streamed by the engine (past max_allowed_packet too); the rows before it first.
      await this.flush();
      await this.e.writeLargeText({ table: 'raw_template', column: 'template', key: { id } }, text);
      this.changed++;
      return;
    }
    const c = this.cost(v);
    if (this.pending.length > 0 && (this.pending.length >= WRITE_ROWS || this.bytes + c > this.budget)) await this.send();
    this.pending.push([id, v]);
    this.bytes += c;
  }

  /**
   * Sends the pending rows as one UPDATE without waiting for it (the next rows are parsed while the
   * server writes); at most one UPDATE is in flight: the previous one is awaited first.
   */
  async send(): Promise<void> {
    const rows = this.pending;
    if (rows.length === 0) return;
    await this.settle();
    this.pending = [];
    this.bytes = 0;
    let sent: Promise<number>;
    if (rows.length === 1) {
      sent = this.e.execute('UPDATE raw_template SET template = ? WHERE id = ?', [rows[0]![1], rows[0]![0]]);
    } else {
      const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
      const ids = rows.map(() => '?').join(', ');
      const params: unknown[] = [];
      for (const [id, v] of rows) params.push(id, v);
      for (const [id] of rows) params.push(id);
      sent = this.e.execute(`UPDATE raw_template SET template = CASE id ${cases} END WHERE id IN (${ids})`, params);
    }
    this.inFlight = sent.then(() => void (this.changed += rows.length));
    this.inFlight.catch(() => undefined); // awaited by settle(); never an unhandled rejection
  }

  /** Waits for the UPDATE in flight, if any (its error surfaces here). */
  async settle(): Promise<void> {
    const p = this.inFlight;
    this.inFlight = null;
    if (p) await p;
  }

  /** Everything pending written and done. */
  async flush(): Promise<void> {
    await this.send();
    await this.settle();
  }
}

/** Parses a template as Heat does; NULL and non-JSON text are problems. */
export function parseTemplate(text: string | null): PyJson {
  if (text === null) throw new TemplateProblem('template is NULL (Heat fails with TypeError)');
  try {
    return loads(text);
  } catch (err) {
    if (err instanceof PyJsonDecodeError) {
      throw new TemplateProblem(`template is not JSON (JSONDecodeError: ${err.message})`);
    }
    throw err;
  }
}

function pyTypeName(v: PyJson | undefined): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (isObject(v)) return 'dict';
  return v.constructor.name === 'PyInt' ? 'int' : 'float';
}

/** Python's `key in container` for a parsed JSON value (dict keys, list items, substrings). */
export function pyIn(container: PyJson | undefined, key: string, what: string): boolean {
  if (isObject(container)) return container.has(key);
  if (Array.isArray(container)) return container.some((x) => x === key);
  if (typeof container === 'string') return container.includes(key);
  throw new TemplateProblem(`${what} is a JSON ${pyTypeName(container)}, not an object (Heat fails with TypeError)`);
}

/** The value as a dict, or a problem saying what it is instead. */
export function expectObject(v: PyJson | undefined, what: string, pyError: string): PyObject {
  if (isObject(v)) return v;
  throw new TemplateProblem(`${what} is a JSON ${pyTypeName(v)}, not an object (Heat fails with ${pyError})`);
}
