/**
 * raw_template JSON rewrites of 037, 041 and 043 (MIGRATIONS.md §2.5, §3).
 *
 * `rewriteTemplates(e, step, decide)` streams raw_template in id order, 500 rows at a time (keyset
 * pagination, so memory stays flat), calls `decide(text)` for each row and writes back only the
 * rows for which it returns new text, up to 100 rows per UPDATE (a long data step on MySQL is
 * otherwise one commit per row). Every write sets the row's final text, so a step interrupted
 * between writes converges when it runs again. Rows that need no change are never written, so they keep their
 * text byte for byte. `decide` reproduces Heat's Python on the parsed document ({@link PyJson}); where
 * Heat crashed on bad data, it throws a {@link TemplateDataError} that names the step, the table and
 * the row, and says what to fix.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { isObject, loads, PyJsonDecodeError, type PyJson, type PyObject } from './pyjson.js';

export const BATCH = 500;

/** Bad template data that Heat's script would have crashed on. */
export class TemplateDataError extends Error {
  override readonly name = 'TemplateDataError';
}

/** A problem in one template; `rewriteTemplates` adds the step and row to the message. */
export class TemplateProblem extends Error {}

/** New text for the row, or null to leave it untouched. */
export type Decide = (text: string | null) => string | null;

export async function rewriteTemplates(e: MigrateEngine, step: string, decide: Decide): Promise<void> {
  const countRows = await e.query('SELECT COUNT(*) AS n FROM raw_template');
  const total = Number(countRows[0]?.n ?? 0);
  if (total === 0) return;
  let last = -1;
  let done = 0;
  let changed = 0;
  for (;;) {
    const rows = await e.query(`SELECT id, template FROM raw_template WHERE id > ? ORDER BY id LIMIT ${BATCH}`, [last]);
    if (rows.length === 0) break;
    const pending: Array<[number, string]> = [];
    let pendingChars = 0;
    for (const row of rows) {
      const id = Number(row.id);
      const raw = row.template;
      const text = raw === null || raw === undefined ? null : Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
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
      if (next !== null && next !== text) {
        pending.push([id, next]);
        pendingChars += next.length;
        if (pending.length >= WRITE_ROWS || pendingChars >= WRITE_CHARS) {
          changed += await write(e, pending.splice(0));
          pendingChars = 0;
        }
      }
      last = id;
    }
    if (pending.length > 0) changed += await write(e, pending);
    done += rows.length;
    e.logger.info({ step, done, total, changed }, 'raw_template rows checked');
    if (rows.length < BATCH) break;
  }
}

/** Rows per UPDATE and the text size at which a write is sent early (well under max_allowed_packet). */
const WRITE_ROWS = 100;
const WRITE_CHARS = 2_000_000;

/** Writes several rows' new text with one UPDATE (one statement, one commit on MySQL). */
async function write(e: MigrateEngine, rows: ReadonlyArray<[number, string]>): Promise<number> {
  if (rows.length === 1) {
    await e.execute('UPDATE raw_template SET template = ? WHERE id = ?', [rows[0]![1], rows[0]![0]]);
    return 1;
  }
  const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
  const ids = rows.map(() => '?').join(', ');
  await e.execute(`UPDATE raw_template SET template = CASE id ${cases} END WHERE id IN (${ids})`, [
    ...rows.flatMap(([id, text]) => [id, text]),
    ...rows.map(([id]) => id),
  ]);
  return rows.length;
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
