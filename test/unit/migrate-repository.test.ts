/**
 * Repository discovery and step planning (SPEC §3 valid repository, §6, §7): which files are
 * scripts, one module per version, script selection per backend (.sql for the backend, then
 * `default`, then the module), the path resolved before anything runs, timestamp walks.
 * Real files in a temp directory; no database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InvalidRepositoryError, ScriptError, VersionNotFoundError } from '../../migrate/errors.js';
import { loadRepository, planSteps } from '../../migrate/repository.js';
import { removeDir, tempDir, writeRepo } from '../support/cli.js';

let dir: string;
let n = 0;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));
const repoWith = (files: Record<string, string>, o: { timestampNumbering?: boolean } = {}) =>
  writeRepo(join(dir, `r${++n}`), { files, ...o });
const plan = (repo: string, from: number, to: number, dialect: 'mysql' | 'postgresql' | 'sqlite' = 'sqlite') =>
  planSteps(loadRepository(repo), from, to, dialect).map((s) => `${s.from}->${s.to}:${s.script.relPath}`);

describe('a valid repository (SPEC §3)', () => {
  test('needs the directory, migrate.cfg and versions/; README, manage and __init__ are optional', () => {
    const repo = repoWith({});
    assert.equal(loadRepository(repo).latest, 0);
  });

  test('missing path, missing migrate.cfg, missing versions/: InvalidRepositoryError with the path as given', () => {
    const noCfg = repoWith({});
    rmSync(join(noCfg, 'migrate.cfg'));
    const noVersions = repoWith({});
    rmSync(join(noVersions, 'versions'), { recursive: true });
    const cfgIsDir = repoWith({});
    rmSync(join(cfgIsDir, 'migrate.cfg'));
    mkdirSync(join(cfgIsDir, 'migrate.cfg'));
    for (const p of [join(dir, 'nowhere'), noCfg, noVersions, cfgIsDir]) {
      assert.throws(() => loadRepository(p), (e: unknown) => {
        assert.ok(e instanceof InvalidRepositoryError, String(e));
        assert.ok((e as Error).message.startsWith(p), (e as Error).message);
        return true;
      });
    }
  });

  test('the path is kept as given (it is stored verbatim in migrate_version)', () => {
    const repo = repoWith({});
    const rel = `./${relative(process.cwd(), repo)}`;
    assert.equal(loadRepository(rel).path, rel);
    assert.equal(loadRepository(rel).absPath, repo);
  });
});

describe('discovering scripts (SPEC §6)', () => {
  test('only names starting with 3+ digits are scripts; others are ignored silently', () => {
    const repo = repoWith({
      '001_a.mjs': '',
      '01_two_digits.mjs': '',
      'helper.mjs': '',
      'readme.txt': '',
      '__init__.py': '',
      '003_c.ts': '',
    });
    const r = loadRepository(repo);
    assert.deepEqual(r.versions.map((v) => v.version), [1, 3]);
    assert.equal(r.latest, 3);
  });

  test('module extensions .ts .js .mjs .cjs are module scripts; .d.ts and .map are not', () => {
    const repo = repoWith({ '001_a.ts': '', '002_b.js': '', '003_c.mjs': '', '004_d.cjs': '', '005_e.d.ts': '', '006_f.js.map': '' });
    const r = loadRepository(repo);
    assert.deepEqual(r.versions.map((v) => [v.version, v.module?.kind]), [[1, 'module'], [2, 'module'], [3, 'module'], [4, 'module']]);
  });

  test('a non-script NNN_ file makes no phantom version (SPEC §12.6)', () => {
    const repo = repoWith({ '001_a.mjs': '', '002_notes.txt': '', '003_backup.copy': '' });
    assert.equal(loadRepository(repo).latest, 1);
  });

  test('two module scripts for one version: ScriptError naming both', () => {
    const repo = repoWith({ '001_a.mjs': '', '001_b.ts': '' });
    assert.throws(() => loadRepository(repo), (e: unknown) => {
      assert.ok(e instanceof ScriptError, String(e));
      assert.match((e as Error).message, /one .*per version/);
      assert.ok((e as Error).message.includes('001_a.mjs') && (e as Error).message.includes('001_b.ts'), (e as Error).message);
      return true;
    });
  });

  test('a module script and .sql scripts may share a version', () => {
    const r = loadRepository(repoWith({ '001_a.mjs': '', '001_a_sqlite_upgrade.sql': '', '001_a_default_downgrade.sql': '' }));
    const v = r.versions[0]!;
    assert.equal(v.module?.relPath, 'versions/001_a.mjs');
    assert.deepEqual([...v.sql.keys()].sort(), ['default:downgrade', 'sqlite:upgrade']);
  });

  test('.sql names: database = second-to-last part, operation = last; no description is fine', () => {
    const r = loadRepository(repoWith({ '001_add_x_postgresql_upgrade.sql': '', '002_mysql_upgrade.sql': '' }));
    assert.equal(r.versions[0]!.sql.get('postgresql:upgrade')?.database, 'postgresql');
    assert.equal(r.versions[1]!.sql.get('mysql:upgrade')?.operation, 'upgrade');
  });

  test('an .sql name with fewer than 3 parts: ScriptError "Invalid SQL script name"', () => {
    assert.throws(() => loadRepository(repoWith({ '001_mysql.sql': '' })), /Invalid SQL script name 001_mysql\.sql/);
  });

  test('the old layout (versions/1/ directory) is refused', () => {
    const repo = repoWith({});
    mkdirSync(join(repo, 'versions', '1'));
    assert.throws(() => loadRepository(repo), /old format/);
  });

  test('a bad script file does not break loading (contents are read only when needed)', () => {
    const repo = repoWith({ '001_a.mjs': 'this is not javascript {{{', '002_b.ts': 'syntax error here (((' });
    assert.equal(loadRepository(repo).latest, 2);
  });
});

describe('planning steps (SPEC §6 selection, §7 changeset)', () => {
  test('up: cur+1..tgt; down: cur..tgt+1, the script of `to` going up, of `from` going down', () => {
    const repo = repoWith({ '001_a.mjs': '', '002_b.mjs': '', '003_c.mjs': '' });
    assert.deepEqual(plan(repo, 0, 3), ['0->1:versions/001_a.mjs', '1->2:versions/002_b.mjs', '2->3:versions/003_c.mjs']);
    assert.deepEqual(plan(repo, 1, 2), ['1->2:versions/002_b.mjs']);
    assert.deepEqual(plan(repo, 3, 1), ['3->2:versions/003_c.mjs', '2->1:versions/002_b.mjs']);
    assert.deepEqual(plan(repo, 2, 2), []);
  });

  test('script selection: .sql of the backend, else default, else the module', () => {
    const repo = repoWith({
      '001_a.mjs': '',
      '001_a_sqlite_upgrade.sql': '',
      '001_a_default_upgrade.sql': '',
      '002_b.mjs': '',
      '002_b_mysql_upgrade.sql': '',
      '003_c_default_upgrade.sql': '',
      '003_c_default_downgrade.sql': '',
    });
    assert.deepEqual(plan(repo, 0, 3, 'sqlite'), [
      '0->1:versions/001_a_sqlite_upgrade.sql',
      '1->2:versions/002_b.mjs',
      '2->3:versions/003_c_default_upgrade.sql',
    ]);
    assert.deepEqual(plan(repo, 0, 3, 'mysql'), [
      '0->1:versions/001_a_default_upgrade.sql',
      '1->2:versions/002_b_mysql_upgrade.sql',
      '2->3:versions/003_c_default_upgrade.sql',
    ]);
    assert.deepEqual(plan(repo, 0, 2, 'postgresql'), ['0->1:versions/001_a_default_upgrade.sql', '1->2:versions/002_b.mjs']);
    // Going down, only module downgrades exist for 1 and 2.
    assert.deepEqual(plan(repo, 3, 0, 'mysql'), [
      '3->2:versions/003_c_default_downgrade.sql',
      '2->1:versions/002_b.mjs',
      '1->0:versions/001_a.mjs',
    ]);
  });

  test('a gap anywhere in the path: VersionNotFoundError for the missing version, before any step', () => {
    const repo = repoWith({ '001_a.mjs': '', '003_c.mjs': '' });
    assert.throws(() => plan(repo, 0, 3), (e: unknown) => {
      assert.ok(e instanceof VersionNotFoundError);
      assert.match((e as Error).message, /"Database schema file with version 2 doesn't exist\."/);
      return true;
    });
    assert.deepEqual(plan(repo, 0, 1), ['0->1:versions/001_a.mjs']);
  });

  test('past the latest: "version 3 doesn\'t exist" (latest 2)', () => {
    const repo = repoWith({ '001_a.mjs': '', '002_b.mjs': '' });
    assert.throws(() => plan(repo, 0, 5), /version 3 doesn't exist/);
  });

  test('no script for the backend: "There is no script for N version"', () => {
    const repo = repoWith({ '001_a.mjs': '', '002_b_mysql_upgrade.sql': '', '002_b_mysql_downgrade.sql': '' });
    assert.deepEqual(plan(repo, 0, 2, 'mysql').length, 2);
    assert.throws(() => plan(repo, 0, 2, 'sqlite'), (e: unknown) => {
      assert.ok(e instanceof ScriptError);
      assert.match((e as Error).message, /There is no script for 2 version/);
      return true;
    });
  });

  test('only the upgrade .sql present and a downgrade needed: no script', () => {
    const repo = repoWith({ '001_a_default_upgrade.sql': '' });
    assert.throws(() => plan(repo, 1, 0), /There is no script for 1 version/);
  });

  test('timestamp numbering walks the versions that exist (SPEC §5.3)', () => {
    const repo = repoWith(
      { '20260101120000_a.mjs': '', '20260102120000_b.mjs': '', '20260103120000_c.mjs': '' },
      { timestampNumbering: true },
    );
    assert.deepEqual(plan(repo, 0, 20260103120000), [
      '0->20260101120000:versions/20260101120000_a.mjs',
      '20260101120000->20260102120000:versions/20260102120000_b.mjs',
      '20260102120000->20260103120000:versions/20260103120000_c.mjs',
    ]);
    assert.deepEqual(plan(repo, 20260103120000, 20260101120000), [
      '20260103120000->20260102120000:versions/20260103120000_c.mjs',
      '20260102120000->20260101120000:versions/20260102120000_b.mjs',
    ]);
    assert.deepEqual(plan(repo, 20260102120000, 0).length, 2);
    assert.throws(() => plan(repo, 0, 20260101120005), /version 20260101120005 doesn't exist/);
  });

  test('a bad file in versions/ does not stop a plan that does not use it', () => {
    const repo = repoWith({ '001_a.mjs': '' });
    writeFileSync(join(repo, 'versions', '002_b.ts'), '((( not typescript');
    assert.deepEqual(plan(repo, 0, 1), ['0->1:versions/001_a.mjs']);
  });
});
