/**
 * The live schema of a PostgreSQL database (schema `public`) as catalog facts (docs/CATALOG.md):
 * the query of ../shared/heat-schema/dumpers/dump_pg.sh, whose output psql prints unaligned (a NULL
 * cell prints empty; a column without a default is the catalog's NULL). pg_catalog is readable by
 * every role.
 */
import type { Cell, Fact } from '../catalog/catalog.js';
import type { Queryable } from './contract.js';

const DELETE_RULE =
  "case con.confdeltype when 'a' then 'ON DELETE NO ACTION' when 'r' then 'ON DELETE RESTRICT' when 'c' then 'ON DELETE CASCADE' " +
  "when 'n' then 'ON DELETE SET NULL' when 'd' then 'ON DELETE SET DEFAULT' else '' end";

/** `tables`: only these (and the sequences they own, and unowned ones when '' is listed); default: all. */
export async function postgresCatalogFacts(q: Pick<Queryable, 'query'>, tables?: readonly string[]): Promise<Fact[]> {
  if (tables && tables.length === 0) return [];
  const rel = (alias: string) => (tables ? ` AND ${alias}.relname = ANY(?::text[])` : '');
  const p = tables ? [[...tables]] : [];
  const facts: Fact[] = [];
  const cell = (v: unknown): Cell => (v === null || v === undefined ? '' : String(v));
  for (const r of await q.query(
    `SELECT c.relname AS t, a.attname AS n, row_number() OVER (PARTITION BY c.relname ORDER BY a.attnum)::text AS o,
            format_type(a.atttypid, a.atttypmod) AS d1, CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END AS d2,
            pg_get_expr(d.adbin, d.adrelid) AS d3
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped${rel('c')}`,
    p,
  )) {
    facts.push(['column', cell(r.t), cell(r.n), cell(r.o), cell(r.d1), cell(r.d2), r.d3 === null ? null : String(r.d3)]);
  }
  for (const r of await q.query(
    `SELECT c.relname AS t, con.conname AS n, con.contype::text AS o, pg_get_constraintdef(con.oid) AS d1, ${DELETE_RULE} AS d2
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public'${rel('c')}`,
    p,
  )) {
    facts.push(['constraint', cell(r.t), cell(r.n), cell(r.o), cell(r.d1), cell(r.d2), '']);
  }
  for (const r of await q.query(
    `SELECT c.relname AS t, i.relname AS n, CASE WHEN x.indisunique THEN 'unique' ELSE 'non_unique' END AS o,
            pg_get_indexdef(i.oid) AS d1, CASE WHEN x.indisprimary THEN 'primary' ELSE '' END AS d2
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public'${rel('c')}`,
    p,
  )) {
    facts.push(['index', cell(r.t), cell(r.n), cell(r.o), cell(r.d1), cell(r.d2), '']);
  }
  const seqRel = tables ? ` AND coalesce(tc.relname, '') = ANY(?::text[])` : '';
  for (const r of await q.query(
    `SELECT coalesce(tc.relname, '') AS t, s.relname AS n,
            coalesce('owned by ' || tc.relname || '.' || ta.attname, 'not owned') AS d1
       FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
       LEFT JOIN pg_depend dep ON dep.objid = s.oid AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'a'
       LEFT JOIN pg_class tc ON tc.oid = dep.refobjid
       LEFT JOIN pg_attribute ta ON ta.attrelid = dep.refobjid AND ta.attnum = dep.refobjsubid
      WHERE n.nspname = 'public' AND s.relkind = 'S'${seqRel}`,
    p,
  )) {
    facts.push(['sequence', cell(r.t), cell(r.n), '', cell(r.d1), '', '']);
  }
  return facts;
}
