/**
 * The `migrate` command-line grammar (SPEC §1.1-1.4): usage and help output, exit codes, aliases,
 * named parameters, Too many / Not enough arguments, short options, `--`. No database: commands that
 * would need one fail on their arguments first, or use `version` on a hand-written repository.
 *
 * Most cases run the CLI in-process (migrate/cli/main.ts `run`, the function bin/migrate.ts calls);
 * a few run the built binary to check the process's own exit code and channels.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from '../../migrate/cli/main.js';
import { parseArgs } from '../../migrate/cli/parse.js';
import { lines, removeDir, runMigrate, show, tempDir, writeRepo } from '../support/cli.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], prog = 'migrate', defaults?: Record<string, string>): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await run(argv, { prog, defaults, env: {}, io: { out: (s) => (out += s), err: (s) => (err += s) } });
  return { code, out, err };
}

/** The last line of stderr. */
const lastErr = (c: Captured) => lines(c.err).at(-1) ?? '';

let dir: string;
let repo: string;
before(() => {
  dir = tempDir();
  repo = writeRepo(join(dir, 'repo'), {
    files: { '001_a.mjs': 'export function upgrade() {}\n', '002_b.mjs': 'export function upgrade() {}\n' },
  });
});
after(() => removeDir(dir));

describe('top-level usage (SPEC §1.1.1, §1.1.11)', () => {
  test('no words: usage on stdout, exit 0', async () => {
    const c = await cli([]);
    assert.equal(c.code, 0);
    assert.equal(c.err, '');
    const l = lines(c.out);
    assert.equal(l[0], 'Usage: migrate COMMAND ...');
    assert.equal(l[1], '');
    assert.equal(l[2], '    Available commands:');
    // First command line indented with 8 spaces, later ones with a TAB; name padded to 28, ' - '.
    assert.match(l[3]!, /^ {8}\S+ *-/);
    const cmdLines = [l[3]!.slice(8)];
    let i = 4;
    while (l[i]!.startsWith('\t')) cmdLines.push(l[i++]!.slice(1));
    const names = cmdLines.map((s) => {
      assert.equal(s.slice(28, 31), ' - ', `name padded to 28 then ' - ': ${JSON.stringify(s)}`);
      return s.slice(0, 28).trimEnd();
    });
    assert.deepEqual(names, [...names].sort(), 'commands sorted by name');
    for (const c of ['create', 'db_version', 'downgrade', 'drop_version_control', 'help', 'manage', 'script', 'script_sql', 'source', 'test', 'upgrade', 'version', 'version_control']) {
      assert.ok(names.includes(c), `usage lists ${c}`);
    }
    for (const alias of ['s', 'vc', 'dbv', 'v']) assert.ok(!names.includes(alias), `alias ${alias} not listed`);
    assert.equal(l[i], '');
    assert.equal(l[i + 1], '    Enter "migrate help COMMAND" for information on a particular command.');
    assert.equal(l[i + 2], '    ');
    assert.equal(l[i + 3], '');
    assert.equal(l[i + 4], 'Options:');
    assert.ok(c.out.includes('  -h, --help            show this help message and exit\n'));
  });

  test('`help` alone: the same usage on stdout, exit 0', async () => {
    const a = await cli([]);
    const b = await cli(['help']);
    assert.equal(b.code, 0);
    assert.equal(b.out, a.out);
  });

  test('PROG is the program name: manage.js', async () => {
    const c = await cli([], 'manage.js');
    assert.match(c.out, /^Usage: manage\.js COMMAND \.\.\.\n/);
    assert.ok(c.out.includes('Enter "manage.js help COMMAND"'));
  });

  for (const word of ['nosuch', '-d', '-q', '--repository=x', '_migrate', '__init__']) {
    test(`an invalid first word (${word}): usage without Options on stderr, "Invalid command", exit 2`, async () => {
      const c = await cli([word, 'x']);
      assert.equal(c.code, 2);
      assert.equal(c.out, '');
      assert.match(c.err, /^Usage: migrate COMMAND \.\.\.\n/);
      assert.ok(!c.err.includes('Options:'), 'no Options section');
      assert.equal(lastErr(c), `migrate: error: Invalid command ${word}`);
    });
  }
});

