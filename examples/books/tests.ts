/**
 * The sample app's tests (the seed's four), written against a BookService on a database that the
 * app's migrations brought to version 2. The suite runs them (test/e2e/migrate-walkthrough.test.ts)
 * against each backend after `migrate upgrade`:
 *
 *   const fixture = await addFixture(service);
 *   for (const t of BOOK_TESTS) await t.run(service, fixture);
 */
import assert from 'node:assert/strict';
import type { Book } from './book.js';
import { NotFoundError, type BookService } from './books.js';

export const FIXTURE = { title: 'The Hitchhiker\'s Guide to the Galaxy', author: 'Douglas Adams', isbn: 9780345391803 } as const;

/** Inserts the fixture book and returns it (with its id). */
export function addFixture(service: BookService): Promise<Book> {
  return service.add({ ...FIXTURE });
}

export interface BookTest {
  readonly name: string;
  run(service: BookService, fixture: Book): Promise<void>;
}

export const BOOK_TESTS: readonly BookTest[] = [
  {
    name: 'find returns a book',
    async run(service, fixture) {
      const book = await service.find(fixture.id);
      assert.ok(book, `book ${fixture.id} found`);
      assert.equal(book.id, fixture.id);
      assert.equal(book.title, FIXTURE.title);
      assert.equal(book.author, FIXTURE.author);
      assert.equal(await service.find(fixture.id + 100000), null);
    },
  },
  {
    name: 'isbn is readable',
    async run(service, fixture) {
      const book = await service.find(fixture.id);
      assert.equal(book?.isbn, FIXTURE.isbn);
      assert.equal(typeof book?.isbn, 'number');
    },
  },
  {
    name: 'the author updates',
    async run(service, fixture) {
      const updated = await service.updateAuthor(fixture.id, 'D. N. Adams');
      assert.equal(updated.author, 'D. N. Adams');
      const again = await service.find(fixture.id);
      assert.equal(again?.author, 'D. N. Adams');
      assert.equal(again?.title, FIXTURE.title);
      assert.ok(again?.updated_at, 'updated_at is set');
    },
  },
  {
    name: 'updating id 1000 raises NotFound',
    async run(service) {
      await assert.rejects(service.updateAuthor(1000, 'Nobody'), (e: unknown) => {
        assert.ok(e instanceof NotFoundError, String(e));
        assert.equal((e as Error).message, 'Attempt to update book with id: 1000');
        return true;
      });
    },
  },
];
