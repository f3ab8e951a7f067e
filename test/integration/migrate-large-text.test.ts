/**
 * `migrate_engine.writeLargeText` (migrate/script/contract.ts) on the three backends, through the
 * engine a script gets, on a real database: every awkward byte round-trips exactly — backslashes
 * (also `\N`, LOAD DATA's NULL), quotes, tabs, CR/LF, NUL, non-ASCII up to 4-byte characters —
 * in a value long enough to cross the streaming slices; bytes (a Buffer) into a binary column;
 * a composite key; and in preview nothing is written. On MySQL/MariaDB the value goes through
 * LOAD DATA LOCAL INFILE (the statement is seen). A value past max_allowed_packet, and the server
 * refusing LOCAL INFILE, are test/integration/heat-data-big-rows.test.ts (a private server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEngine } from '../../migrate/script/engine.js';
import { openSession } from '../../migrate/session.js';
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { forEachDialect, createTestDatabase, type TestDialect } from '../support/db.js';

const AWKWARD = "back\\slash \\N \\\\ \\t ' \" ` \t tab\nLF\r\nCRLF\r \0 NUL \x1a \b é ü 中文 😀 ;-- ";

/** ~150 KB: every 32 KB slice boundary falls somewhere else in AWKWARD. PostgreSQL's text cannot hold NUL. */
function longValue(dialect: TestDialect): string {
  const unit = dialect === 'postgresql' ? AWKWARD.replace('\0', '') : AWKWARD;
  let s = '\\';
  for (let i = 0; s.length < 150_000; i++) s += unit + String(i) + (i % 7 === 0 ? '\\' : '');
  return s;
}

const DDL: Record<TestDialect, string> = {
  mysql: 'CREATE TABLE lt (id INTEGER NOT NULL, name VARCHAR(20) NOT NULL, body LONGTEXT CHARACTER SET utf8mb4, bin LONGBLOB, PRIMARY KEY (id, name))',
  postgresql: 'CREATE TABLE lt (id INTEGER NOT NULL, name VARCHAR(20) NOT NULL, body TEXT, bin BYTEA, PRIMARY KEY (id, name))',
  sqlite: 'CREATE TABLE lt (id INTEGER NOT NULL, name VARCHAR(20) NOT NULL, body TEXT, bin BLOB, PRIMARY KEY (id, name))',
};

async function withEngine(dialect: TestDialect, fn: (e: MigrateEngine, db: Awaited<ReturnType<typeof createTestDatabase>>, sent: string[], preview?: string[]) => Promise<void>, preview = false) {
  const db = await createTestDatabase(dialect);
  const sent: string[] = [];
  try {
    await db.query(DDL[dialect]);
    await db.query("INSERT INTO lt (id, name, body) VALUES (1, 'a', 'old'), (2, 'a', 'old'), (2, 'b', 'old')");
    const session = await openSession(db.url, { hooks: { onStatement: (sql: string) => void sent.push(sql) } });
    const collected = { sql: [] as string[], notes: [] as string[] };
    try {
      const e = await makeEngine({
        dialect: session.dialect,
        session,
        adapter: session.adapter,
        logger: { info() {}, warn() {}, debug() {}, error() {} },
        step: { from: 1, to: 2, direction: 'upgrade' },
        resumed: false,
        preview: preview ? collected : undefined,
      });
      await fn(e, db, sent, collected.sql);
    } finally {
      await session.close();
    }
  } finally {
    await db.drop();
  }
}

const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

await forEachDialect('writeLargeText', (dialect) => {
  test('awkward text, empty text and `\\N` round-trip byte for byte; only the keyed row changes', async () => {
    await withEngine(dialect, async (e, db, sent) => {
      const value = longValue(dialect);
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 2, name: 'a' } }, value), 1);
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 1, name: 'a' } }, '\\N'), 1);
      const rows = await db.query('SELECT id, name, body FROM lt ORDER BY id, name');
      assert.deepEqual(
        rows.map((r) => `${String(r.id)}${String(r.name)}`),
        ['1a', '2a', '2b'],
      );
      assert.equal(text(rows[0]!.body), '\\N');
      assert.ok(text(rows[1]!.body) === value, `the ${value.length}-character value read back differs`);
      assert.equal(text(rows[2]!.body), 'old', 'another row with the same id is untouched');
      // A 4-byte character across the 32 768th character (where MySQL's stream cuts a slice).
      const emoji = `x${'😀'.repeat(20_000)}`;
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 2, name: 'b' } }, emoji), 1);
      assert.ok(text((await db.query("SELECT body FROM lt WHERE id = 2 AND name = 'b'"))[0]!.body) === emoji, 'the emoji value read back differs');
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 1, name: 'a' } }, ''), 1);
      assert.equal(text((await db.query("SELECT body FROM lt WHERE id = 1 AND name = 'a'"))[0]!.body), '');
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 9, name: 'a' } }, 'x'), 0, 'no such row: 0 rows');
      if (dialect === 'mysql') {
        assert.equal(sent.filter((s) => /^LOAD DATA LOCAL INFILE/.test(s)).length, 5, 'MySQL streams the value with LOAD DATA LOCAL INFILE');
        assert.deepEqual(await db.query("SHOW TABLES LIKE 'migrate_large_text'"), []);
      }
    });
  });

  test('a Buffer is written as bytes (all 256 byte values, into a binary column)', async () => {
    await withEngine(dialect, async (e, db) => {
      const bytes = Buffer.alloc(70_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
      assert.equal(await e.writeLargeText({ table: 'lt', column: 'bin', key: { id: 2, name: 'b' } }, bytes), 1);
      const [row] = await db.query("SELECT bin FROM lt WHERE id = 2 AND name = 'b'");
      assert.ok(Buffer.isBuffer(row!.bin) && bytes.equals(row!.bin), 'the bytes read back differ');
    });
  });

  test('in preview it records the UPDATE and writes nothing', async () => {
    await withEngine(
      dialect,
      async (e, db, sent, recorded) => {
        assert.equal(await e.writeLargeText({ table: 'lt', column: 'body', key: { id: 2, name: 'a' } }, longValue(dialect)), 0);
        assert.equal(recorded!.length, 1);
        assert.match(recorded![0]!, /^UPDATE .lt. SET .body. = \? WHERE .id. = \? AND .name. = \?$/);
        assert.equal(sent.length, 0, 'nothing was sent to the database');
        assert.deepEqual((await db.query('SELECT body FROM lt ORDER BY id, name')).map((r) => text(r.body)), ['old', 'old', 'old']);
      },
      true,
    );
  });
});