describe('command help (SPEC §1.1.1, §1.1.7, §1.1.10)', () => {
  const expectedVersionHelp = (prog: string) => [
    `Usage: ${prog} version REPOSITORY_PATH`,
    '',
  ];
  for (const argv of [['help', 'version'], ['-h', 'version'], ['--help', 'version'], ['version', '-h'], ['version', '--help'], ['help', 'version', 'ignored', 'words']]) {
    test(`${argv.join(' ')}: help of version on stdout, exit 0`, async () => {
      const c = await cli(argv);
      assert.equal(c.code, 0, show({ code: c.code, signal: null, stdout: c.out, stderr: c.err, ms: 0 }));
      assert.equal(c.err, '');
      const l = lines(c.out);
      assert.deepEqual(l.slice(0, 2), expectedVersionHelp('migrate'));
      assert.ok(l[2]!.length > 0, 'a description');
      const opt = l.indexOf('Options:');
      assert.ok(opt > 2);
      assert.equal(l[opt - 1], '');
      assert.deepEqual(l.slice(opt), [
        'Options:',
        '  -h, --help            show this help message and exit',
        '  -d, --debug           Shortcut to turn on DEBUG mode for logging',
        '  -q, --disable_logging',
        '                        Use this option to disable logging configuration',
        '  --repository=REPOSITORY',
      ]);
    });
  }

  test('help upgrade: one --param line per parameter, usage line of SPEC §1.2', async () => {
    const c = await cli(['help', 'upgrade']);
    assert.equal(c.code, 0);
    const l = lines(c.out);
    assert.equal(l[0], 'Usage: migrate upgrade URL REPOSITORY_PATH [VERSION] [--preview_py|--preview_sql]');
    const params = l.filter((x) => /^ {2}--(url|repository|version)=/.test(x)).map((x) => x.trim());
    assert.deepEqual(params, ['--url=URL', '--repository=REPOSITORY', '--version=VERSION']);
    // Padded to column 24 when shorter.
    assert.ok(l.includes('  --url=URL'.padEnd(24)));
  });

  const usageLines: Array<[string, string]> = [
    ['create', 'create REPOSITORY_PATH NAME [--table=TABLE]'],
    ['script', 'script DESCRIPTION REPOSITORY_PATH'],
    ['script_sql', 'script_sql DATABASE DESCRIPTION REPOSITORY_PATH'],
    ['version', 'version REPOSITORY_PATH'],
    ['db_version', 'db_version URL REPOSITORY_PATH'],
    ['source', 'source VERSION [DESTINATION] --repository=REPOSITORY_PATH'],
    ['version_control', 'version_control URL REPOSITORY_PATH [VERSION]'],
    ['downgrade', 'downgrade URL REPOSITORY_PATH VERSION [--preview_py|--preview_sql]'],
    ['drop_version_control', 'drop_version_control URL REPOSITORY_PATH'],
    ['manage', 'manage FILENAME [VARIABLES...]'],
    ['test', 'test URL REPOSITORY_PATH [VERSION]'],
  ];
  for (const [cmd, usage] of usageLines) {
    test(`usage line of ${cmd}`, async () => {
      const c = await cli(['help', cmd]);
      assert.equal(c.code, 0);
      assert.equal(lines(c.out)[0], `Usage: migrate ${usage}`);
    });
  }

  test('help of an alias shows the real command', async () => {
    const c = await cli(['help', 'vc']);
    assert.equal(c.code, 0);
    assert.equal(lines(c.out)[0], 'Usage: migrate version_control URL REPOSITORY_PATH [VERSION]');
  });

  test('help of an unknown command: Invalid command, exit 2', async () => {
    const c = await cli(['help', 'nosuch']);
    assert.equal(c.code, 2);
    assert.equal(lastErr(c), 'migrate: error: Invalid command nosuch');
  });

  test('manage.js help version: PROG is manage.js', async () => {
    const c = await cli(['help', 'version'], 'manage.js');
    assert.equal(lines(c.out)[0], 'Usage: manage.js version REPOSITORY_PATH');
  });
});

