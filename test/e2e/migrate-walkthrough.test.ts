/**
 * The seed walkthrough (issue; SPEC §2.1), end to end with the built CLI on MariaDB, PostgreSQL and
 * SQLite: every command's output and exit code, and the database after each step. Step 6 runs the
 * sample app's tests (examples/books/tests.ts) against the migrated database.
 *
 * The scripts are "edited" by copying the sample app's versions (examples/books/migrate_repo) over
 * the generated templates, as the walkthrough's person did with their editor.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase, type TestDialect } from '../support/db.js';
import { SOURCE_ROOT, columnsOf, lines, removeDir, runMigrate, runNode, show, tableNames, tempDir, versionRows, type CliResult } from '../support/cli.js';
import { openDataSource } from '../../examples/books/datasource.js';
import { BookService } from '../../examples/books/books.js';
import { BOOK_TESTS, addFixture } from '../../examples/books/tests.js';

const EXAMPLE_VERSIONS = join(SOURCE_ROOT, 'examples', 'books', 'migrate_repo', 'versions');

/** Exit 0, the exact stdout, nothing on stderr. */
function expectOk(r: CliResult, stdout: string): void {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, stdout, show(r));
  assert.equal(r.stderr, '', show(r));
}

/** What the walkthrough expects of `books` per backend (SPEC §10.1 and the issue). */
function expectBooks(d: TestDialect, cols: Awaited<ReturnType<typeof columnsOf>>, withIsbn: boolean): void {
  const brief = cols.map((c) => [c.name, c.type, c.nullable ? 'YES' : 'NO', c.primary ? 'PRI' : '', c.extra]);
  if (d === 'mysql') {
    // MariaDB's DESC books, exactly.
    const expected = [
      ['id', 'bigint(20) unsigned', 'NO', 'PRI', 'auto_increment'],
      ['title', 'text', 'NO', '', ''],
      ['author', 'varchar(64)', 'NO', '', ''],
      ['created_at', 'datetime', 'YES', '', ''],
      ['updated_at', 'datetime', 'YES', '', ''],
    ];
    if (withIsbn) expected.push(['isbn', 'bigint(13)', 'NO', '', '']);
    assert.deepEqual(brief, expected);
  } else if (d === 'postgresql') {
    assert.deepEqual(
      brief.map((c) => c.slice(0, 4)),
      [
        ['id', 'bigint', 'NO', 'PRI'],
        ['title', 'text', 'NO', ''],
        ['author', 'character varying(64)', 'NO', ''],
        ['created_at', 'timestamp without time zone', 'YES', ''],
        ['updated_at', 'timestamp without time zone', 'YES', ''],
        ...(withIsbn ? [['isbn', 'bigint', 'NO', '']] : []),
      ],
    );
    assert.match(cols[0]!.extra, /^nextval\('books_id_seq'::regclass\)$/, 'id is auto-increment (BIGSERIAL)');
  } else {
    assert.deepEqual(
      brief.map((c) => c.slice(0, 4)),
      [
        ['id', 'integer', 'NO', 'PRI'],
        ['title', 'text', 'NO', ''],
        ['author', 'varchar(64)', 'NO', ''],
        ['created_at', 'datetime', 'YES', ''],
        ['updated_at', 'datetime', 'YES', ''],
        ...(withIsbn ? [['isbn', 'bigint', 'NO', '']] : []),
      ],
    );
  }
}

async function sqliteAutoincrement(db: TestDatabase): Promise<boolean> {
  const [row] = await db.query("SELECT sql FROM sqlite_master WHERE name = 'books'");
  return /AUTOINCREMENT/i.test(String(row?.sql));
}

