/**
 * The in-memory storage (migrate/memory.ts) meets the same expectations as the SQL storage on the
 * real backends (test/conformance/adapters.test.ts): one suite, test/support/storage-expectations.ts,
 * with transactional DDL (PostgreSQL, SQLite) and without (MySQL).
 */
import { test } from 'node:test';
import { MemoryBackend, MemoryDb } from '../../migrate/memory.js';
import { STORAGE_EXPECTATIONS } from '../support/storage-expectations.js';

for (const transactionalDdl of [true, false]) {
  for (const c of STORAGE_EXPECTATIONS) {
    test(`memory storage (${transactionalDdl ? 'transactional' : 'non-transactional'} DDL): ${c.name}`, async () => {
      const db = new MemoryDb();
      await c.run({
        transactional: transactionalDdl,
        open: async (repositoryId = 'expect') => (await new MemoryBackend(db, { repositoryId, transactionalDdl }).open()).storage,
      });
    });
  }
}