describe('argument counts and usage-error format (SPEC §1.1.8, §1.1.9)', () => {
  test('Not enough arguments: names sorted, joined by ", "; usage, blank, description, blank, error', async () => {
    const c = await cli(['upgrade']);
    assert.equal(c.code, 2);
    assert.equal(c.out, '');
    const l = lines(c.err);
    assert.equal(l[0], 'Usage: migrate upgrade URL REPOSITORY_PATH [VERSION] [--preview_py|--preview_sql]');
    assert.equal(l[1], '');
    assert.ok(l[2]!.length > 0, 'description');
    assert.equal(l.at(-2), '');
    assert.equal(l.at(-1), 'migrate: error: Not enough arguments for command upgrade: repository, url not specified');
  });

  const notEnough: Array<[string[], string]> = [
    [['downgrade', 'sqlite://'], 'Not enough arguments for command downgrade: repository, version not specified'],
    [['script_sql', 'mysql'], 'Not enough arguments for command script_sql: description, repository not specified'],
    [['create'], 'Not enough arguments for command create: name, repository not specified'],
    [['source'], 'Not enough arguments for command source: version not specified'],
    [['manage'], 'Not enough arguments for command manage: file not specified'],
    [['test', 'sqlite://'], 'Not enough arguments for command test: repository not specified'],
  ];
  for (const [argv, msg] of notEnough) {
    test(`${argv.join(' ')}: ${msg}`, async () => {
      const c = await cli(argv);
      assert.equal(c.code, 2);
      assert.equal(lastErr(c), `migrate: error: ${msg}`);
    });
  }

  test('Too many arguments names the first surplus word', async () => {
    const c = await cli(['version', repo, 'extra1', 'extra2']);
    assert.equal(c.code, 2);
    assert.equal(lastErr(c), 'migrate: error: Too many arguments for command version: extra1');
    assert.match(c.err, /^Usage: migrate version REPOSITORY_PATH\n\n/);
  });

  test('test URL REPO VERSION: the VERSION word is rejected (Too many arguments)', async () => {
    const c = await cli(['test', 'sqlite://', repo, '3']);
    assert.equal(c.code, 2);
    assert.equal(lastErr(c), 'migrate: error: Too many arguments for command test: 3');
  });

  test('a parameter given both ways: Too many arguments', async () => {
    const c = await cli(['version', repo, `--repository=${repo}`]);
    assert.equal(c.code, 2);
    assert.equal(lastErr(c), `migrate: error: Too many arguments for command version: ${repo}`);
  });
});

describe('aliases, named parameters, extras (SPEC §1.1.2-1.1.5)', () => {
  test('version REPO prints the latest version', async () => {
    const c = await cli(['version', repo]);
    assert.deepEqual(c, { code: 0, out: '2\n', err: '' });
  });

  test('alias v = version', async () => {
    assert.deepEqual(await cli(['v', repo]), { code: 0, out: '2\n', err: '' });
  });

  for (const [alias, real] of [['s', 'script'], ['vc', 'version_control'], ['dbv', 'db_version']]) {
    test(`alias ${alias} = ${real}`, async () => {
      const c = await cli([alias]);
      assert.equal(c.code, 2);
      assert.match(lastErr(c), new RegExp(`^migrate: error: Not enough arguments for command ${real}: `));
    });
  }

  test('--repository=R and --repository R', async () => {
    assert.deepEqual(await cli(['version', `--repository=${repo}`]), { code: 0, out: '2\n', err: '' });
    assert.deepEqual(await cli(['version', '--repository', repo]), { code: 0, out: '2\n', err: '' });
  });

  test('a named parameter is taken out of the positional slots', () => {
    const p = parseArgs(['version_control', '--repository=R', 'sqlite:///x.db']);
    assert.equal(p.kind, 'run');
    if (p.kind !== 'run') return;
    assert.deepEqual({ ...p.args }, { url: 'sqlite:///x.db', repository: 'R' });
    const q = parseArgs(['upgrade', '--url', 'sqlite://', 'R', '5']);
    assert.ok(q.kind === 'run');
    if (q.kind === 'run') assert.deepEqual({ ...q.args }, { url: 'sqlite://', repository: 'R', version: '5' });
  });

  test('other long options are extras: --foo=bar is a string, --foo is true; --preview_sql=0 is still on', () => {
    const p = parseArgs(['upgrade', 'sqlite://', 'R', '--foo=bar', '--flag', '--preview_sql=0']);
    assert.ok(p.kind === 'run');
    if (p.kind !== 'run') return;
    assert.deepEqual({ ...p.extras }, { foo: 'bar', flag: true, preview_sql: '0' });
    assert.deepEqual({ ...p.args }, { url: 'sqlite://', repository: 'R' });
  });

  test('-d / -q / --debug / --disable_logging after the command are flags', () => {
    const p = parseArgs(['version', 'R', '-d', '--disable_logging']);
    assert.ok(p.kind === 'run');
    if (p.kind === 'run') {
      assert.equal(p.debug, true);
      assert.equal(p.quiet, true);
      assert.deepEqual({ ...p.extras }, {});
    }
    const q = parseArgs(['version', 'R', '-q', '--debug']);
    assert.ok(q.kind === 'run' && q.debug && q.quiet);
  });

  test('--disable_logging=X: "option does not take a value", exit 2', async () => {
    const c = await cli(['version', repo, '--disable_logging=X']);
    assert.equal(c.code, 2);
    assert.equal(lastErr(c), 'migrate: error: --disable_logging option does not take a value');
  });

  test('-q does not hide the version (SPEC §12.8: do better)', async () => {
    const c = await cli(['version', repo, '-q']);
    assert.equal(c.code, 0);
    assert.equal(c.out, '2\n');
  });

  test('baked-in defaults (manage.js) fill parameters and can be overridden', async () => {
    assert.deepEqual(await cli(['version'], 'manage.js', { repository: repo }), { code: 0, out: '2\n', err: '' });
    const other = writeRepo(join(dir, 'other'), { files: { '001_x.mjs': '' } });
    assert.deepEqual(await cli(['version', `--repository=${other}`], 'manage.js', { repository: repo }), { code: 0, out: '1\n', err: '' });
    // A positional word fills a parameter without a default.
    const p = parseArgs(['db_version', 'sqlite:///x.db'], { repository: 'R' });
    assert.ok(p.kind === 'run');
    if (p.kind === 'run') assert.deepEqual({ ...p.args }, { url: 'sqlite:///x.db', repository: 'R' });
  });
});

