/**
 * Column types and table options of Heat's schema on each dialect (MIGRATIONS.md §2.1), so that a
 * script writes one CREATE/ALTER text per table instead of three.
 *
 *   const t = types(migrate_engine.dialect);
 *   `CREATE TABLE x (id ${t.serial}, created_at ${t.datetime}, PRIMARY KEY (id))${t.tableOptions}`
 */
import type { DialectName } from '../../migrate/script/contract.js';

export interface HeatTypes {
  /** Integer primary key with auto-increment (MySQL), SERIAL (PostgreSQL), rowid alias (SQLite). */
  readonly serial: string;
  readonly integer: string;
  readonly datetime: string;
  readonly text: string;
  /** Heat's LongText / Json / List: LONGTEXT on MySQL, TEXT elsewhere. */
  readonly longtext: string;
  readonly boolean: string;
  /** PickleType. */
  readonly blob: string;
  /** `CREATE TABLE` suffix: InnoDB utf8 on MySQL, nothing elsewhere. */
  readonly tableOptions: string;
  /** Quotes an identifier that is a keyword (`key`, `group`, `binary`). */
  quote(name: string): string;
  /** The SQL literals Heat's Boolean writes. */
  readonly true: string;
  readonly false: string;
}

const MYSQL: HeatTypes = {
  serial: 'INTEGER NOT NULL AUTO_INCREMENT',
  integer: 'INTEGER',
  datetime: 'DATETIME',
  text: 'TEXT',
  longtext: 'LONGTEXT',
  boolean: 'BOOL',
  blob: 'BLOB',
  tableOptions: ' ENGINE=InnoDB DEFAULT CHARSET=utf8',
  quote: (n) => `\`${n}\``,
  true: '1',
  false: '0',
};

const POSTGRESQL: HeatTypes = {
  serial: 'SERIAL NOT NULL',
  integer: 'INTEGER',
  datetime: 'TIMESTAMP WITHOUT TIME ZONE',
  text: 'TEXT',
  longtext: 'TEXT',
  boolean: 'BOOLEAN',
  blob: 'BYTEA',
  tableOptions: '',
  quote: (n) => `"${n}"`,
  true: 'true',
  false: 'false',
};

const SQLITE: HeatTypes = {
  serial: 'INTEGER NOT NULL',
  integer: 'INTEGER',
  datetime: 'DATETIME',
  text: 'TEXT',
  longtext: 'TEXT',
  boolean: 'BOOLEAN',
  blob: 'BLOB',
  tableOptions: '',
  quote: (n) => `"${n}"`,
  true: '1',
  false: '0',
};

export function types(dialect: DialectName): HeatTypes {
  return dialect === 'mysql' ? MYSQL : dialect === 'postgresql' ? POSTGRESQL : SQLITE;
}
