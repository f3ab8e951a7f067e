/**
 * `migrate_version` is byte-compatible with sqlalchemy-migrate (SPEC §8): the same DDL per backend,
 * the same row, the same statements. A database versioned by the Python tool (its table created
 * here with the DDL the SPEC shows for each backend, its row inserted as the Python tool does) is
 * read and upgraded by ours; a database versioned by ours is read and updated by the Python tool's
 * own statements (SPEC §8.2). That our DDL is the Python tool's on each backend is a conformance
 * test (test/conformance/adapters.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as api from '../../migrate/api.js';
import type { Logger } from '../../migrate/script/contract.js';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { PYTHON_DDL } from '../support/version-table.js';
import { columnsOf, removeDir, sqlModule, tempDir, versionRows, writeRepo } from '../support/cli.js';

const silent: Logger = { info() {}, warn() {}, debug() {}, error() {} } as Logger;
const o = { logger: silent };

/** The Python tool's statements on the version table (SPEC §8.2), with the backend's placeholders. */
function python(db: TestDatabase, table: string) {
  return {
    select: (id: string) => db.query(`SELECT repository_id, repository_path, version FROM ${table} WHERE repository_id = ?`, [id]),
    insert: (id: string, path: string, v: number) =>
      db.query(`INSERT INTO ${table} (repository_id, repository_path, version) VALUES (?, ?, ?)`, [id, path, v]),
    update: (id: string, from: number, to: number) =>
      db.query(`UPDATE ${table} SET version=? WHERE ${table}.version = ? AND ${table}.repository_id = ?`, [to, from, id]),
  };
}

const THREE = {
  '001_a.mjs': sqlModule(['CREATE TABLE va (id INTEGER)'], ['DROP TABLE va']),
  '002_b.mjs': sqlModule(['CREATE TABLE vb (id INTEGER)'], ['DROP TABLE vb']),
  '003_c.mjs': sqlModule(['CREATE TABLE vc (id INTEGER)'], ['DROP TABLE vc']),
};

for (const d of ALL_DIALECTS) {
  describe(`migrate_version on ${d}`, { concurrency: true }, () => {
    test('a database versioned by the Python tool is read and upgraded by ours', async (t) => {
      const skip = await skipUnlessReachable(d);
      if (skip.skip) return t.skip(skip.skip);
      const db = await createTestDatabase(d);
      const dir = tempDir();
      try {
        const repo = writeRepo(join(dir, 'r'), { files: THREE });
        await db.query(PYTHON_DDL[d]('migrate_version'));
        const py = python(db, 'migrate_version');
        await py.insert('sample', 'migrate_repo', 1); // as `python manage.py version_control URL migrate_repo 1`
        await db.query('CREATE TABLE va (id INTEGER)'); // what version 1 did
        assert.equal(await api.dbVersion(db.url, repo, o), 1);
        const res = await api.upgrade(db.url, repo, 2, o);
        assert.deepEqual(res.steps.map((s) => [s.from, s.to]), [[1, 2]]);
        // Same row, path as the Python tool stored it, version bumped; no column added.
        assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 2]]);
        assert.deepEqual((await columnsOf(db, 'migrate_version')).map((c) => c.name), ['repository_id', 'repository_path', 'version']);
        // The Python tool can carry on: its select and compare-and-set update work on the row.
        assert.deepEqual((await py.select('sample')).map((r) => Number(r.version)), [2]);
        await py.update('sample', 2, 3);
        await db.query('CREATE TABLE vc (id INTEGER)'); // ... pretending it ran 003 itself
        assert.equal(await api.dbVersion(db.url, repo, o), 3);
        const down = await api.downgrade(db.url, repo, 1, o);
        assert.deepEqual(down.steps.map((s) => [s.from, s.to]), [[3, 2], [2, 1]]);
        assert.deepEqual(await versionRows(db), [['sample', 'migrate_repo', 1]]);
      } finally {
        removeDir(dir);
        await db.drop();
      }
    });

    test('a database versioned by ours is read and updated by the Python tool\'s statements', async (t) => {
      const skip = await skipUnlessReachable(d);
      if (skip.skip) return t.skip(skip.skip);
      const db = await createTestDatabase(d);
      const dir = tempDir();
      try {
        const repo = writeRepo(join(dir, 'r'), { files: THREE });
        await api.versionControl(db.url, repo, undefined, o);
        await api.upgrade(db.url, repo, 2, o);
        const py = python(db, 'migrate_version');
        const rows = await py.select('sample');
        assert.equal(rows.length, 1);
        assert.deepEqual([String(rows[0]!.repository_id), String(rows[0]!.repository_path), Number(rows[0]!.version)], ['sample', repo, 2]);
        // The Python tool's version_control of another repository on the same table.
        await py.insert('other', 'other_repo', 0);
        assert.deepEqual(await versionRows(db), [['other', 'other_repo', 0], ['sample', repo, 2]]);
        // Its per-step update.
        await py.update('sample', 2, 3);
        await db.query('CREATE TABLE vc (id INTEGER)');
        assert.equal(await api.dbVersion(db.url, repo, o), 3);
        // Ours leaves the other repository's row alone.
        await api.downgrade(db.url, repo, 0, o);
        assert.deepEqual(await versionRows(db), [['other', 'other_repo', 0], ['sample', repo, 0]]);
        await api.dropVersionControl(db.url, repo, o);
        assert.deepEqual(await versionRows(db), [['other', 'other_repo', 0]]);
      } finally {
        removeDir(dir);
        await db.drop();
      }
    });
  });
}
