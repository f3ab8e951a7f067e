/**
 * What a MariaDB/MySQL schema already holds, for resuming a step that was interrupted half-way
 * (DDL is not transactional there). Only read when `migrate_engine.resumed` is true: a normal run
 * issues no introspection at all.
 *
 *   const s = await MysqlState.load(migrate_engine, ['stack']);   // null unless resumed
 *   if (!s?.hasColumn('stack', 'backup')) await migrate_engine.query('ALTER TABLE stack ADD ...');
 *
 * With a null state every `has*` answers "not there yet", so the script runs straight through.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export class MysqlState {
  private readonly tables = new Set<string>();
  private readonly columns = new Map<string, Map<string, { type: string; nullable: boolean }>>();
  private readonly indexes = new Map<string, Set<string>>();
  private readonly fks = new Map<string, Set<string>>();

  /** One information_schema query over `tables` when the step is resumed on MySQL; else null. */
  static async load(e: MigrateEngine, tables: readonly string[]): Promise<MysqlState | null> {
    if (!e.resumed || e.dialect !== 'mysql') return null;
    const list = tables.map(() => '?').join(', ');
    const rows = await e.query(
      `SELECT 't' AS kind, TABLE_NAME AS tbl, '' AS name, '' AS detail, '' AS nullable FROM information_schema.TABLES ` +
        `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list}) ` +
        `UNION ALL SELECT 'c', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS ` +
        `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list}) ` +
        `UNION ALL SELECT 'i', TABLE_NAME, INDEX_NAME, '', '' FROM information_schema.STATISTICS ` +
        `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list}) ` +
        `UNION ALL SELECT 'f', TABLE_NAME, CONSTRAINT_NAME, '', '' FROM information_schema.TABLE_CONSTRAINTS ` +
        `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${list}) AND CONSTRAINT_TYPE = 'FOREIGN KEY'`,
      [...tables, ...tables, ...tables, ...tables],
    );
    const s = new MysqlState();
    for (const r of rows) {
      const t = String(r.tbl);
      const name = String(r.name);
      switch (r.kind) {
        case 't':
          s.tables.add(t);
          break;
        case 'c':
          s.map(s.columns, t).set(name, { type: String(r.detail).toLowerCase(), nullable: r.nullable === 'YES' });
          break;
        case 'i':
          s.set(s.indexes, t).add(name);
          break;
        case 'f':
          s.set(s.fks, t).add(name);
          break;
      }
    }
    return s;
  }

  private map<V>(m: Map<string, Map<string, V>>, t: string): Map<string, V> {
    let v = m.get(t);
    if (!v) m.set(t, (v = new Map()));
    return v;
  }

  private set(m: Map<string, Set<string>>, t: string): Set<string> {
    let v = m.get(t);
    if (!v) m.set(t, (v = new Set()));
    return v;
  }

  hasTable(table: string): boolean {
    return this.tables.has(table);
  }

  hasColumn(table: string, column: string): boolean {
    return this.columns.get(table)?.has(column) ?? false;
  }

  /** Lower-case COLUMN_TYPE (`int(11)`, `varchar(36)`), or undefined. */
  columnType(table: string, column: string): string | undefined {
    return this.columns.get(table)?.get(column)?.type;
  }

  hasIndex(table: string, index: string): boolean {
    return this.indexes.get(table)?.has(index) ?? false;
  }

  hasForeignKey(table: string, constraint: string): boolean {
    return this.fks.get(table)?.has(constraint) ?? false;
  }
}

/** `state?.hasTable(t)`, false for a null state (a straight run). */
export const hasTable = (s: MysqlState | null, t: string): boolean => s?.hasTable(t) ?? false;
export const hasColumn = (s: MysqlState | null, t: string, c: string): boolean => s?.hasColumn(t, c) ?? false;
export const hasIndex = (s: MysqlState | null, t: string, i: string): boolean => s?.hasIndex(t, i) ?? false;
export const hasForeignKey = (s: MysqlState | null, t: string, f: string): boolean => s?.hasForeignKey(t, f) ?? false;
