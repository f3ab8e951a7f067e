/**
 * The sample app: a small book catalogue over the `books` table.
 *
 *   const books = new BookService(dataSource);
 *   const b = await books.add({ title, author, isbn });
 *   await books.find(b.id);                 // the Book, or null
 *   await books.updateAuthor(b.id, 'X');    // NotFoundError for an unknown id
 */
import type { DataSource, Repository } from 'typeorm';
import type { Book } from './book.js';

/** Raised when an operation names a book that does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export class BookService {
  private readonly repo: Repository<Book>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository<Book>('Book');
  }

  /** Adds a book; created_at and updated_at are set to now. */
  async add(b: { title: string; author: string; isbn: number }): Promise<Book> {
    const now = new Date();
    now.setMilliseconds(0);
    return this.repo.save(this.repo.create({ ...b, created_at: now, updated_at: now }));
  }

  /** The book with this id, or null. */
  async find(id: number): Promise<Book | null> {
    return this.repo.findOneBy({ id });
  }

  /** Sets the author of book `id` (and updated_at). Throws NotFoundError for an unknown id. */
  async updateAuthor(id: number, author: string): Promise<Book> {
    const now = new Date();
    now.setMilliseconds(0);
    const res = await this.repo.update({ id }, { author, updated_at: now });
    if (!res.affected) throw new NotFoundError(`Attempt to update book with id: ${id}`);
    const book = await this.find(id);
    if (!book) throw new NotFoundError(`Attempt to update book with id: ${id}`);
    return book;
  }
}
