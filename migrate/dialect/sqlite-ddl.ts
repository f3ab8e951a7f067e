/**
 * SQLite DDL from catalog facts (sqlite-catalog.ts reads them back): one CREATE TABLE per table
 * whose text makes the PRAGMAs report the catalog's columns (declared type verbatim, NOT NULL,
 * default expression, primary-key order), its unique and primary keys in the order of their
 * `sqlite_autoindex_<t>_<n>` numbers, its foreign keys (a clause declared twice stays twice) and
 * its named constraints with their names; then a CREATE INDEX per named index. SQLite resolves a
 * foreign key's table when it is used, not when it is declared: the tables need no order.
 */
import { CannotMaterializeError, factsOf, type DdlWriter } from '../catalog/materialize.js';
import type { Fact } from '../catalog/catalog.js';

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
const cols = (list: string) => list.split(',').map(q).join(', ');

/** `pk=N default=D` (D escaped as a catalog cell: `\N` for none). */
function detail(f: Fact): { pk: number; dflt: string | null } {
  const m = /^pk=(\d+) default=(.*)$/s.exec(f[6] ?? '');
  if (!m) throw new CannotMaterializeError(`column ${f[1]}.${f[2]}: detail '${f[6]}' not understood`);
  return { pk: Number(m[1]), dflt: m[2] === '\\N' ? null : m[2]!.replace(/\\(\\|t|n)/g, (_, x: string) => (x === 't' ? '\t' : x === 'n' ? '\n' : '\\')) };
}

export const sqliteDdl: DdlWriter = {
  orderedByReferences: false,
  prelude: () => [],
  references: () => [],
  createTable(c, table) {
    const facts = factsOf(c, table);
    const named = facts.filter((f) => f[0] === 'named');
    const nameOf = (type: string, columns: string) => {
      const n = named.find((f) => f[4] === type && f[5] === columns);
      return n ? `CONSTRAINT ${q(n[2]!)} ` : '';
    };
    for (const n of named) {
      if (!['FOREIGN KEY', 'UNIQUE', 'PRIMARY KEY', 'CHECK'].includes(n[4]!)) throw new CannotMaterializeError(`constraint ${table}.${n[2]}: a named ${n[4]} is not written by this tool`);
    }
    const columns = facts.filter((f) => f[0] === 'column').sort((a, b) => Number(a[3]) - Number(b[3]));
    if (columns.length === 0) throw new CannotMaterializeError(`table ${table} has no columns in the catalog`);
    const body = columns.map((f) => {
      const { dflt } = detail(f);
      return `${q(f[2]!)}${f[4] ? ` ${f[4]}` : ''}${f[5] === 'NOT NULL' ? ' NOT NULL' : ''}${dflt === null ? '' : ` DEFAULT ${dflt}`}`;
    });
    // Keys in the order of their autoindex numbers (a rowid primary key has none: first).
    const keys: { n: number; sql: string }[] = [];
    const pk = columns.filter((f) => detail(f).pk > 0).sort((a, b) => detail(a).pk - detail(b).pk).map((f) => f[2]!).join(',');
    const autoNumber = (name: string) => Number(/^sqlite_autoindex_.+_(\d+)$/.exec(name)?.[1] ?? NaN);
    const pkIndex = facts.find((f) => f[0] === 'index' && f[5] === 'origin=pk');
    if (pk) keys.push({ n: pkIndex ? autoNumber(pkIndex[2]!) : 0, sql: `${nameOf('PRIMARY KEY', pk)}PRIMARY KEY (${cols(pk)})` });
    for (const ix of facts.filter((f) => f[0] === 'index' && f[5] === 'origin=u')) {
      keys.push({ n: autoNumber(ix[2]!), sql: `${nameOf('UNIQUE', ix[4]!)}UNIQUE (${cols(ix[4]!)})` });
    }
    body.push(...keys.sort((a, b) => a.n - b.n).map((k) => k.sql));
    for (const [, , from, , ref, onDelete] of facts.filter((f) => f[0] === 'fk')) {
      const m = /^(.*)\((.*)\)$/s.exec(ref!);
      if (!m) throw new CannotMaterializeError(`foreign key ${table}(${from}): reference '${ref}' not understood`);
      const to = m[2] === 'None' ? '' : ` (${cols(m[2]!)})`;
      const rule = onDelete === 'ON DELETE NO ACTION' ? '' : ` ${onDelete}`;
      body.push(`${nameOf('FOREIGN KEY', from!)}FOREIGN KEY(${cols(from!)}) REFERENCES ${q(m[1]!)}${to}${rule}`);
    }
    for (const n of named.filter((f) => f[4] === 'CHECK')) body.push(`CONSTRAINT ${q(n[2]!)} CHECK (${n[5]})`);
    const indexes = facts
      .filter((f) => f[0] === 'index' && f[5] === 'origin=c')
      .map((f) => `CREATE ${f[3] === 'unique' ? 'UNIQUE ' : ''}INDEX ${q(f[2]!)} ON ${q(table)} (${cols(f[4]!)})`);
    return [`CREATE TABLE ${q(table)} (\n  ${body.join(',\n  ')}\n)`, ...indexes];
  },
  addReferences: () => [],
};
