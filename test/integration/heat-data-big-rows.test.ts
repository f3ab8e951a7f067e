/**
 * A raw_template bigger than MariaDB's max_allowed_packet, rewritten by 037 (issue 9, "big rows"),
 * on a private MariaDB (test/support/spare-server.ts) whose limit the test may change.
 *
 * The template is ~20 MB: a HOT template whose one parameter uses `Type` (so 037 rewrites it) and a
 * resource property holding ~20 MB of text with non-ASCII letters. The expected text is written
 * out here from 037's rule (MIGRATIONS.md §3, 037: `schema['type'] = schema['Type']` appends the
 * key, `del schema['Type']`, `'String'` is title-case and not a HOT type, so it becomes 'string' in
 * place) and json.dumps' escaping (`é` → `\u00e9`, and so on), not from our codec.
 *
 * Under max_allowed_packet 16 MB (the server default) one statement cannot carry the 24.6 MB
 * rewritten value, nor can SQL assemble it from pieces (CONCAT and the other string functions return
 * NULL past max_allowed_packet; the session value is read-only); the engine's writeLargeText streams
 * it with LOAD DATA LOCAL INFILE instead.
 *  1. local_infile OFF (`SET GLOBAL local_infile = 0`, MySQL 8's default): db_sync stops with one
 *     line naming the row, its size, the limit and both fixes; exit 1; not "lost the connection";
 *     the big row unchanged, the row before it already rewritten, the version still 36.
 *  2. After `SET GLOBAL local_infile = 1` (max_allowed_packet still 16 MB) the same db_sync to 71
 *     resumes and converges: every row holds exactly the expected text (043 rewrites the big row
 *     once more, with the same text), version 71.
 *  3. The other fix, on a second database: local_infile OFF and max_allowed_packet 64 MB: db_sync
 *     to 71 converges the same way (one ordinary UPDATE carries the value).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describeRun, plainLines, runHeat } from '../support/heat-cli.js';
import { createSpareServer, spareUnavailableReason } from '../support/spare-server.js';

function spareSkip(): { skip?: string } {
  const reason = spareUnavailableReason('mariadb');
  return reason && process.env.CI !== 'true' ? { skip: reason } : {};
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** A template 037 rewrites, with `payload` as a property value; and 037's exact output for it. */
function template(payload: string): { input: string; expected: string } {
  const head = '{"heat_template_version": "2013-05-23", "parameters": {"p0": ';
  const tail = `}, "resources": {"big": {"type": "OS::Heat::None", "properties": {"blob": "${payload}"}}}}`;
  return {
    input: `${head}{"Type": "String", "default": "x"}${tail}`,
    // json.dumps (ensure_ascii) writes every non-ASCII character as \uXXXX.
    expected: `${head}{"default": "x", "type": "string"}${tail.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`,
  };
}

test('MariaDB: 037 on a 20 MB raw_template under a 16 MB max_allowed_packet: a clear stop while local_infile is OFF, then success once it is ON', { ...spareSkip(), timeout: 480_000 }, async () => {
  const server = await createSpareServer('mariadb');
  try {
    await server.start();
    const sync = async (version: string, db = 'heat') => runHeat(['db_sync', version], { url: server.url(db), timeoutMs: 240_000 });

    const unit = 'Heat template text with non-ASCII letters: é, ü, ï. ';
    const small = template('small');
    const big = template(unit.repeat(Math.ceil(20_000_000 / unit.length)));
    const after = template('after the big one');
    assert.ok(Buffer.byteLength(big.input) > 20_000_000 && Buffer.byteLength(big.expected) > 20_000_000);
    /** A database at 36 holding the three templates. */
    const seed = async (db: string) => {
      await server.query(`CREATE DATABASE ${db}`);
      const r36 = await sync('36', db);
      assert.equal(r36.code, 0, describeRun(r36));
      // Seeding needs a bigger packet; each server.query is a new connection, which takes the global value.
      await server.query('SET GLOBAL max_allowed_packet = 67108864');
      for (const [id, t] of [[1, small], [2, big], [3, after]] as const) {
        await server.query('INSERT INTO raw_template (id, template) VALUES (?, ?)', [id, t.input], db);
      }
    };
    await seed('heat');
    await server.query('SET GLOBAL max_allowed_packet = 16777216');
    const stored = async (db = 'heat') => {
      const rows = await server.query('SELECT id, MD5(template) AS m, LENGTH(template) AS n FROM raw_template ORDER BY id', [], db);
      return rows.map((r) => `${String(r.id)}:${String(r.m)}:${String(r.n)}`);
    };
    const version = async (db = 'heat') => Number((await server.query('SELECT version FROM migrate_version', [], db))[0]!.version);
    const converged = [
      `1:${md5(small.expected)}:${Buffer.byteLength(small.expected)}`,
      `2:${md5(big.expected)}:${Buffer.byteLength(big.expected)}`,
      `3:${md5(after.expected)}:${Buffer.byteLength(after.expected)}`,
    ];

    // 1. LOCAL INFILE refused: a clear stop before the big row, nothing half-written.
    await server.query('SET GLOBAL local_infile = 0');
    const failed = await sync('71');
    assert.equal(failed.code, 1, describeRun(failed));
    const err = plainLines(failed.stderr).join('\n');
    assert.match(
      err,
      /cannot write the 2\d\.\d MB value of raw_template\.template \(id=2\): one statement carries at most the server's max_allowed_packet \(16\.0 MB\) and the server refuses LOAD DATA LOCAL INFILE \(local_infile is OFF\)/,
    );
    assert.match(err, /raise max_allowed_packet to \d+ MB \(SET GLOBAL max_allowed_packet = \d+ \* 1024 \* 1024, or max_allowed_packet = \d+M under \[mysqld\]\) or enable local_infile \(SET GLOBAL local_infile = 1/);
    assert.equal(err.split('\n').filter((l) => /cannot write the/.test(l)).length, 1, err);
    assert.doesNotMatch(failed.stderr, /lost the connection/i);
    assert.deepEqual(await stored(), [
      `1:${md5(small.expected)}:${Buffer.byteLength(small.expected)}`,
      `2:${md5(big.input)}:${Buffer.byteLength(big.input)}`,
      `3:${md5(after.input)}:${Buffer.byteLength(after.input)}`,
    ]);
    assert.equal(await version(), 36);

    // 2. LOCAL INFILE allowed, the limit still 16 MB: the run resumes and converges to the exact text.
    await server.query('SET GLOBAL local_infile = 1');
    const ok = await sync('71');
    assert.equal(ok.code, 0, describeRun(ok));
    assert.equal(Number((await server.query('SELECT @@global.max_allowed_packet AS n'))[0]!.n), 16777216);
    assert.deepEqual(await stored(), converged);
    assert.equal(await version(), 71);
    // Reading the whole value back needs a bigger packet than the 24.6 MB row.
    await server.query('SET GLOBAL max_allowed_packet = 67108864');
    const text = (await server.query('SELECT template FROM raw_template WHERE id = 2', [], 'heat'))[0]!.template;
    assert.ok(String(text) === big.expected, 'the 24.6 MB row read back is the expected text');

    // 3. The other fix: local_infile OFF, max_allowed_packet raised to 64 MB: one ordinary UPDATE carries it.
    await seed('heat2');
    await server.query('SET GLOBAL local_infile = 0');
    const raised = await sync('71', 'heat2');
    assert.equal(raised.code, 0, describeRun(raised));
    assert.deepEqual(await stored('heat2'), converged);
    assert.equal(await version('heat2'), 71);
  } finally {
    await server.destroy();
  }
});
