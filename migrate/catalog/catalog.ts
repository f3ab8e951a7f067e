/**
 * A schema catalog: the exact schema of a database as a set of facts (docs/CATALOG.md). One fact
 * is one line of the dumper TSVs of ../shared/heat-schema/dumpers, prefixed by its kind:
 *
 *   mysql       table | column | index | fk
 *   postgresql  column | constraint | index | sequence
 *   sqlite      column | index | fk | named
 *
 * Two catalogs are equal when their sets of lines are equal. A catalog is read from a repository's
 * `schema/<dialect>/NNN.tsv` (the expected schema of version NNN) or introspected from a live
 * database (introspect.ts); diff.ts says how two differ.
 */
import type { DialectName } from '../script/contract.js';
import { objectsOf, type ObjectKind, type SchemaObject } from './objects.js';

export type Cell = string | null;
/** A fact: its kind, then the cells of the dumper row it stands for. */
export type Fact = readonly [kind: string, ...cells: Cell[]];

/** The dumpers' cell escaping: `\N` for NULL; backslash, tab and newline escaped. */
export function escapeCell(v: Cell): string {
  if (v === null) return '\\N';
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

/** The inverse of escapeCell. An unknown escape keeps its backslash (PostgreSQL's rows are not escaped). */
export function unescapeCell(s: string): Cell {
  if (s === '\\N') return null;
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const next = s[i + 1];
    if (ch === '\\' && (next === '\\' || next === 't' || next === 'n')) {
      out += next === 't' ? '\t' : next === 'n' ? '\n' : '\\';
      i++;
    } else out += ch;
  }
  return out;
}

export function factLine(f: Fact): string {
  return f.map((c, i) => (i === 0 ? String(c) : escapeCell(c))).join('\t');
}

