/**
 * How a live schema differs from an expected one, object by object: tables, columns (type,
 * nullability, default, position), indexes, foreign keys with their rules, constraints, sequences,
 * MySQL engine and collation. `diff(expected, actual)` groups the catalogs' facts into objects per
 * dialect and compares those; two catalogs have no differences exactly when their fact sets are equal.
 */
import { codePointCompare, type Catalog, type Cell } from './catalog.js';
import { KIND_ORDER, objectsOf, type ObjectKind, type SchemaObject } from './objects.js';

export type { ObjectKind };

export interface FieldDifference {
  readonly field: string;
  readonly expected: Cell;
  readonly actual: Cell;
}

export interface Difference {
  readonly kind: ObjectKind;
  readonly table: string;
  readonly name: string;
  readonly change: 'missing' | 'unexpected' | 'differs';
  readonly fields?: readonly FieldDifference[];
}

const keyOf = (o: SchemaObject) => `${o.kind}\t${o.table}\t${o.name}`;

/** The differences of `actual` from `expected`, by table, then object kind, then name. */
export function diff(expected: Catalog, actual: Catalog): Difference[] {
  const exp = objectsOf(expected);
  const act = objectsOf(actual);
  const expTables = new Set(expected.tables());
  const actTables = new Set(actual.tables());
  const out: Difference[] = [];
  for (const t of expTables) if (t !== '' && !actTables.has(t)) out.push({ kind: 'table', table: t, name: t, change: 'missing' });
  for (const t of actTables) if (t !== '' && !expTables.has(t)) out.push({ kind: 'table', table: t, name: t, change: 'unexpected' });
  const bothTables = (t: string) => t === '' || (expTables.has(t) && actTables.has(t));
  const a = new Map(act.map((o) => [keyOf(o), o]));
  const e = new Map(exp.map((o) => [keyOf(o), o]));
  // Positions: compared as one "column order" per table when both have the same columns (a missing
  // column shifts every later position, which would otherwise be reported column by column).
  const columnsOf = (os: SchemaObject[], t: string) =>
    os.filter((o) => o.kind === 'column' && o.table === t).sort((x, y) => Number(x.attrs.position) - Number(y.attrs.position)).map((o) => o.name);
  for (const t of expTables) {
    if (!actTables.has(t)) continue;
    const ec = columnsOf(exp, t);
    const ac = columnsOf(act, t);
    if (ec.length === ac.length && [...ec].sort().join('\t') === [...ac].sort().join('\t')) {
      if (ec.join('\t') !== ac.join('\t')) {
        out.push({ kind: 'column order', table: t, name: t, change: 'differs', fields: [{ field: 'columns', expected: ec.join(', '), actual: ac.join(', ') }] });
      }
    }
  }
  for (const [k, eo] of e) {
    if (!bothTables(eo.table)) continue;
    const ao = a.get(k);
    if (!ao) {
      out.push({ kind: eo.kind, table: eo.table, name: eo.name, change: 'missing' });
      continue;
    }
    const fields: FieldDifference[] = [];
    for (const field of new Set([...Object.keys(eo.attrs), ...Object.keys(ao.attrs)])) {
      if (field === 'position') continue;
      if ((eo.attrs[field] ?? null) !== (ao.attrs[field] ?? null)) fields.push({ field, expected: eo.attrs[field] ?? null, actual: ao.attrs[field] ?? null });
    }
    if (fields.length) out.push({ kind: eo.kind, table: eo.table, name: eo.name, change: 'differs', fields });
  }
  for (const [k, ao] of a) if (bothTables(ao.table) && !e.has(k)) out.push({ kind: ao.kind, table: ao.table, name: ao.name, change: 'unexpected' });
  return out.sort(
    (x, y) =>
      codePointCompare(x.table, y.table) || KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) || codePointCompare(x.name, y.name),
  );
}

const show = (v: Cell) => (v === null ? 'none' : v === '' ? "''" : v);

/** One line: `column stack.backup: missing`, `index stack.ix_stack_name: columns name(255), expected name`. */
export function describeDifference(d: Difference): string {
  const what = d.kind === 'table' || d.kind === 'table options' || d.kind === 'column order' ? `${d.kind} ${d.table}` : d.table ? `${d.kind} ${d.table}.${d.name}` : `${d.kind} ${d.name}`;
  if (d.change === 'missing') return `${what}: missing`;
  if (d.change === 'unexpected') return `${what}: not expected (extra)`;
  return `${what}: ${(d.fields ?? []).map((f) => `${f.field} ${show(f.actual)}, expected ${show(f.expected)}`).join('; ')}`;
}
