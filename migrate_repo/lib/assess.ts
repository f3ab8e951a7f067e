/**
 * Helpers for a Heat step's `assess` (migrate/script/contract.ts): is the live schema a state this
 * step passes through — its own work, by this tool or by real Heat, stopped part way — or anything else?
 *
 * A state is "between" the step's versions when every fact of the live schema is a fact of the
 * version before, of the version after, or a temporary of the step (a `tmp_id` column, a
 * `migration_tmp` table...), and every fact both versions share is still there (but those the step
 * moves: a primary key on a column it drops and adds again). Column positions
 * (and MySQL's derived COLUMN_KEY / index NULLABLE) are left out of that comparison: they shift as a
 * step adds and drops columns. The step's `upgrade` must finish every such state exactly, or
 * `assess` must say which it cannot (data gone) or that it does not know it.
 *
 *   export const assess = (s: StepState) => assessBetween(s, {
 *     temporary: (f) => f.table === 'resource' && f.name === 'tmp_id',
 *     data: async () => `${await count(s, ...)} rows renumbered`,
 *   });
 */
import type { Assessment, Catalog, MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { addColumns, type ColumnDef } from './alter.js';

/** One fact, reduced to what identifies it and what a partial state must agree on. */
export interface LooseFact {
  readonly kind: string;
  readonly table: string;
  /** The object's name: a column, an index (MySQL: one line per indexed column), a constraint... */
  readonly name: string;
  /** The comparable text of the fact (positions and derived cells left out). */
  readonly text: string;
}

/** The facts of a catalog with positions and derived cells left out (see the module comment). */
export function looseFacts(c: Catalog): LooseFact[] {
  return c.facts.map((f) => {
    const cells = f.map((x) => (x === null ? '\\N' : x));
    const [kind] = cells;
    let kept = cells;
    if (c.dialect === 'mysql' && kind === 'column') kept = cells.filter((_, i) => i !== 3 && i !== 6); // ORDINAL_POSITION, COLUMN_KEY
    else if (c.dialect === 'mysql' && kind === 'index') kept = cells.filter((_, i) => i !== 7); // NULLABLE (follows the column)
    else if (kind === 'column') kept = cells.filter((_, i) => i !== 3); // ordinal
    const table = c.dialect === 'mysql' && kind === 'fk' ? cells[2]! : cells[1]!;
    const name = c.dialect === 'mysql' && kind === 'fk' ? cells[1]! : cells[2]!;
    return { kind: kind!, table, name, text: kept.join('\t') };
  });
}

export interface Between {
  /** Live facts that belong to neither version (and are not the step's temporaries). */
  readonly stray: readonly LooseFact[];
  /** Facts both versions have that the live schema lacks (but for the step's temporaries: what it moves may be away for a while). */
  readonly lost: readonly LooseFact[];
  /** How many of the facts that change (before-only and after-only) the live schema has of each side. */
  readonly beforeOnly: number;
  readonly afterOnly: number;
  /** How many facts only the version after has (afterOnly of them are there). */
  readonly afterTotal: number;
}

export function between(s: StepState, temporary: (f: LooseFact) => boolean = () => false): Between {
  if (!s.after) throw new Error(`step ${s.to}: no expected schema of version ${s.to} to assess against`);
  const before = new Set(looseFacts(s.before).map((f) => f.text));
  const after = new Set(looseFacts(s.after).map((f) => f.text));
  const live = looseFacts(s.live);
  const liveSet = new Set(live.map((f) => f.text));
  const stray = live.filter((f) => !before.has(f.text) && !after.has(f.text) && !temporary(f));
  const lost = looseFacts(s.before).filter((f) => after.has(f.text) && !liveSet.has(f.text) && !temporary(f));
  const beforeOnly = [...before].filter((t) => !after.has(t) && liveSet.has(t)).length;
  const afterOnly = [...after].filter((t) => !before.has(t) && liveSet.has(t)).length;
  const afterTotal = [...after].filter((t) => !before.has(t)).length;
  return { stray, lost, beforeOnly, afterOnly, afterTotal };
}

const show = (fs: readonly LooseFact[]) =>
  fs
    .slice(0, 3)
    .map((f) => `${f.kind} ${f.table}.${f.name}`)
    .join(', ') + (fs.length > 3 ? ` (+${fs.length - 3} more)` : '');

/**
 * The usual assess: `unknown` unless the live schema is between the step's versions (temporaries
 * allowed); then `data` (optional) looks at the rows and returns the summary — or a refusal when the
 * rows the step needs are gone.
 */
export async function assessBetween(
  s: StepState,
  o: { temporary?: (f: LooseFact) => boolean; data?: () => Promise<string | Assessment> } = {},
): Promise<Assessment> {
  const b = between(s, o.temporary);
  if (b.stray.length) return { state: 'unknown', note: `not a state of step ${s.to}: ${show(b.stray)}` };
  if (b.lost.length) return { state: 'unknown', note: `not a state of step ${s.to}: lost ${show(b.lost)}` };
  const schema =
    b.afterOnly === b.afterTotal && b.beforeOnly === 0 ? 'its schema changes are all applied' : `${b.afterOnly} of its ${b.afterTotal} new schema facts there`;
  const data = o.data ? await o.data() : undefined;
  if (data && typeof data !== 'string') return data;
  return { state: 'partial', summary: data ? `${schema}; ${data}` : schema };
}

/** The number in the first column of the first row of a read (COUNT(*)...). */
export async function count(s: Pick<StepState, 'query'>, sql: string, params: readonly unknown[] = []): Promise<number> {
  const rows = await s.query(sql, params);
  const v = rows[0] ? Object.values(rows[0])[0] : 0;
  return Number(v ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by several steps' assess/upgrade go below, in the section of the steps that first
// needed them (sections keep parallel work mergeable; move a helper up when it settles).

// --- steps 035..043

// --- steps 044..056

/**
 * The schema of `tables` as a step starts, for its `upgrade` to learn what an interrupted run (ours
 * or real Heat's) already did. Under `--preview_sql` the steps before wrote nothing, so the live
 * catalog says nothing about this step's start: it is then the expected schema of the step's `from`
 * version where the engine gives one, else undefined — the step's `from` version exactly, nothing
 * of its own work done (`c?.hasColumn(...)` false for what the step adds; test `!c ||` for what it
 * removes).
 */
export async function startingSchema(e: MigrateEngine, tables: readonly string[]): Promise<Catalog | undefined> {
  return e.preview ? e.expected(e.step.from)?.only(tables) : e.schema(tables);
}

/** Appends those of `columns` that `table` lacks in `c` (undefined: all of them), in the order given (alter.ts `addColumns`). */
export async function addMissingColumns(e: MigrateEngine, c: Catalog | undefined, table: string, columns: readonly ColumnDef[]): Promise<void> {
  await addColumns(
    e,
    table,
    columns.filter(([name]) => !c?.hasColumn(table, name.replace(/[`"]/g, ''))),
  );
}

/**
 * `assessBetween` for a step that appends columns to tables in a fixed order (Heat adds them one
 * ALTER at a time): the live columns of each list must be a prefix of it, since `upgrade` appends
 * the missing ones and column positions are part of the schema. A later column without an earlier
 * one is no state of the step.
 */
export async function assessAppending(
  s: StepState,
  appended: Readonly<Record<string, readonly string[]>>,
  o: Parameters<typeof assessBetween>[1] = {},
): Promise<Assessment> {
  for (const [table, columns] of Object.entries(appended)) {
    const first = columns.findIndex((c) => !s.live.hasColumn(table, c));
    const later = first < 0 ? undefined : columns.slice(first + 1).find((c) => s.live.hasColumn(table, c));
    if (later) return { state: 'unknown', note: `not a state of step ${s.to}: ${table}.${later} is there but ${table}.${columns[first]!} (added before it) is not` };
  }
  return assessBetween(s, o);
}

// --- steps 057..071
