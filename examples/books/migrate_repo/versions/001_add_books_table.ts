/**
 * Creates `books` (the seed walkthrough's first script):
 *   id BIGINT UNSIGNED primary key auto-increment, title TEXT NOT NULL, author VARCHAR(64) NOT NULL,
 *   created_at DATETIME NULL, updated_at DATETIME NULL.
 * Per backend, TypeORM renders it as SQLAlchemy did: bigint(20) unsigned AUTO_INCREMENT on MariaDB,
 * BIGSERIAL-like on PostgreSQL (no unsigned there), INTEGER PRIMARY KEY AUTOINCREMENT on SQLite
 * (AUTOINCREMENT needs INTEGER there); DATETIME is TIMESTAMP WITHOUT TIME ZONE on PostgreSQL.
 */
import type { MigrateEngine } from '../../../../migrate/script/contract.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const { queryRunner, dialect } = migrate_engine;
  // Re-running after an interruption (MySQL has no transactional DDL) must converge.
  if (await queryRunner.hasTable('books')) return;
  const timestamp = dialect === 'postgresql' ? 'timestamp' : 'datetime';
  await queryRunner.createTable(
    new migrate_engine.Table({
      name: 'books',
      columns: [
        {
          name: 'id',
          type: dialect === 'sqlite' ? 'integer' : 'bigint',
          unsigned: dialect === 'mysql',
          isPrimary: true,
          isGenerated: true,
          generationStrategy: 'increment',
          primaryKeyConstraintName: dialect === 'postgresql' ? 'books_pkey' : undefined,
        },
        { name: 'title', type: 'text', isNullable: false },
        { name: 'author', type: 'varchar', length: '64', isNullable: false },
        { name: 'created_at', type: timestamp, isNullable: true },
        { name: 'updated_at', type: timestamp, isNullable: true },
      ],
    }),
  );
}

export async function downgrade(migrate_engine: MigrateEngine): Promise<void> {
  await migrate_engine.queryRunner.dropTable('books', true);
}