describe('the seed walkthrough on each backend', { concurrency: true }, () => {
  for (const d of ALL_DIALECTS) {
    test(d, async (t) => {
      const skip = await skipUnlessReachable(d);
      if (skip.skip) return t.skip(skip.skip);
      const db = await createTestDatabase(d);
      const cwd = tempDir('migrate-walkthrough-');
      const R = 'migrate_repo';
      const manage = (...args: string[]) => runNode([join(R, 'manage.js'), ...args], { cwd });
      const migrate = (...args: string[]) => runMigrate(args, { cwd });
      const URL = db.url;
      try {
        await t.test('1. migrate create migrate_repo "sample"', async () => {
          expectOk(await migrate('create', R, 'sample'), '');
          const files = readdirSync(join(cwd, R)).sort();
          for (const f of ['README', 'manage.js', 'migrate.cfg', 'versions']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
          assert.ok(statSync(join(cwd, R, 'versions')).isDirectory());
          assert.deepEqual(await tableNames(db), [], 'create does not touch the database');
        });

        await t.test('2. manage version_control URL REPO; version; db_version', async () => {
          expectOk(await manage('version_control', URL, R), '');
          assert.deepEqual(await tableNames(db), ['migrate_version']);
          assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 0]]);
          expectOk(await migrate('version', R), '0\n');
          expectOk(await migrate('db_version', URL, R), '0\n');
        });

        await t.test('3. manage script "add books table" REPO -> versions/001_add_books_table.ts', async () => {
          expectOk(await manage('script', 'add books table', R), '');
          const generated = join(cwd, R, 'versions', '001_add_books_table.ts');
          assert.ok(existsSync(generated), readdirSync(join(cwd, R, 'versions')).join(', '));
          copyFileSync(join(EXAMPLE_VERSIONS, '001_add_books_table.ts'), generated);
          expectOk(await migrate('version', R), '1\n');
          expectOk(await migrate('db_version', URL, R), '0\n');
        });

        await t.test('4. manage upgrade URL REPO -> "0 -> 1... " "done"; books as declared', async () => {
          expectOk(await manage('upgrade', URL, R), '0 -> 1... \ndone\n');
          expectOk(await migrate('db_version', URL, R), '1\n');
          assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 1]]);
          assert.ok((await tableNames(db)).includes('books'));
          expectBooks(d, await columnsOf(db, 'books'), false);
          if (d === 'sqlite') assert.ok(await sqliteAutoincrement(db), 'id INTEGER PRIMARY KEY AUTOINCREMENT');
        });

        await t.test('5. manage script "add isbn column"; upgrade -> "1 -> 2... " "done"; isbn bigint(13) NOT NULL', async () => {
          expectOk(await manage('script', 'add isbn column', R), '');
          const generated = join(cwd, R, 'versions', '002_add_isbn_column.ts');
          assert.ok(existsSync(generated), readdirSync(join(cwd, R, 'versions')).join(', '));
          copyFileSync(join(EXAMPLE_VERSIONS, '002_add_isbn_column.ts'), generated);
          expectOk(await migrate('version', R), '2\n');
          expectOk(await manage('upgrade', URL, R), '1 -> 2... \ndone\n');
          expectOk(await migrate('db_version', URL, R), '2\n');
          assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 2]]);
          expectBooks(d, await columnsOf(db, 'books'), true);
          // A second upgrade is a silent no-op.
          expectOk(await manage('upgrade', URL, R), '');
        });

        await t.test('6. the sample app\'s tests pass against this database', async (t6) => {
          const ds = await openDataSource(URL);
          try {
            const service = new BookService(ds);
            const fixture = await addFixture(service);
            assert.ok(fixture.id > 0);
            for (const bt of BOOK_TESTS) await t6.test(bt.name, () => bt.run(service, fixture));
          } finally {
            await ds.destroy();
          }
        });

        await t.test('7. manage downgrade URL REPO 0; drop_version_control; db_version fails', async () => {
          expectOk(await manage('downgrade', URL, R, '0'), '2 -> 1... \ndone\n1 -> 0... \ndone\n');
          expectOk(await migrate('db_version', URL, R), '0\n');
          assert.ok(!(await tableNames(db)).includes('books'), 'books dropped');
          assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 0]]);
          expectOk(await manage('drop_version_control', URL, R), '');
          assert.ok(!(await tableNames(db)).includes('migrate_version'), 'the version table is gone (its only row was removed)');
          const r = await migrate('db_version', URL, R);
          assert.equal(r.code, 1, show(r));
          assert.equal(r.stdout, '');
          assert.equal(lines(r.stderr).length, 1, show(r));
          assert.match(r.stderr, /not under version control/);
          assert.match(r.stderr, /DatabaseNotControlledError/);
        });
      } finally {
        removeDir(cwd);
        await db.drop();
      }
    });
  }
});
