/**
 * The file-system commands (SPEC §3, §4, §5, §11): `create`, `script` (numbering and description
 * mangling), `script_sql`, timestamp numbering, `source`, `manage`, and migrate.cfg reading.
 * No database. Commands run in-process through the CLI's `run`; launchers run as child processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../migrate/cli/main.js';
import { loadRepository } from '../../migrate/repository.js';
import { lines, removeDir, runNode, show, tempDir, writeRepo } from '../support/cli.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await run(argv, { env: {}, io: { out: (s) => (out += s), err: (s) => (err += s) } });
  return { code, out, err };
}

const ok = (c: Captured) => assert.equal(c.code, 0, `exit ${c.code}\n${c.out}${c.err}`);
const versionsOf = (repo: string) => readdirSync(join(repo, 'versions')).sort();

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

let n = 0;
const fresh = () => join(dir, `r${++n}`);

describe('create REPO NAME (SPEC §3)', () => {
  test('creates README, migrate.cfg, the manage launcher and versions/, prints nothing', async () => {
    const repo = fresh();
    const c = await cli('create', repo, 'sample');
    ok(c);
    assert.equal(c.out, '');
    assert.equal(c.err, '');
    assert.equal(
      readFileSync(join(repo, 'README'), 'utf8'),
      'This is a database migration repository.\n\nMore information at\nhttp://code.google.com/p/sqlalchemy-migrate/\n',
    );
    assert.equal(readFileSync(join(repo, 'README')).length, 107);
    assert.ok(statSync(join(repo, 'versions')).isDirectory());
    assert.deepEqual(readdirSync(join(repo, 'versions')).filter((f) => /^\d/.test(f)), []);
    assert.ok(existsSync(join(repo, 'manage.js')), 'the manage launcher');
  });

  test('migrate.cfg: one [db_settings] section, the four keys in order, defaults', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'sample'));
    const text = readFileSync(join(repo, 'migrate.cfg'), 'utf8');
    const keyLines = lines(text).filter((l) => l.trim() && !l.trim().startsWith('#'));
    assert.deepEqual(keyLines, [
      '[db_settings]',
      'repository_id=sample',
      'version_table=migrate_version',
      'required_dbs=[]',
      'use_timestamp_numbering=False',
    ]);
  });

  test('config options replace the defaults; NAME is kept verbatim (spaces, %)', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'my app 100%', '--version_table=vt_app', '--use_timestamp_numbering=True', "--required_dbs=['sqlite']"));
    const r = loadRepository(repo);
    assert.equal(r.config.repositoryId, 'my app 100%');
    assert.equal(r.config.versionTable, 'vt_app');
    assert.equal(r.config.requiredDbs, "['sqlite']");
    assert.equal(r.timestampNumbering, true);
  });

  test('a name with % still gives a repository every command can read (SPEC §4 BAD)', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'a%b'));
    const c = await cli('version', repo);
    assert.deepEqual(c, { code: 0, out: '0\n', err: '' });
    assert.equal(loadRepository(repo).config.repositoryId, 'a%b');
  });

  test('missing parent directories are created', async () => {
    const repo = join(fresh(), 'deep', 'er', 'repo');
    ok(await cli('create', repo, 'x'));
    assert.ok(existsSync(join(repo, 'migrate.cfg')));
  });

  test('an existing path, even an empty directory: "The path P already exists", exit 2', async () => {
    const repo = fresh();
    mkdirSync(repo);
    const c = await cli('create', repo, 'x');
    assert.equal(c.code, 2);
    assert.equal(lines(c.err).at(-1), `migrate: error: The path ${repo} already exists`);
    assert.deepEqual(readdirSync(repo), [], 'nothing created');
  });

  test('other --k=v options of create become defaults of the manage launcher', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'x', `--url=sqlite:///${join(dir, 'baked.db')}`));
    // The launcher's db_version uses the baked URL: not under version control yet -> exit 1.
    const r = await runNode([join(repo, 'manage.js'), 'db_version', `--repository=${repo}`]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /not under version control/);
    assert.ok(existsSync(join(dir, 'baked.db')), 'the baked URL was used');
  });
});

describe('script DESC REPO: numbering and mangling (SPEC §5.1)', () => {
  test('names observed with the real tool, in sequence', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'x'));
    const descs: Array<[string, string]> = [
      ['add books table', '001_add_books_table.ts'],
      ['Add Initial Tables', '002_Add_Initial_Tables.ts'],
      [`with "quotes" and 'single'.dots...end`, '003_with_quotes_and_single_dots_end.ts'],
      ['', '004.ts'],
      ['_', '005.ts'],
      ['__lead', '006_lead.ts'],
      ['trailing ', '007_trailing_.ts'],
      ['café-x;y\tz', '008_café-x;y\tz.ts'],
    ];
    for (const [desc, file] of descs) {
      const c = await cli('script', desc, repo);
      ok(c);
      assert.equal(c.out, '');
      assert.ok(existsSync(join(repo, 'versions', file)), `${JSON.stringify(desc)} -> ${file}; have ${versionsOf(repo).join(', ')}`);
    }
    assert.equal(versionsOf(repo).length, descs.length);
    assert.deepEqual(await cli('version', repo), { code: 0, out: '8\n', err: '' });
  });

  test('a / in the description is replaced, not a crash (SPEC §5.1 BAD)', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'x'));
    const c = await cli('script', 'slash/inside', repo);
    ok(c);
    assert.deepEqual(versionsOf(repo), ['001_slash_inside.ts']);
  });

  test('the template has upgrade and downgrade entry points and compiles as a module', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'x'));
    ok(await cli('script', 'first', repo));
    const text = readFileSync(join(repo, 'versions', '001_first.ts'), 'utf8');
    assert.match(text, /export async function upgrade\(migrate_engine/);
    assert.match(text, /export async function downgrade\(migrate_engine/);
  });

  test('gaps are not filled: after 005_manual the next is 006', async () => {
    const repo = writeRepo(fresh(), { files: { '001_a.mjs': '', '005_manual.mjs': '' } });
    ok(await cli('script', 'next', repo));
    assert.ok(existsSync(join(repo, 'versions', '006_next.ts')));
  });

  test('after 999 comes 1000 (written in full)', async () => {
    const repo = writeRepo(fresh(), { files: { '999_last.mjs': '' } });
    ok(await cli('script', 'more', repo));
    assert.ok(existsSync(join(repo, 'versions', '1000_more.ts')));
    assert.deepEqual(await cli('version', repo), { code: 0, out: '1000\n', err: '' });
  });

  test('a missing repository: InvalidRepositoryError, exit 1, nothing created', async () => {
    const repo = fresh();
    const c = await cli('script', 'x', repo);
    assert.equal(c.code, 1);
    assert.match(c.err, /InvalidRepositoryError/);
    assert.ok(!existsSync(repo));
  });
});

describe('script_sql DB DESC REPO (SPEC §5.2)', () => {
  test('two empty files, upgrade and downgrade; each call takes a new number; DB not validated', async () => {
    const repo = fresh();
    ok(await cli('create', repo, 'x'));
    ok(await cli('script_sql', 'mysql', 'add t', repo));
    ok(await cli('script_sql', 'postgresql', 'add t', repo));
    ok(await cli('script_sql', 'nosuchdb', '', repo));
    assert.deepEqual(versionsOf(repo), [
      '001_add_t_mysql_downgrade.sql',
      '001_add_t_mysql_upgrade.sql',
      '002_add_t_postgresql_downgrade.sql',
      '002_add_t_postgresql_upgrade.sql',
      '003_nosuchdb_downgrade.sql',
      '003_nosuchdb_upgrade.sql',
    ]);
    for (const f of versionsOf(repo)) assert.equal(statSync(join(repo, 'versions', f)).size, 0, f);
    assert.deepEqual(await cli('version', repo), { code: 0, out: '3\n', err: '' });
  });
});

describe('timestamp numbering (SPEC §5.3)', () => {
  const stamp = (d: Date) =>
    Number(
      `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}` +
        `${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}${String(d.getUTCSeconds()).padStart(2, '0')}`,
    );

  test('the number is the UTC time as %Y%m%d%H%M%S', async () => {
    const repo = writeRepo(fresh(), { timestampNumbering: true });
    const lo = stamp(new Date());
    ok(await cli('script', 'first', repo));
    const hi = stamp(new Date());
    const [file] = versionsOf(repo);
    const m = /^(\d{14})_first\.ts$/.exec(file!);
    assert.ok(m, file);
    const v = Number(m[1]);
    assert.ok(v >= lo && v <= hi, `${v} within [${lo}, ${hi}]`);
    assert.deepEqual(await cli('version', repo), { code: 0, out: `${v}\n`, err: '' });
  });

  test('script + script_sql in the same second may share a version (allowed)', async () => {
    const repo = writeRepo(fresh(), { timestampNumbering: true });
    ok(await cli('script', 'a', repo));
    const c = await cli('script_sql', 'sqlite', 'a', repo);
    ok(c);
    assert.equal(versionsOf(repo).length, 3);
  });

  test('an existing target path: "The path ... already exists", exit 2', async () => {
    const repo = writeRepo(fresh(), { timestampNumbering: true });
    // Two scripts with the same description in the same second (retry until they share a second).
    for (let i = 0; i < 5; i++) {
      const before = versionsOf(repo).length;
      const a = await cli('script', 'same', repo);
      const b = await cli('script', 'same', repo);
      if (b.code === 0) continue; // the second ticked over; try again
      ok(a);
      assert.equal(b.code, 2);
      assert.match(lines(b.err).at(-1)!, /^migrate: error: The path .*versions\/\d{14}_same\.ts already exists$/);
      assert.equal(versionsOf(repo).length, before + 1);
      return;
    }
    assert.fail('could not create two scripts within one second');
  });

  test('switching back to False continues with latest + 1', async () => {
    const repo = writeRepo(fresh(), { files: { '20260101120000_a.mjs': '' } });
    ok(await cli('script', 'b', repo));
    assert.ok(existsSync(join(repo, 'versions', '20260101120001_b.ts')), versionsOf(repo).join(', '));
  });

  test('a non-boolean value: script fails ("Not a boolean"), version still works', async () => {
    const repo = fresh();
    writeRepo(repo, { files: { '001_a.mjs': '' } });
    writeFileSync(join(repo, 'migrate.cfg'), '[db_settings]\nrepository_id=x\nversion_table=migrate_version\nuse_timestamp_numbering=maybe\n');
    const c = await cli('script', 'b', repo);
    assert.notEqual(c.code, 0);
    assert.match(c.err, /Not a boolean: maybe/);
    assert.equal(lines(c.err).length, 1, c.err);
    assert.deepEqual(versionsOf(repo), ['001_a.mjs']);
    assert.deepEqual(await cli('version', repo), { code: 0, out: '1\n', err: '' });
  });

  for (const [value, expected] of [['true', true], ['YES', true], ['on', true], ['1', true], ['False', false], ['no', false], ['OFF', false], ['0', false]] as const) {
    test(`use_timestamp_numbering=${value} is ${expected}`, () => {
      const repo = fresh();
      writeRepo(repo);
      writeFileSync(join(repo, 'migrate.cfg'), `[db_settings]\nrepository_id=x\nversion_table=migrate_version\nuse_timestamp_numbering=${value}\n`);
      assert.equal(loadRepository(repo).timestampNumbering, expected);
    });
  }
});

describe('migrate.cfg reading (SPEC §4)', () => {
  const cfg = (text: string) => {
    const repo = fresh();
    writeRepo(repo, { files: { '001_a.mjs': '' } });
    writeFileSync(join(repo, 'migrate.cfg'), text);
    return repo;
  };

  test('keys are case-insensitive, whitespace is stripped, ; is not a comment, %% is %', () => {
    const r = loadRepository(cfg('[db_settings]\n  Repository_ID =  my id ; c  \nVERSION_TABLE= vt\nrequired_dbs = 100%%\n'));
    assert.equal(r.config.repositoryId, 'my id ; c');
    assert.equal(r.config.versionTable, 'vt');
    assert.equal(r.config.requiredDbs, '100%');
    assert.equal(r.timestampNumbering, false, 'use_timestamp_numbering may be absent');
  });

  test('required_dbs is never read: garbage is harmless', async () => {
    const repo = cfg('[db_settings]\nrepository_id=x\nversion_table=migrate_version\nrequired_dbs=}{ not a list\n');
    assert.deepEqual(await cli('version', repo), { code: 0, out: '1\n', err: '' });
  });

  const corrupt: Array<[string, string, RegExp]> = [
    ['no section header at all', 'repository_id=x\nversion_table=migrate_version\n', /section/i],
    ['no [db_settings] section', '[other]\nrepository_id=x\n', /db_settings/],
    ['missing version_table', '[db_settings]\nrepository_id=x\n', /version_table/],
    ['missing repository_id', '[db_settings]\nversion_table=migrate_version\n', /repository_id/],
    ['a bare % (interpolation)', '[db_settings]\nrepository_id=100%\nversion_table=migrate_version\n', /%/],
    ['a line that is not key=value', '[db_settings]\nrepository_id=x\nversion_table=migrate_version\n}}} garbage\n', /garbage|parse/],
    ['binary garbage', '\u0000\u0001\u0002\u00ff\n[[[\n', /./],
  ];
  for (const [what, text, re] of corrupt) {
    test(`a corrupt migrate.cfg (${what}): one-line error, exit 1`, async () => {
      const repo = cfg(text);
      const c = await cli('script', 'x', repo);
      assert.equal(c.code, 1, c.err);
      assert.equal(c.out, '');
      assert.equal(lines(c.err).length, 1, c.err);
      assert.match(c.err, /^migrate: error: /);
      assert.match(c.err, re);
      assert.deepEqual(versionsOf(repo), ['001_a.mjs'], 'nothing created');
    });
  }
});

describe('source VERSION [DEST] --repository=R (SPEC §11)', () => {
  const text = 'export function upgrade(e) {}\n';
  const repoWith = () => writeRepo(fresh(), { files: { '001_a.mjs': text, '002_s_sqlite_upgrade.sql': 'SELECT 1;\n' } });

  test('prints the script followed by one extra newline', async () => {
    const c = await cli('source', '1', `--repository=${repoWith()}`);
    assert.deepEqual(c, { code: 0, out: `${text}\n`, err: '' });
  });

  test('with DEST: writes the file and prints nothing; "-" is a file name', async () => {
    const repo = repoWith();
    const dest = join(dir, `src-${n}.mjs`);
    assert.deepEqual(await cli('source', '1', dest, `--repository=${repo}`), { code: 0, out: '', err: '' });
    assert.equal(readFileSync(dest, 'utf8'), text);
  });

  test('a repository given positionally is DEST: "A repository must be specified", exit 2', async () => {
    const c = await cli('source', '1', repoWith());
    assert.equal(c.code, 2);
    assert.equal(lines(c.err).at(-1), 'migrate: error: A repository must be specified');
  });

  test('a missing version: VersionNotFoundError, exit 1', async () => {
    const c = await cli('source', '7', `--repository=${repoWith()}`);
    assert.equal(c.code, 1);
    assert.match(c.err, /VersionNotFoundError: .*version 7 doesn't exist/);
  });

  test('a version with only .sql files: "There is no script for 2 version", exit 1', async () => {
    const c = await cli('source', '2', `--repository=${repoWith()}`);
    assert.equal(c.code, 1);
    assert.match(c.err, /There is no script for 2 version/);
  });
});

describe('manage FILE --k=v (SPEC §11)', () => {
  test('writes a launcher whose baked values are defaults; command-line values override them', async () => {
    const repo = writeRepo(fresh(), { files: { '001_a.mjs': '', '002_b.mjs': '' } });
    const other = writeRepo(fresh(), { files: { '001_a.mjs': '' } });
    const file = join(dir, `mymanage-${n}.js`);
    assert.deepEqual(await cli('manage', file, `--repository=${repo}`), { code: 0, out: '', err: '' });
    const a = await runNode([file, 'version']);
    assert.equal(a.code, 0, show(a));
    assert.equal(a.stdout, '2\n');
    const b = await runNode([file, 'version', `--repository=${other}`]);
    assert.equal(b.stdout, '1\n', show(b));
    const h = await runNode([file, 'help', 'version']);
    assert.equal(lines(h.stdout)[0], 'Usage: manage.js version REPOSITORY_PATH');
    const bad = await runNode([file, 'nosuch']);
    assert.equal(bad.code, 2, show(bad));
  });

  test('an existing FILE is overwritten silently', async () => {
    const file = join(dir, `over-${n}.js`);
    writeFileSync(file, 'old content');
    assert.deepEqual(await cli('manage', file, '--repository=x'), { code: 0, out: '', err: '' });
    assert.notEqual(readFileSync(file, 'utf8'), 'old content');
  });

  test('a missing parent directory: one-line error, exit 1', async () => {
    const c = await cli('manage', join(dir, 'no', 'such', 'dir', 'm.js'));
    assert.equal(c.code, 1);
    assert.equal(lines(c.err).length, 1, c.err);
  });
});