/** Code-point order (what the dumpers sort by; not localeCompare, not UTF-16 order). */
export function codePointCompare(a: string, b: string): number {
  const xa = Array.from(a);
  const xb = Array.from(b);
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const d = xa[i]!.codePointAt(0)! - xb[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return xa.length - xb.length;
}

/** A table of the tool itself (step log, lock rows): every `migrate_*` table but the version table. */
export function isToolObject(name: string): boolean {
  return name.startsWith('migrate_') && name !== 'migrate_version';
}

/**
 * A fact about the tool's own objects, never part of a schema: the facts of its tables, and objects
 * named `migrate_*` on other tables (e.g. an index that exists only while a command runs). The version
 * table's own objects (`migrate_version_pkey`) are the schema's.
 */
export function isToolFact(dialect: DialectName, f: Fact): boolean {
  const table = tableOfFact(dialect, f);
  return isToolObject(table) || (table !== 'migrate_version' && nameOfFact(dialect, f).startsWith('migrate_'));
}

/** The table a fact belongs to ('' for a PostgreSQL sequence no column owns). */
export function tableOfFact(dialect: DialectName, f: Fact): string {
  if (dialect === 'mysql' && f[0] === 'fk') return f[2] ?? '';
  return f[1] ?? '';
}

/** The name of the object a fact describes (column, index, constraint...), '' when it has none. */
export function nameOfFact(dialect: DialectName, f: Fact): string {
  if (dialect === 'mysql' && f[0] === 'fk') return f[1] ?? '';
  if (dialect === 'mysql' && f[0] === 'table') return f[1] ?? '';
  return f[2] ?? '';
}

/** The version tables: sqlalchemy-migrate's and Alembic's. */
const VERSION_TABLES = new Set(['migrate_version', 'alembic_version']);

/**
 * A fact that belongs in a schema comparison: not the tool's own (isToolFact), and not the table
 * options of a version table (they take the database's default character set, whichever tool
 * created them: a database created `CHARACTER SET utf8` gets a utf8mb3 migrate_version).
 */
export function isSchemaFact(dialect: DialectName, f: Fact): boolean {
  return !isToolFact(dialect, f) && !(dialect === 'mysql' && f[0] === 'table' && VERSION_TABLES.has(f[1] ?? ''));
}

export const CATALOG_HEADER = '#kind\ttable\tname\t...\t(docs/CATALOG.md)';

export class Catalog {
  readonly facts: readonly Fact[];
  private readonly set: ReadonlySet<string>;

  constructor(
    readonly dialect: DialectName,
    facts: Iterable<Fact>,
  ) {
    const byLine = new Map<string, Fact>();
    for (const f of facts) byLine.set(factLine(f), f);
    const lines = [...byLine.keys()].sort(codePointCompare);
    this.facts = lines.map((l) => byLine.get(l)!);
    this.set = new Set(lines);
  }

  /** A catalog file's text (header lines start with `#`; blank lines are ignored). */
  static parse(dialect: DialectName, text: string): Catalog {
    const facts: Fact[] = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const [kind, ...cells] = line.replace(/\r$/, '').split('\t');
      facts.push([kind!, ...cells.map(unescapeCell)]);
    }
    return new Catalog(dialect, facts);
  }

  /** The catalog file's text: a header, then the facts in code-point order. */
  serialize(): string {
    return [CATALOG_HEADER, ...this.lines()].join('\n') + '\n';
  }

  lines(): string[] {
    return this.facts.map(factLine);
  }

  has(f: Fact): boolean {
    return this.set.has(factLine(f));
  }

  equals(other: Catalog): boolean {
    return this.set.size === other.set.size && [...this.set].every((l) => other.set.has(l));
  }

  /** Table names, in code-point order. */
  tables(): string[] {
    const names = new Set<string>();
    for (const f of this.facts) {
      const t = tableOfFact(this.dialect, f);
      if (t !== '') names.add(t);
    }
    return [...names].sort(codePointCompare);
  }

  /** The facts of some tables only (PostgreSQL sequences go with the table that owns them). */
  only(tables: Iterable<string>): Catalog {
    const keep = new Set(tables);
    return new Catalog(this.dialect, this.facts.filter((f) => keep.has(tableOfFact(this.dialect, f))));
  }

  /** The facts `pred` keeps. */
  filter(pred: (f: Fact) => boolean): Catalog {
    return new Catalog(this.dialect, this.facts.filter(pred));
  }

  private objs?: readonly SchemaObject[];

  /** The facts grouped into schema objects (objects.ts). */
  objects(): readonly SchemaObject[] {
    return (this.objs ??= objectsOf(this));
  }

  /** One object's attributes (a column's type, nullable, default...; an index's columns...), or undefined. */
  find(kind: ObjectKind, table: string, name: string): Readonly<Record<string, Cell>> | undefined {
    return this.objects().find((o) => o.kind === kind && o.table === table && o.name === name)?.attrs;
  }

  /** The objects of one kind on one table. */
  all(kind: ObjectKind, table: string): readonly SchemaObject[] {
    return this.objects().filter((o) => o.kind === kind && o.table === table);
  }

  hasTable(table: string): boolean {
    return this.facts.some((f) => f[0] === 'column' && f[1] === table);
  }

  hasColumn(table: string, column: string): boolean {
    return this.find('column', table, column) !== undefined;
  }

  /** A column's names in position order. */
  columns(table: string): string[] {
    return [...this.all('column', table)].sort((a, b) => Number(a.attrs.position) - Number(b.attrs.position)).map((o) => o.name);
  }

  /** The tables whose facts differ between this catalog and `other` (either side). */
  tablesDifferingFrom(other: Catalog): string[] {
    const out = new Set<string>();
    for (const f of this.facts) if (!other.has(f)) out.add(tableOfFact(this.dialect, f));
    for (const f of other.facts) if (!this.has(f)) out.add(tableOfFact(other.dialect, f));
    return [...out].sort(codePointCompare);
  }
}
