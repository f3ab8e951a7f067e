/**
 * PostgreSQL DDL from catalog facts (postgres-catalog.ts reads them back). The catalog holds what
 * pg_catalog prints, which is SQL already: column types (format_type), defaults (pg_get_expr),
 * constraint definitions (pg_get_constraintdef) and index definitions (pg_get_indexdef). So:
 *
 *   - a column whose default is `nextval('<t>_<c>_seq'::regclass)` of the sequence it owns is a
 *     SERIAL (as SQLAlchemy made it): one clause for column, sequence, default and ownership;
 *   - any other sequence (an unowned one like Heat's `evt` and `res`, or an owned one with another
 *     name) is a CREATE SEQUENCE before the tables (and ALTER SEQUENCE ... OWNED BY after its table);
 *     a new sequence starts where an unused one is, as on an empty database after the replay;
 *   - primary keys, uniques, checks and foreign keys are `CONSTRAINT name <definition>` inline;
 *   - other indexes are their definition as printed (CREATE INDEX ... ON public.t USING ...).
 */
import { CannotMaterializeError, factsOf, type DdlWriter, type Reference } from '../catalog/materialize.js';
import type { Catalog, Fact } from '../catalog/catalog.js';

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
const SERIAL: Readonly<Record<string, string>> = { integer: 'serial', bigint: 'bigserial', smallint: 'smallserial' };

/** The sequence facts (kind 'sequence': table, name, '', 'owned by t.c' | 'not owned'). */
const sequences = (c: Catalog) => c.facts.filter((f) => f[0] === 'sequence');

/** The column (table, name) a SERIAL clause stands for, keyed `table.column`, with its sequence. */
function serialColumns(c: Catalog): Map<string, string> {
  const out = new Map<string, string>();
  for (const col of c.facts) {
    if (col[0] !== 'column') continue;
    const [, t, name, , type, nullable, dflt] = col;
    const seq = `${t}_${name}_seq`;
    if (!SERIAL[type!] || nullable !== 'NOT NULL' || dflt !== `nextval('${seq}'::regclass)`) continue;
    if (sequences(c).some((s) => s[2] === seq && s[4] === `owned by ${t}.${name}`)) out.set(`${t}.${name}`, seq);
  }
  return out;
}

const references = (def: string) => /REFERENCES ((?:"(?:[^"]|"")+"|[^\s(]+))\(/.exec(def)?.[1]?.replace(/^"(.*)"$/, '$1').replace(/""/g, '"');

function constraints(facts: readonly Fact[]): Fact[] {
  return facts.filter((f) => f[0] === 'constraint');
}

export const postgresDdl: DdlWriter = {
  orderedByReferences: true,
  prelude(c, tables) {
    const serial = new Set(serialColumns(c).values());
    return sequences(c)
      .filter((s) => !serial.has(s[2]!) && (s[1] === '' || tables.has(s[1]!)))
      .map((s) => `CREATE SEQUENCE ${q(s[2]!)}`);
  },
  references(c: Catalog, table: string): Reference[] {
    return constraints(factsOf(c, table))
      .filter((f) => f[3] === 'f')
      .map((f) => ({ key: f[2]!, table: references(f[4]!) ?? '' }));
  },
  createTable(c, table, deferred) {
    const facts = factsOf(c, table);
    const serial = serialColumns(c);
    const cols = facts.filter((f) => f[0] === 'column').sort((a, b) => Number(a[3]) - Number(b[3]));
    if (cols.length === 0) throw new CannotMaterializeError(`table ${table} has no columns in the catalog`);
    const body = cols.map(([, , name, , type, nullable, dflt]) => {
      if (serial.has(`${table}.${name}`)) return `${q(name!)} ${SERIAL[type!]} NOT NULL`;
      return `${q(name!)} ${type}${nullable === 'NOT NULL' ? ' NOT NULL' : ''}${dflt === null || dflt === undefined ? '' : ` DEFAULT ${dflt}`}`;
    });
    const cons = constraints(facts);
    for (const [, , name, type, def] of cons) {
      if (type === 'f' && deferred.has(name!)) continue;
      if (!'pufcx'.includes(type!) || !def) throw new CannotMaterializeError(`constraint ${table}.${name}: type '${type}' is not written by this tool`);
      body.push(`CONSTRAINT ${q(name!)} ${def}`);
    }
    const byConstraint = new Set(cons.filter((f) => 'pux'.includes(f[3]!)).map((f) => f[2]));
    const indexes = facts.filter((f) => f[0] === 'index' && !byConstraint.has(f[2]!)).map((f) => f[4]!);
    const owned = sequences(c)
      .filter((s) => s[1] === table && !serial.has(`${(s[4] ?? '').replace(/^owned by /, '')}`))
      .map((s) => `ALTER SEQUENCE ${q(s[2]!)} OWNED BY ${(s[4] ?? '').replace(/^owned by /, '').split('.').map(q).join('.')}`);
    return [`CREATE TABLE ${q(table)} (\n  ${body.join(',\n  ')}\n)`, ...indexes, ...owned];
  },
  addReferences(c, table, keys) {
    return constraints(factsOf(c, table))
      .filter((f) => f[3] === 'f' && keys.includes(f[2]!))
      .map((f) => `ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(f[2]!)} ${f[4]}`);
  },
};