describe('short options and -- (SPEC §1.1.6)', () => {
  test('upgrade URL R -1: "no such option: -1", exit 2', async () => {
    const c = await cli(['upgrade', 'sqlite://', repo, '-1']);
    assert.equal(c.code, 2);
    assert.match(lastErr(c), /^migrate: error: no such option: -1\b/);
  });

  test('-x: no such option', async () => {
    const c = await cli(['version', repo, '-x']);
    assert.equal(c.code, 2);
    assert.match(lastErr(c), /^migrate: error: no such option: -x\b/);
  });

  test('-- ends options: "-1" becomes the version, rejected as negative (exit 2, nothing runs)', async () => {
    const p = parseArgs(['downgrade', 'sqlite://', 'R', '--', '-1']);
    assert.ok(p.kind === 'run');
    if (p.kind === 'run') assert.equal(p.args.version, '-1');
    const c = await cli(['downgrade', 'sqlite:////nonexistent-dir-for-migrate-tests/x.db', repo, '--', '-1']);
    assert.equal(c.code, 2, c.err);
    assert.match(c.err, /negative/);
    assert.equal(lines(c.err).length, 1, c.err);
  });

  // sqlalchemy-migrate's shell gives `--` and what follows to the positional words, then takes every
  // `--...` word out of them as a keyword: its own test_main runs `version -- --repository=R`.
  test('version -- --repository=R (sqlalchemy-migrate test_main): still a named parameter; prints the version', async () => {
    const p = parseArgs(['version', '--', '--repository=R']);
    assert.ok(p.kind === 'run');
    if (p.kind === 'run') assert.deepEqual({ ...p.args }, { repository: 'R' });
    const c = await cli(['version', '--', `--repository=${repo}`]);
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out, '2\n');
  });

  test('version -- R --foo: R is the repository, --foo an extra (not "Too many arguments")', async () => {
    const p = parseArgs(['version', '--', 'R', '--foo']);
    assert.ok(p.kind === 'run');
    if (p.kind === 'run') assert.deepEqual([{ ...p.args }, { ...p.extras }], [{ repository: 'R' }, { foo: true }]);
    const c = await cli(['version', '--', repo, '--foo']);
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out, '2\n');
  });

  test('-- then a parameter given twice, a parameter without value, the flags', () => {
    // The option before `--` wins over the keyword after it (the shell applies options last).
    const a = parseArgs(['version', '--repository=A', '--', '--repository=B']);
    assert.ok(a.kind === 'run' && a.args.repository === 'A');
    // Positional and after-`--` keyword for the same parameter: too many, as with any named one.
    assert.throws(() => parseArgs(['version', 'R', '--', '--repository=X']), /Too many arguments for command version: R/);
    assert.throws(() => parseArgs(['version', '--', '--repository']), /--repository option requires an argument/);
    // --disable_logging after `--` still turns logging off; --debug and --help are plain extras.
    const f = parseArgs(['version', '--', 'R', '--disable_logging', '--debug', '--help']);
    assert.ok(f.kind === 'run');
    if (f.kind === 'run') assert.deepEqual([f.quiet, f.debug, { ...f.extras }], [true, false, { debug: true, help: true }]);
    const g = parseArgs(['version', '--', 'R', '--disable_logging=0']);
    assert.ok(g.kind === 'run' && !g.quiet);
  });

  test('--version=-1 is negative too', async () => {
    const c = await cli(['upgrade', 'sqlite:////nonexistent-dir-for-migrate-tests/x.db', repo, '--version=-1']);
    assert.equal(c.code, 2, c.err);
    assert.match(c.err, /negative/);
  });

  test('a non-numeric version is a usage error (exit 2), checked before connecting', async () => {
    for (const v of ['abc', '1.5']) {
      const c = await cli(['upgrade', 'sqlite:////nonexistent-dir-for-migrate-tests/x.db', repo, v]);
      assert.equal(c.code, 2, c.err);
      assert.ok(c.err.includes(`'${v}'`), c.err);
      assert.equal(lines(c.err).length, 1, c.err);
    }
  });

  test('versions are parsed like int(): "01" and " 2" are accepted', async () => {
    const { parseVersion } = await import('../../migrate/api.js');
    assert.equal(parseVersion('01'), 1);
    assert.equal(parseVersion(' 2'), 2);
    assert.equal(parseVersion('0'), 0);
    assert.throws(() => parseVersion('abc'));
    assert.throws(() => parseVersion('-1'));
    assert.throws(() => parseVersion('1.5'));
  });
});

