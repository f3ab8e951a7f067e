/**
 * A catalog's facts grouped into schema objects, per dialect: a table's options, each column (type,
 * nullability, default, position), each index and foreign key with its columns in order, each
 * constraint and sequence. What diff.ts compares and what a step script asks the live schema.
 */
import type { Catalog, Cell, Fact } from './catalog.js';

export type ObjectKind = 'table' | 'table options' | 'column order' | 'column' | 'index' | 'foreign key' | 'constraint' | 'named constraint' | 'sequence';

/** The order objects are reported in, within a table. */
export const KIND_ORDER: readonly ObjectKind[] = ['table', 'table options', 'column', 'column order', 'index', 'foreign key', 'constraint', 'named constraint', 'sequence'];

export interface SchemaObject {
  readonly kind: ObjectKind;
  readonly table: string;
  readonly name: string;
  readonly attrs: Record<string, Cell>;
}

/** Rows of one multi-row object (an index's or a foreign key's columns), in their sequence order. */
function grouped(facts: readonly Fact[], key: (f: Fact) => string, seq: (f: Fact) => number): Map<string, Fact[]> {
  const m = new Map<string, Fact[]>();
  for (const f of facts) m.set(key(f), [...(m.get(key(f)) ?? []), f]);
  for (const v of m.values()) v.sort((a, b) => seq(a) - seq(b));
  return m;
}

function mysqlObjects(facts: readonly Fact[]): SchemaObject[] {
  const out: SchemaObject[] = [];
  const of = (k: string) => facts.filter((f) => f[0] === k);
  for (const [, t, engine, collation] of of('table')) out.push({ kind: 'table options', table: t!, name: t!, attrs: { engine: engine!, collation: collation! } });
  // COLUMN_KEY (PRI/UNI/MUL) follows the indexes: a difference there is reported as the index's.
  for (const [, t, c, pos, type, nullable, , dflt, extra] of of('column')) {
    out.push({ kind: 'column', table: t!, name: c!, attrs: { position: pos!, type: type!, nullable: nullable!, default: dflt!, extra: extra! } });
  }
  for (const rows of grouped(of('index'), (f) => `${f[1]}\t${f[2]}`, (f) => Number(f[4])).values()) {
    const [, t, name, nonUnique, , , , , type] = rows[0]!;
    const columns = rows.map((r) => (r[6] === null ? r[5]! : `${r[5]}(${r[6]})`)).join(', ');
    out.push({ kind: 'index', table: t!, name: name!, attrs: { unique: nonUnique === '0' ? 'yes' : 'no', columns, type: type! } });
  }
  for (const rows of grouped(of('fk'), (f) => `${f[2]}\t${f[1]}`, (f) => Number(f[4])).values()) {
    const [, name, t, , , refTable, , onUpdate, onDelete] = rows[0]!;
    out.push({
      kind: 'foreign key', table: t!, name: name!,
      attrs: { columns: rows.map((r) => r[3]).join(', '), references: `${refTable}(${rows.map((r) => r[6]).join(', ')})`, 'on update': onUpdate!, 'on delete': onDelete! },
    });
  }
  return out;
}

function postgresObjects(facts: readonly Fact[]): SchemaObject[] {
  return facts.flatMap((f): SchemaObject[] => {
    const [kind, t, name, o, d1, d2, d3] = f;
    switch (kind) {
      case 'column':
        return [{ kind: 'column', table: t!, name: name!, attrs: { position: o!, type: d1!, nullable: d2 === 'NULL' ? 'YES' : 'NO', default: d3! } }];
      case 'constraint':
        return [{ kind: o === 'f' ? 'foreign key' : 'constraint', table: t!, name: name!, attrs: { type: o!, definition: d1!, 'on delete': d2! } }];
      case 'index':
        return [{ kind: 'index', table: t!, name: name!, attrs: { unique: o === 'unique' ? 'yes' : 'no', definition: d1!, primary: d2! } }];
      case 'sequence':
        return [{ kind: 'sequence', table: t!, name: name!, attrs: { owner: d1! } }];
      default:
        return [{ kind: 'constraint', table: t ?? '', name: `${kind}:${name}`, attrs: { fact: f.join(' ') } }];
    }
  });
}

function sqliteObjects(facts: readonly Fact[]): SchemaObject[] {
  return facts.flatMap((f): SchemaObject[] => {
    const [kind, t, name, o, d1, d2] = f;
    switch (kind) {
      case 'column':
        return [{ kind: 'column', table: t!, name: name!, attrs: { position: o!, type: d1!, nullable: d2 === 'NULL' ? 'YES' : 'NO', ...parsePkDefault(f[6] ?? '') } }];
      case 'index':
        return [{ kind: 'index', table: t!, name: name!, attrs: { unique: o === 'unique' ? 'yes' : 'no', columns: d1!, origin: d2! } }];
      case 'fk':
        return [{ kind: 'foreign key', table: t!, name: `(${name}) -> ${d1}${o ? ` ${o}` : ''}`, attrs: { 'on delete': d2! } }];
      case 'named':
        return [{ kind: 'named constraint', table: t!, name: name!, attrs: { type: d1!, columns: d2! } }];
      default:
        return [{ kind: 'constraint', table: t ?? '', name: `${kind}:${name}`, attrs: { fact: f.join(' ') } }];
    }
  });
}

function parsePkDefault(detail: string): Record<string, Cell> {
  const m = /^pk=(\d+) default=(.*)$/s.exec(detail);
  if (!m) return { detail };
  return { 'primary key': m[1] === '0' ? 'no' : `yes (${m[1]})`, default: m[2] === '\\N' ? null : m[2]! };
}

export function objectsOf(c: Catalog): SchemaObject[] {
  const facts = c.facts;
  return c.dialect === 'mysql' ? mysqlObjects(facts) : c.dialect === 'postgresql' ? postgresObjects(facts) : sqliteObjects(facts);
}

