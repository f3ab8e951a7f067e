/**
 * Adds `isbn BIGINT(13) NOT NULL` to the existing `books` table. The table is found by
 * introspection (TypeORM's getTable, the equivalent of SQLAlchemy's `autoload=True`), not
 * redeclared here. The display width (13) exists on MySQL/MariaDB only.
 */
import type { MigrateEngine } from '../../../../migrate/script/contract.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const { queryRunner, dialect } = migrate_engine;
  const books = await queryRunner.getTable('books');
  if (!books) throw new Error('table books not found: run version 1 first');
  if (books.findColumnByName('isbn')) return; // converges when re-run after an interruption
  await queryRunner.addColumn(
    books,
    new migrate_engine.TableColumn({
      name: 'isbn',
      type: 'bigint',
      length: dialect === 'mysql' ? '13' : undefined,
      isNullable: false,
    }),
  );
}

export async function downgrade(migrate_engine: MigrateEngine): Promise<void> {
  const { queryRunner } = migrate_engine;
  const books = await queryRunner.getTable('books');
  if (books?.findColumnByName('isbn')) await queryRunner.dropColumn(books, 'isbn');
}