describe('the model commands are rejected cleanly (SPEC §1.2)', () => {
  for (const argv of [
    ['compare_model_to_db', 'sqlite://', 'R', 'm:meta'],
    ['create_model', 'sqlite://', 'R'],
    ['make_update_script_for_model', 'sqlite://', 'R', 'a:m', 'b:m'],
    ['update_db_from_model', 'sqlite://', 'R', 'm:meta'],
  ]) {
    test(argv[0]!, async () => {
      const c = await cli(argv);
      assert.equal(c.code, 2);
      assert.match(lastErr(c), /^migrate: error: .*not supported/);
    });
  }
});

describe('the built binary: channels and exit codes (SPEC §1.3, §1.4)', () => {
  test('no words: exit 0, usage on stdout', async () => {
    const r = await runMigrate([]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage: migrate COMMAND \.\.\./);
    assert.equal(r.stderr, '');
  });

  test('invalid command: exit 2, stderr only', async () => {
    const r = await runMigrate(['nosuch']);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stdout, '');
    assert.equal(lines(r.stderr).at(-1), 'migrate: error: Invalid command nosuch');
  });

  test('version REPO: exit 0, the number alone on stdout', async () => {
    const r = await runMigrate(['version', repo]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, '2\n');
    assert.equal(r.stderr, '');
  });

  test('a missing repository: exit 1, one line naming InvalidRepositoryError and the path as given', async () => {
    const r = await runMigrate(['version', 'no/such/repo'], { cwd: dir });
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '');
    assert.equal(lines(r.stderr).length, 1, show(r));
    assert.match(r.stderr, /^migrate: error: InvalidRepositoryError: no\/such\/repo\b/);
  });
});

test('every help and usage text ends with a newline (a shell prompt after it starts on its own line)', async () => {
  for (const argv of [[], ['help'], ['--help'], ['-h'], ['help', 'upgrade'], ['help', 'nosuch'], ['upgrade', '--help'], ['nosuch']]) {
    const c = await cli(argv);
    const text = c.out + c.err;
    assert.ok(text.length > 0 && text.endsWith('\n'), `migrate ${argv.join(' ')} ends with a newline: ${JSON.stringify(text.slice(-40))}`);
  }
});
