/**
 * The crash-point fixtures (test/fixtures/heat-takeover, made by real Heat: scripts/heat-harness/) and
 * the text forms both sides write, on the real servers:
 * - replaying the seed and the whole 34 -> 71 log gives exactly real Heat's result: catalog 071 and
 *   end-71.tsv (canonical rows + AUTO_INCREMENT / sequence positions, written by the Python harness
 *   from Heat's own database) byte for byte;
 * - at a few kill points, the replayed state hashes to what the killed Heat process left (kills.tsv);
 * - the Python harness (state.py) and test/support (heat-catalog.ts + heat-rows.ts) write the same
 *   snapshot text for the same database, values chosen to be hard (NULL and the text `\N`,
 *   backslashes, tabs, CR/LF, binary, non-ASCII, empty strings) — on MariaDB, PostgreSQL and SQLite.
 *   This part needs Debian's python3 with pymysql and psycopg2 (.ci/run installs them); without them
 *   it is skipped, except under CI=true.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, skipUnlessReachable, type TestDatabase } from '../support/db.js';
import { catalogDifferences, catalogFacts, liveCatalog, readCatalog } from '../support/heat-catalog.js';
import { canonicalRows } from '../support/heat-rows.js';
import { loadTakeover, replay, sha256, snapshot, upto, type TakeoverDialect } from '../support/heat-takeover.js';

const STATE_PY = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/heat-harness/state.py');

function pythonReason(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import pymysql, psycopg2'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `Debian's /usr/bin/python3 with pymysql and psycopg2 is needed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
}

async function withDb(dialect: TestDatabase['dialect'], fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(dialect);
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

for (const dialect of (['mysql', 'postgresql'] as TakeoverDialect[]).filter((d) => !process.env.HEAT_TAKEOVER_ONLY || d === process.env.HEAT_TAKEOVER_ONLY)) {
  describe(`heat-takeover fixtures on ${dialect}`, await skipUnlessReachable(dialect), () => {
    const f = loadTakeover(dialect);

    test('seed + the whole log replayed = real Heat at 71: catalog 071 and end-71.tsv byte for byte', async () => {
      await withDb(dialect, async (db) => {
        await replay({ dialect, name: db.name }, f.header.session, [...f.seed, ...f.log]);
        assert.deepEqual(catalogDifferences(catalogFacts(readCatalog(dialect, 71)), await liveCatalog({ dialect, name: db.name })), []);
        assert.equal(await canonicalRows({ dialect, name: db.name }), f.end);
      });
    });

    test('the replayed state after write k is the state the SIGKILLed Heat left (kills.tsv hashes)', async () => {
      const recorded = f.kills.filter((p) => p.sha256 !== null);
      assert.ok(recorded.length > f.kills.length / 2, 'most points have the killed state recorded');
      // one point in the middle of 035's and of 057's per-row loops (heat-takeover.test.ts checks every point)
      const picked = [35, 57].map((s) => {
        const ks = recorded.filter((p) => p.step === s);
        return ks[Math.floor(ks.length / 2)]!;
      });
      for (const p of picked) {
        await withDb(dialect, async (db) => {
          await replay({ dialect, name: db.name }, f.header.session, [...f.seed, ...upto(f.log, p.k)]);
          assert.equal(sha256(await snapshot({ dialect, name: db.name })), p.sha256, `write ${p.k} (step ${p.step})`);
        });
      }
    });
  });
}

const HARD: Array<[string | null, string | null]> = [
  [null, null],
  ['\\N', 'a\tb'],
  ['back\\slash \\\\ \\n', 'line\nbreak\r\nwin'],
  ['', ' '],
  ['é 中 ü \u00a0 naïve', '{"k": "v\\u00e9"}'],
];

const HARD_TABLE = {
  mysql: 'CREATE TABLE hard (id INTEGER PRIMARY KEY, a VARCHAR(64), b TEXT, c BLOB, d DATETIME) DEFAULT CHARSET=utf8',
  postgresql: 'CREATE TABLE hard (id INTEGER PRIMARY KEY, a VARCHAR(64), b TEXT, c BYTEA, d TIMESTAMP)',
  sqlite: 'CREATE TABLE hard (id INTEGER PRIMARY KEY, a VARCHAR(64), b TEXT, c BLOB, d DATETIME)',
};

async function fillHard(db: TestDatabase): Promise<void> {
  await db.query(HARD_TABLE[db.dialect]);
  let id = 1;
  for (const [a, b] of HARD) {
    const bytes = id === 1 ? null : Buffer.from([0, 1, 0x80, 0xe9, 0xff, id]);
    await db.query('INSERT INTO hard (id, a, b, c, d) VALUES (?, ?, ?, ?, ?)', [id, a, b, bytes, id === 2 ? null : `2016-01-0${id} 10:11:12`]);
    id++;
  }
}

describe('the Python harness and test/support write the same snapshot of a database', () => {
  for (const dialect of ['mysql', 'postgresql', 'sqlite'] as const) {
    test(dialect, async (t) => {
      const reason = pythonReason();
      if (reason && process.env.CI !== 'true') return t.skip(reason);
      const skip = await skipUnlessReachable(dialect);
      if (skip.skip) return t.skip(skip.skip);
      await withDb(dialect, async (db) => {
        await fillHard(db);
        const target = dialect === 'sqlite' ? db.file! : db.name;
        const py = spawnSync('/usr/bin/python3', [STATE_PY, dialect, target], { encoding: 'utf8', cwd: dirname(STATE_PY) });
        assert.equal(py.status, 0, py.stderr);
        const ours = await snapshot(db);
        assert.equal(ours, py.stdout);
        assert.ok(ours.includes('row\thard\t1\t\\N\t\\N\t\\N\t2016-01-01 10:11:12\n'), 'NULL cells');
        assert.ok(ours.includes('row\thard\t2\t\\\\N\ta\\tb\t\\x000180e9ff02\t\\N\n'), 'the text \\N is not NULL; a tab is escaped; bytes in hex');
      });
    });
  }
});
