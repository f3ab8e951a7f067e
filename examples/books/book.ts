/**
 * The `Book` entity of the sample app, as a TypeORM EntitySchema (no decorators) over the table
 * that the app's migrations create (migrate_repo/versions/001, 002):
 *
 *   books(id BIGINT UNSIGNED PK AUTO_INCREMENT, title TEXT NOT NULL, author VARCHAR(64) NOT NULL,
 *         created_at DATETIME NULL, updated_at DATETIME NULL, isbn BIGINT(13) NOT NULL)
 *
 * The schema is built per dialect because the timestamp type has different names (`datetime` on
 * MySQL/SQLite, `timestamp` on PostgreSQL). BIGINT values arrive as strings from mysql2 and pg; the
 * entity exposes them as numbers (ISBNs and ids here stay below 2^53).
 */
import { EntitySchema, type ValueTransformer } from 'typeorm';

export type Dialect = 'mysql' | 'postgresql' | 'sqlite';

export interface Book {
  id: number;
  title: string;
  author: string;
  isbn: number;
  created_at: Date | null;
  updated_at: Date | null;
}

const bigintAsNumber: ValueTransformer = {
  to: (v: unknown) => v,
  from: (v: unknown) => (v === null || v === undefined ? v : Number(v)),
};

export function bookSchema(dialect: Dialect): EntitySchema<Book> {
  const timestamp = dialect === 'postgresql' ? 'timestamp' : 'datetime';
  return new EntitySchema<Book>({
    name: 'Book',
    tableName: 'books',
    columns: {
      id: {
        type: dialect === 'sqlite' ? 'integer' : 'bigint',
        primary: true,
        generated: 'increment',
        unsigned: dialect === 'mysql',
        transformer: bigintAsNumber,
      },
      title: { type: 'text', nullable: false },
      author: { type: 'varchar', length: 64, nullable: false },
      isbn: { type: 'bigint', nullable: false, transformer: bigintAsNumber },
      created_at: { type: timestamp, nullable: true },
      updated_at: { type: timestamp, nullable: true },
    },
  });
}
