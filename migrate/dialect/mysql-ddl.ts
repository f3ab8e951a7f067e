/**
 * MySQL/MariaDB DDL from catalog facts (mysql-catalog.ts reads them back): one CREATE TABLE per
 * table with its columns in order, every index by its exact name (so no foreign key makes an index
 * of its own), its foreign keys with their names and rules, and the table's engine and collation.
 * Defaults are written as MariaDB's information_schema reports them (already SQL: `NULL`, `'text'`,
 * `0`, `current_timestamp()`).
 */
import { CannotMaterializeError, factsOf, type DdlWriter, type Reference } from '../catalog/materialize.js';
import type { Catalog, Cell, Fact } from '../catalog/catalog.js';

const q = (id: Cell) => `\`${String(id).replace(/`/g, '``')}\``;
const byNumber = (i: number) => (a: Fact, b: Fact) => Number(a[i]) - Number(b[i]);

function column(f: Fact): string {
  const [, table, name, , type, nullable, , dflt, extra] = f;
  let sql = `${q(name!)} ${type} ${nullable === 'NO' ? 'NOT NULL' : 'NULL'}`;
  if (dflt !== null && dflt !== undefined) sql += ` DEFAULT ${dflt}`;
  const onUpdate = /^on update (.+)$/i.exec(extra ?? '');
  if (extra === 'auto_increment') sql += ' AUTO_INCREMENT';
  else if (onUpdate) sql += ` ON UPDATE ${onUpdate[1]}`;
  else if (extra) throw new CannotMaterializeError(`column ${table}.${name}: EXTRA '${extra}' is not written by this tool`);
  return sql;
}

function indexes(facts: readonly Fact[]): string[] {
  const byName = new Map<string, Fact[]>();
  for (const f of facts) if (f[0] === 'index') byName.set(f[2]!, [...(byName.get(f[2]!) ?? []), f]);
  return [...byName].map(([name, parts]) => {
    const [, table, , nonUnique, , , , , type] = parts[0]!;
    const cols = [...parts].sort(byNumber(4)).map((p) => `${q(p[5]!)}${p[6] === null ? '' : `(${p[6]})`}`).join(', ');
    if (name === 'PRIMARY') return `PRIMARY KEY (${cols})`;
    const kind = type === 'FULLTEXT' || type === 'SPATIAL' ? `${type} KEY` : nonUnique === '0' ? 'UNIQUE KEY' : 'KEY';
    if (type !== 'BTREE' && type !== 'FULLTEXT' && type !== 'SPATIAL' && type !== 'HASH') {
      throw new CannotMaterializeError(`index ${table}.${name}: type ${type} is not written by this tool`);
    }
    return `${kind} ${q(name)} (${cols})${type === 'HASH' ? ' USING HASH' : ''}`;
  });
}

function foreignKeys(facts: readonly Fact[], only?: (name: string) => boolean): Map<string, string> {
  const byName = new Map<string, Fact[]>();
  for (const f of facts) if (f[0] === 'fk' && (!only || only(f[1]!))) byName.set(f[1]!, [...(byName.get(f[1]!) ?? []), f]);
  const out = new Map<string, string>();
  for (const [name, parts] of byName) {
    const s = [...parts].sort(byNumber(4));
    const [, , , , , refTable, , onUpdate, onDelete] = s[0]!;
    const rules = (onDelete === 'RESTRICT' ? '' : ` ON DELETE ${onDelete}`) + (onUpdate === 'RESTRICT' ? '' : ` ON UPDATE ${onUpdate}`);
    out.set(name, `CONSTRAINT ${q(name)} FOREIGN KEY (${s.map((p) => q(p[3]!)).join(', ')}) REFERENCES ${q(refTable!)} (${s.map((p) => q(p[6]!)).join(', ')})${rules}`);
  }
  return out;
}

function tableOptions(facts: readonly Fact[]): string {
  const t = facts.find((f) => f[0] === 'table');
  if (!t) return '';
  const [, , engine, collation] = t;
  const charset = collation ? collation.split('_')[0] : undefined;
  return `${engine ? ` ENGINE=${engine}` : ''}${charset ? ` DEFAULT CHARSET=${charset} COLLATE=${collation}` : ''}`;
}

export const mysqlDdl: DdlWriter = {
  orderedByReferences: true,
  prelude: () => [],
  references(c: Catalog, table: string): Reference[] {
    const seen = new Map<string, string>();
    for (const f of factsOf(c, table)) if (f[0] === 'fk') seen.set(f[1]!, f[5]!);
    return [...seen].map(([key, t]) => ({ key, table: t }));
  },
  createTable(c, table, deferred) {
    const facts = factsOf(c, table);
    const cols = facts.filter((f) => f[0] === 'column').sort(byNumber(3));
    if (cols.length === 0) throw new CannotMaterializeError(`table ${table} has no columns in the catalog`);
    const body = [...cols.map(column), ...indexes(facts), ...foreignKeys(facts, (n) => !deferred.has(n)).values()];
    return [`CREATE TABLE ${q(table)} (\n  ${body.join(',\n  ')}\n)${tableOptions(facts)}`];
  },
  addReferences(c, table, keys) {
    const fks = foreignKeys(factsOf(c, table), (n) => keys.includes(n));
    return [`ALTER TABLE ${q(table)} ${[...fks.values()].map((d) => `ADD ${d}`).join(', ')}`];
  },
};
