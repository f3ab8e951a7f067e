/**
 * Heat's data migrations (MIGRATIONS.md §2.3, §2.5, §2.6 and §3) on each backend: a small seed at
 * version 28 that exercises every data step, migrated to 71, then checked value by value; and the
 * bad-data cases where Heat's own scripts crash, which we refuse with a message naming the step and
 * the row, leaving the version (and on MariaDB the schema) where it was.
 *
 * The expected values are written from the specification, the same for every backend (SQLite must
 * carry the same data as MariaDB), except where the spec says a backend differs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_DIALECTS, createTestDatabase, skipUnlessReachable } from '../support/db.js';
import { heatUpgrade, heatVersionControl } from '../support/heat-run.js';
import { bool, checkSeedAt71, F, seedAt28, TEMPLATES } from '../support/heat-seed.js';
import type { Logger } from '../../migrate/script/contract.js';

for (const dialect of ALL_DIALECTS) {
  describe(`Heat data steps on ${dialect}`, async () => {
    const opts = await skipUnlessReachable(dialect);

    test('a seeded database at 28 comes out at 71 with the data Heat produces', opts, async () => {
      const db = await createTestDatabase(dialect);
      try {
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 28);
        await seedAt28(db);
        await heatUpgrade(db.url, 50);
        await db.query("UPDATE stack SET tags = '[\"t\"]' WHERE id = 's-root'");
        await heatUpgrade(db.url);
        assert.equal(Number((await db.query('SELECT version FROM migrate_version'))[0]!.version), 71);

        await checkSeedAt71(db);
      } finally {
        await db.drop();
      }
    });

    test('template rewrites page through many rows, write only changed ones and log progress', opts, async () => {
      const db = await createTestDatabase(dialect);
      const N = 1203; // three pages of 500 and a bit
      try {
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 36);
        const values: unknown[] = [];
        for (let i = 1; i <= N; i++) values.push(i, TEMPLATES[i % TEMPLATES.length]![1]);
        await db.query(`INSERT INTO raw_template (id, template) VALUES ${Array.from({ length: N }, () => '(?, ?)').join(', ')}`, values);
        const progress: unknown[] = [];
        const logger = {
          info: (o: unknown) => progress.push(o), warn() {}, debug() {}, error() {},
        } as unknown as Logger;
        await heatUpgrade(db.url, 43, {}, logger);
        const rows = await db.query('SELECT id, template FROM raw_template ORDER BY id');
        assert.equal(rows.length, N);
        for (const r of rows) {
          assert.equal(r.template, TEMPLATES[Number(r.id) % TEMPLATES.length]![2], `raw_template ${String(r.id)}`);
        }
        const last = (step: string) =>
          progress.filter((p) => (p as { step?: string }).step === step).at(-1) as Record<string, unknown> | undefined;
        // Row id i holds TEMPLATES[i % 8]: 037 changes TEMPLATES[0], 041 TEMPLATES[2], 043 TEMPLATES[1, 4, 5]
        // (it re-serialises TEMPLATES[0] too, but 037 already left that text in json.dumps form).
        const per = (k: number[]) => Array.from({ length: N }, (_, i) => (i + 1) % 8).filter((x) => k.includes(x)).length;
        assert.deepEqual(last('037'), { step: '037', done: N, total: N, changed: per([0]) });
        assert.deepEqual(last('041'), { step: '041', done: N, total: N, changed: per([2]) });
        assert.deepEqual(last('043'), { step: '043', done: N, total: N, changed: per([1, 4, 5]) });
      } finally {
        await db.drop();
      }
    });

    test('bad data that Heat crashes on is refused with the step and the row named', opts, async () => {
      const db = await createTestDatabase(dialect);
      const version = async () => Number((await db.query('SELECT version FROM migrate_version'))[0]!.version);
      const refused = async (to: number, pattern: RegExp) => {
        await assert.rejects(heatUpgrade(db.url, to), (e: Error) => {
          assert.match(e.message, pattern);
          return true;
        });
        assert.equal(await version(), to - 1);
      };
      try {
        await heatVersionControl(db.url);
        await heatUpgrade(db.url, 28);
        await db.query("INSERT INTO user_creds (id) VALUES (1)");
        await db.query('INSERT INTO raw_template (id, template) VALUES (1, ?)', ['{"heat_template_version": "2013-05-23"}']);
        await db.query(
          `INSERT INTO stack (id, name, raw_template_id, user_creds_id, disable_rollback) VALUES ('a', 'a', 1, 1, ${F(dialect)})`,
        );
        await heatUpgrade(db.url, 36);

        // 037: NULL, non-JSON, a HOT parameter without a type.
        await db.query('INSERT INTO raw_template (id, template) VALUES (2, NULL)');
        await refused(37, /migration 037: raw_template row id=2: template is NULL.*fix the template/s);
        await db.query("UPDATE raw_template SET template = 'heat_template_version: 2013-05-23' WHERE id = 2");
        await refused(37, /migration 037: raw_template row id=2: template is not JSON \(JSONDecodeError: Expecting value: line 1 column 1 \(char 0\)\)/);
        await db.query('UPDATE raw_template SET template = ? WHERE id = 2', [
          '{"heat_template_version": "2013-05-23", "parameters": {"p": {"Type": "String"}, "q": {"default": 1}}}',
        ]);
        await refused(37, /migration 037: raw_template row id=2: parameter 'q' has no type/);
        await db.query('DELETE FROM raw_template WHERE id = 2');
        await heatUpgrade(db.url, 40);

        // 041: a resource that is a string containing a CFN key.
        await db.query('INSERT INTO raw_template (id, template) VALUES (3, ?)', [
          '{"heat_template_version": "2014-10-16", "resources": {"r": "MyType"}}',
        ]);
        await refused(41, /migration 041: raw_template row id=3: resources entry 'r' is a JSON str, not an object/);
        // A string without any CFN key passes, as in Heat.
        await db.query('UPDATE raw_template SET template = ? WHERE id = 3', [
          '{"heat_template_version": "2014-10-16", "resources": {"r": "plain"}}',
        ]);
        await heatUpgrade(db.url, 44);
        assert.equal((await db.query('SELECT template FROM raw_template WHERE id = 3'))[0]!.template, '{"heat_template_version": "2014-10-16", "resources": {"r": "plain"}}');

        // 045: a live stack without a name; nothing is changed before the check.
        await db.query(
          `INSERT INTO stack (id, name, raw_template_id, user_creds_id, disable_rollback) VALUES ('b', NULL, 3, 1, ${F(dialect)})`,
        );
        await refused(45, /migration 045: stack row id=b is not deleted .* but its name is NULL/);
        if (dialect === 'mysql') {
          const cols = await db.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stack' AND COLUMN_NAME = 'backup'");
          assert.equal(cols.length, 0);
        }
        await db.query("UPDATE stack SET name = 'b*' WHERE id = 'b'");
        await heatUpgrade(db.url, 55);
        assert.ok(bool((await db.query("SELECT backup FROM stack WHERE id = 'b'"))[0]!.backup));

        // 056: two live stacks on one template.
        await db.query("UPDATE stack SET raw_template_id = 1 WHERE id = 'b'");
        await refused(56, /migration 056: raw_template row id=1 is used by 2 live stacks/);
        await db.query("UPDATE stack SET raw_template_id = 3 WHERE id = 'b'");

        if (dialect === 'sqlite') {
          // 057: SQLite never enforced the FK; an orphaned resource_data row cannot be remapped.
          await heatUpgrade(db.url, 56);
          const Database = (await import('better-sqlite3')).default;
          const raw = new Database(db.file!);
          raw.pragma('foreign_keys = OFF'); // as Heat's oslo.db connections: orphans were possible
          raw.prepare("INSERT INTO resource_data (id, resource_id, redact) VALUES (9, 'nowhere', 0)").run();
          raw.close();
          await refused(57, /migration 057: resource_data row id=9 refers to resource 'nowhere'/);
          await db.query('DELETE FROM resource_data WHERE id = 9');
        }
        await heatUpgrade(db.url, 64);

        // 065: an owner_id cycle.
        await db.query("UPDATE stack SET owner_id = 'b' WHERE id = 'a'");
        await db.query("UPDATE stack SET owner_id = 'a' WHERE id = 'b'");
        await refused(65, /migration 065: following stack.owner_id from stack row id=a does not reach a top-level stack/);
        await db.query("UPDATE stack SET owner_id = NULL WHERE id = 'a'");
        await heatUpgrade(db.url);
        assert.equal(await version(), 71);
      } finally {
        await db.drop();
      }
    });
  });
}
