/**
 * heat/config: the oslo.config ini reader and the layered heat-manage configuration.
 *
 * Expected values come from oslo.config's rules (iniparser.BaseParser, ConfigOpts._do_get,
 * find_config_files, the environment source) and oslo.db's option definitions, and from the
 * fixture files' own text; never from our earlier output. Fixtures in test/fixtures/heat-conf:
 * kolla-ansible's and openstack-helm's rendered heat.conf shapes, a Havana-era file with the
 * deprecated [DEFAULT] sql_* names, and dialect corner cases.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import {
  ConfigError,
  describeDatabase,
  loadHeatConfig,
  maskUrl,
  type ConfigSources,
  type HeatConfig,
} from '../../heat/config/index.js';
import { iniToObject, lastEntry, parseOsloIni } from '../../heat/config/oslo-ini.js';
import { parseUrl } from '../../migrate/url.js';
import { SPECIAL_PASSWORD } from '../support/secrets.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/heat-conf/', import.meta.url));
import { readableBundle } from '../support/readable.js';
const CONFIG_INDEX = new URL('../../heat/config/index.js', import.meta.url);

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory with home/, etc/ and work/ (the cwd) in it. */
function sandbox(): { root: string; home: string; etc: string; cwd: string } {
  const root = mkdtempSync(join(tmpdir(), 'heat-conf-'));
  tmpRoots.push(root);
  const s = { root, home: join(root, 'home'), etc: join(root, 'etc'), cwd: join(root, 'work') };
  for (const d of [s.home, s.etc, s.cwd]) mkdirSync(d);
  return s;
}

/** Writes a config file (mode 0600 unless told: others may not read it). */
function write(path: string, text: string, mode = 0o600): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** Copies a fixture into the sandbox with mode 0600. */
function fixture(name: string, dir: string): string {
  const p = join(dir, name);
  copyFileSync(join(FIXTURES, name), p);
  chmodSync(p, 0o600);
  return p;
}

/** For tests about other options: the connection comes from the environment. */
const DB_ENV = { OS_DATABASE__CONNECTION: 'sqlite:///unit.db' };

function load(s: { home: string; etc: string; cwd: string }, more: Partial<ConfigSources> = {}): HeatConfig {
  return loadHeatConfig({ env: {}, homeDir: s.home, etcDir: s.etc, cwd: s.cwd, ...more });
}

/** Compares a value that holds a password without printing it when it differs. */
function assertSecretEqual(actual: string, expected: string, what: string): void {
  assert.ok(actual === expected, `${what} differs from the expected value (not shown: it holds a password)`);
}

/** Everything a user could see of a config: warnings, the description, JSON and inspect output. */
function visibleText(cfg: HeatConfig): string {
  return [describeDatabase(cfg), JSON.stringify(cfg), inspect(cfg, { depth: 10 }), ...cfg.warnings].join('\n');
}

function assertNoSecret(text: string, secrets: readonly string[]): void {
  for (const s of secrets) assert.ok(!text.includes(s), 'a password appears in visible output');
}

/** Runs fn, expects a ConfigError, returns its message. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'ConfigError messages are one line');
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

describe('oslo ini dialect (parseOsloIni)', () => {
  const text = readFileSync(join(FIXTURES, 'dialect.conf'), 'utf8');
  const ini = parseOsloIni(text, 'dialect.conf');
  const values = iniToObject(ini, new Set(['DEFAULT.repeated']));
  const d = values.DEFAULT!;

  test("'#' and ';' inside a value are part of it (whole-line comments only)", () => {
    assert.equal(d.hash_comment, 'abc # not a comment');
    assert.equal(d.semi_comment, 'abc ; not a comment either');
  });
  test("'key: value' and the first of '=' / ':' splits", () => {
    assert.equal(d.debug, 'yes');
    assert.equal(d.equals_in_value, 'a=b:c');
    assert.equal(d.colon_first, 'a=b');
  });
  test('% is literal (no interpolation)', () => {
    assert.equal(d.log_file, '/var/log/heat/%(name)s-100%.log');
  });
  test('one pair of matching quotes is removed; mismatched quotes stay', () => {
    assert.equal(d.quoted, '  spaced out  ');
    assert.equal(d.single_quoted, 'x');
    assert.equal(d.mismatched, `"x'`);
  });
  test('an empty value is the empty string', () => {
    assert.equal(d.empty, '');
  });
  test('indented lines continue a value (an indented # too); a blank line ends it', () => {
    assert.equal(
      d.multi_line,
      'line one\nline two\nline three (tab)\n# an indented hash line continues the value',
    );
    assert.equal(d.after_blank, '1');
  });
  test('repeated keys: every value for a multi-valued key, the last one otherwise', () => {
    assert.deepEqual(d.repeated, ['first', 'second']);
    assert.equal(iniToObject(ini).DEFAULT!.repeated, 'second');
    assert.equal(lastEntry(ini, 'DEFAULT', 'repeated')!.line, 16);
  });
  test('[Database] and [database] are one group; DEFAULT keeps its case', () => {
    assert.deepEqual(Object.keys(values).sort(), ['DEFAULT', 'database']);
    assert.deepEqual(
      { ...values.database },
      { connection: 'sqlite:////var/lib/heat/heat.sqlite', max_retries: '3', retry_interval: '7' },
    );
    assert.equal(lastEntry(ini, 'database', 'connection')!.section, 'Database');
  });
  test('CRLF line ends and a UTF-8 BOM; line numbers still count lines', () => {
    const crlf = parseOsloIni('\uFEFF[DEFAULT]\r\n\r\ndebug = true\r\nx = 1\r\n  2\r\n', 'crlf.conf');
    assert.equal(lastEntry(crlf, 'DEFAULT', 'debug')!.value, 'true');
    assert.equal(lastEntry(crlf, 'DEFAULT', 'debug')!.line, 3);
    assert.equal(lastEntry(crlf, 'DEFAULT', 'x')!.value, '1\n2');
  });
  test('[default] is a group of its own, not [DEFAULT]', () => {
    const ini2 = parseOsloIni('[default]\ndebug = true\n', 'x.conf');
    assert.equal(lastEntry(ini2, 'DEFAULT', 'debug'), undefined);
    assert.equal(lastEntry(ini2, 'default', 'debug')!.value, 'true');
  });

  describe('syntax errors name the file and line, and never quote the line', () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['no separator', '[DEFAULT]\n\nthis has no separator\n', 3, /line is not 'key = value', a \[section\] or a comment/],
      ['unterminated section', '[DEFAULT]\na = 1\n[database\n', 3, /does not end with '\]'/],
      ['empty section name', '[]\na = 1\n', 1, /empty section name/],
      ['empty key', '[DEFAULT]\n= value\n', 2, /no option name before '='/],
      ['empty key before a colon', '[DEFAULT]\n: value\n', 2, /no option name before ':'/],
      ['continuation first', '  indented\n[DEFAULT]\n', 1, /continues no option/],
      ['continuation after a section', '[DEFAULT]\n  indented\n', 2, /continues no option/],
      ['option before any section', 'debug = true\n[DEFAULT]\n', 1, /option before any \[section\]/],
    ];
    for (const [name, text, line, re] of cases) {
      test(name, () => {
        const msg = configError(() => parseOsloIni(text, '/etc/heat/heat.conf'));
        assert.ok(msg.startsWith(`/etc/heat/heat.conf:${line}: `), msg);
        assert.match(msg, re);
      });
    }
    test('bad-syntax.conf: the error is at line 6; the password on line 5 is not shown', () => {
      const msg = configError(() =>
        parseOsloIni(readFileSync(join(FIXTURES, 'bad-syntax.conf'), 'utf8'), 'bad-syntax.conf'),
      );
      assert.match(msg, /^bad-syntax\.conf:6: /);
      assert.ok(!msg.includes('S3cr#t'));
      assert.ok(!msg.includes('separator'), 'the offending line is not quoted');
    });
  });
});

describe('real-world heat.conf files', () => {
  test("kolla-ansible's heat.conf: mysql+pymysql, max_retries -1, log_file = $log_dir/heat-api.log", () => {
    const s = sandbox();
    const f = fixture('kolla-heat.conf', s.root);
    const cfg = load(s, { configFiles: [f] });
    assertSecretEqual(
      cfg.database.connection,
      'mysql+pymysql://heat:4xHn8QpLz2VwR6tYb0KsJc9mUeDf3GaT@10.0.0.10:3306/heat',
      'connection',
    );
    assert.equal(cfg.database.connectionSource, `${f}:[database] connection`);
    assert.equal(cfg.database.maxRetries, -1);
    assert.equal(cfg.database.retryInterval, 10);
    assert.equal(cfg.database.lockTimeout, 120);
    assert.equal(cfg.debug, false);
    assert.equal(cfg.logFile, '/var/log/kolla/heat/heat-api.log');
    assert.deepEqual(cfg.configFiles, [f]);
    assert.deepEqual(cfg.warnings, []);
    assertNoSecret(visibleText(cfg), ['4xHn8QpLz2VwR6tYb0KsJc9mUeDf3GaT']);
    assert.equal(describeDatabase(cfg), `mysql+pymysql://heat:***@10.0.0.10:3306/heat (from ${f}:[database] connection)`);
  });

  test("openstack-helm's heat.conf: alphabetical sections, log_config_append, no log file", () => {
    const s = sandbox();
    const f = fixture('openstack-helm-heat.conf', s.root);
    const cfg = load(s, { configFiles: [f] });
    assertSecretEqual(
      cfg.database.connection,
      'mysql+pymysql://heat:password@mariadb.openstack.svc.cluster.local:3306/heat',
      'connection',
    );
    assert.equal(cfg.database.maxRetries, -1);
    assert.equal(cfg.logFile, null);
    assert.equal(cfg.debug, false);
    assert.deepEqual(cfg.warnings, []);
  });

  test('a Havana-era heat.conf: [DEFAULT] sql_connection, sql_max_retries, logdir, verbose', () => {
    const s = sandbox();
    const f = fixture('havana-heat.conf', s.root);
    const cfg = load(s, { configFiles: [f] });
    assertSecretEqual(cfg.database.connection, 'mysql://heat:heatdbpass@localhost/heat?charset=utf8', 'connection');
    assert.equal(cfg.database.connectionSource, `${f}:[DEFAULT] sql_connection`);
    assert.equal(cfg.database.maxRetries, 20);
    assert.equal(cfg.database.retryInterval, 5);
    assert.equal(cfg.verbose, true);
    assert.equal(cfg.debug, false);
    assert.equal(cfg.logFile, '/var/log/heat/heat-manage.log');
    const deprecations = cfg.warnings.filter((w) => w.includes('is deprecated'));
    assert.deepEqual(
      deprecations.map((w) => /^Option "(\w+)" from group "(\w+)"/.exec(w)!.slice(1).reverse().join('.')).sort(),
      ['DEFAULT.logdir', 'DEFAULT.sql_connection', 'DEFAULT.sql_max_retries', 'DEFAULT.sql_retry_interval'],
    );
    assert.ok(deprecations.some((w) => w.endsWith(`Use option "connection" from group "database". (${f}:9)`)));
    assertNoSecret(visibleText(cfg), ['heatdbpass']);
  });
});

describe('deprecated names of [database] connection', () => {
  const url = (n: number): string => `mysql://heat:pw${n}@db/heat`;
  for (const [section, key] of [
    ['DEFAULT', 'sql_connection'],
    ['database', 'sql_connection'],
    ['DATABASE', 'sql_connection'],
    ['sql', 'connection'],
  ] as const) {
    test(`[${section}] ${key}`, () => {
      const s = sandbox();
      const f = write(join(s.root, 'a.conf'), `[${section}]\n${key} = ${url(1)}\n`);
      const cfg = load(s, { configFiles: [f] });
      assertSecretEqual(cfg.database.connection, url(1), 'connection');
      const group = section === 'DEFAULT' ? 'DEFAULT' : section.toLowerCase();
      assert.equal(cfg.database.connectionSource, `${f}:[${group}] ${key}`);
      assert.ok(cfg.warnings.some((w) => w.startsWith(`Option "${key}" from group "${group}" is deprecated.`)));
    });
  }
  test('within one file the current name wins, whatever the order', () => {
    const s = sandbox();
    const f = write(join(s.root, 'a.conf'), `[database]\nconnection = ${url(1)}\n[DEFAULT]\nsql_connection = ${url(2)}\n`);
    assertSecretEqual(load(s, { configFiles: [f] }).database.connection, url(1), 'connection');
  });
  test("a later file's deprecated name overrides an earlier file's current name", () => {
    const s = sandbox();
    const a = write(join(s.root, 'a.conf'), `[database]\nconnection = ${url(1)}\n`);
    const b = write(join(s.root, 'b.conf'), `[DEFAULT]\nsql_connection = ${url(2)}\n`);
    const cfg = load(s, { configFiles: [a, b] });
    assertSecretEqual(cfg.database.connection, url(2), 'connection');
    assert.equal(cfg.database.connectionSource, `${b}:[DEFAULT] sql_connection`);
  });
  test('[database] reconnect_interval and sql_max_retries', () => {
    const s = sandbox();
    const f = write(join(s.root, 'a.conf'), '[database]\nreconnect_interval = 3\nsql_max_retries = 4\n');
    const cfg = load(s, { configFiles: [f], env: DB_ENV });
    assert.equal(cfg.database.retryInterval, 3);
    assert.equal(cfg.database.maxRetries, 4);
  });
});

describe('precedence: defaults < files < --config-dir < environment < command line', () => {
  test('later --config-file overrides earlier; unset options keep earlier values', () => {
    const s = sandbox();
    const a = write(join(s.root, 'a.conf'), '[database]\nconnection = sqlite:///a.db\nmax_retries = 1\n');
    const b = write(join(s.root, 'b.conf'), '[database]\nconnection = sqlite:///b.db\n');
    const cfg = load(s, { configFiles: [a, b] });
    assert.equal(cfg.database.connection, 'sqlite:///b.db');
    assert.equal(cfg.database.maxRetries, 1);
    assert.deepEqual(cfg.configFiles, [a, b]);
    assert.equal(load(s, { configFiles: [b, a] }).database.connection, 'sqlite:///a.db');
  });

  test('--config-dir: every *.conf, sorted, read after the files; others and hidden files ignored', () => {
    const s = sandbox();
    const a = write(join(s.root, 'a.conf'), '[database]\nconnection = sqlite:///a.db\nretry_interval = 1\n');
    const dir = join(s.root, 'conf.d');
    write(join(dir, '20-late.conf'), '[database]\nconnection = sqlite:///late.db\n');
    write(join(dir, '10-early.conf'), '[database]\nconnection = sqlite:///early.db\nmax_retries = 2\n');
    write(join(dir, 'zz.conf.disabled'), '[database]\nconnection = sqlite:///disabled.db\n');
    write(join(dir, '.hidden.conf'), '[database]\nconnection = sqlite:///hidden.db\n');
    const cfg = load(s, { configFiles: [a], configDir: dir });
    assert.equal(cfg.database.connection, 'sqlite:///late.db');
    assert.equal(cfg.database.maxRetries, 2);
    assert.equal(cfg.database.retryInterval, 1);
    assert.deepEqual(cfg.configFiles, [a, join(dir, '10-early.conf'), join(dir, '20-late.conf')]);
  });

  test('environment OS_<GROUP>__<OPTION> overrides files; the command line overrides both', () => {
    const s = sandbox();
    const f = write(join(s.root, 'a.conf'), '[DEFAULT]\ndebug = false\n[database]\nconnection = sqlite:///file.db\nmax_retries = 1\n');
    const env = {
      OS_DATABASE__CONNECTION: 'sqlite:///env.db',
      OS_DATABASE__MAX_RETRIES: '-1',
      OS_DATABASE__RETRY_INTERVAL: '2',
      OS_DATABASE__MIGRATION_LOCK_TIMEOUT: '30',
      OS_DEFAULT__DEBUG: 'Yes',
    };
    const e = load(s, { configFiles: [f], env });
    assert.equal(e.database.connection, 'sqlite:///env.db');
    assert.equal(e.database.connectionSource, 'env OS_DATABASE__CONNECTION');
    assert.equal(e.database.maxRetries, -1);
    assert.equal(e.database.retryInterval, 2);
    assert.equal(e.database.lockTimeout, 30);
    assert.equal(e.debug, true);

    const c = load(s, {
      configFiles: [f],
      env,
      cliOverrides: { connection: 'sqlite:///cli.db', debug: false, verbose: true },
    });
    assert.equal(c.database.connection, 'sqlite:///cli.db');
    assert.equal(c.database.connectionSource, '--database-connection');
    assert.equal(c.debug, false);
    assert.equal(c.verbose, true);
    assert.equal(c.database.maxRetries, -1, 'options the command line does not give keep the env value');
  });

  test('command-line flags left undefined do not override', () => {
    const s = sandbox();
    const f = write(join(s.root, 'a.conf'), '[DEFAULT]\ndebug = true\nverbose = on\n');
    const cfg = load(s, { configFiles: [f], cliOverrides: { debug: undefined }, env: DB_ENV });
    assert.equal(cfg.debug, true);
    assert.equal(cfg.verbose, true);
  });

  test('only the env passed in is read, not process.env', () => {
    const s = sandbox();
    process.env.OS_DATABASE__CONNECTION = 'sqlite:///from-process-env.db';
    try {
      const cfg = load(s, { configFiles: [], env: {} });
      assert.equal(cfg.database.connectionSource, 'default');
    } finally {
      delete process.env.OS_DATABASE__CONNECTION;
    }
  });

  test('an invalid environment value names the variable', () => {
    const s = sandbox();
    const msg = configError(() => load(s, { configFiles: [], env: { OS_DATABASE__MAX_RETRIES: 'lots' } }));
    assert.match(msg, /^environment variable OS_DATABASE__MAX_RETRIES: \[database\] max_retries must be an integer, not 'lots'/);
  });
});

describe('default search (no --config-file), as oslo.config does for project heat', () => {
  const places = (s: { home: string; etc: string }): string[] => [
    join(s.home, '.heat', 'heat.conf'),
    join(s.home, 'heat.conf'),
    join(s.etc, 'heat', 'heat.conf'),
    join(s.etc, 'heat.conf'),
  ];

  test('~/.heat/heat.conf, ~/heat.conf, /etc/heat/heat.conf, /etc/heat.conf: the first found only', () => {
    const s = sandbox();
    const p = places(s);
    p.forEach((f, i) => write(f, `[database]\nconnection = sqlite:///${i}.db\n`));
    for (let i = 0; i < p.length; i++) {
      const cfg = load(s);
      assert.deepEqual(cfg.configFiles, [p[i]]);
      assert.equal(cfg.database.connection, `sqlite:///${i}.db`);
      rmSync(p[i]!);
    }
    assert.deepEqual(load(s).configFiles, []);
  });

  // Heat 6.0.0's heat/cmd/manage.py: cfg.find_config_files('heat', 'heat-engine'), then
  // CONF(..., project='heat', prog='heat-manage'): files heat.conf + heat-engine.conf, dirs
  // heat.conf.d + heat-manage.conf.d (oslo.config's find_config_dirs with CONF's prog).
  test('heat-engine.conf (not heat-manage.conf) is read after heat.conf; heat.conf.d/*.conf after both', () => {
    const s = sandbox();
    const heat = write(join(s.etc, 'heat', 'heat.conf'), '[database]\nconnection = sqlite:///heat.db\nmax_retries = 1\n');
    const engine = write(join(s.home, 'heat-engine.conf'), '[database]\nconnection = sqlite:///engine.db\n');
    write(join(s.etc, 'heat', 'heat-manage.conf'), '[database]\nconnection = sqlite:///manage.db\n');
    const dropIn = write(join(s.etc, 'heat', 'heat.conf.d', '50-db.conf'), '[database]\nretry_interval = 9\n');
    const cfg = load(s);
    assert.deepEqual(cfg.configFiles, [heat, engine, dropIn]);
    assert.equal(cfg.database.connection, 'sqlite:///engine.db');
    assert.equal(cfg.database.maxRetries, 1);
    assert.equal(cfg.database.retryInterval, 9);
  });

  test('each name is searched on its own, first found wins: ~/.heat, ~, /etc/heat, /etc, then $SNAP_COMMON/etc/heat, $SNAP/etc/heat', () => {
    const s = sandbox();
    const snapCommon = join(s.root, 'snap-common');
    const snap = join(s.root, 'snap');
    const env = { SNAP_COMMON: snapCommon, SNAP: snap };
    const engines = [
      join(s.home, '.heat', 'heat-engine.conf'),
      join(s.home, 'heat-engine.conf'),
      join(s.etc, 'heat', 'heat-engine.conf'),
      join(s.etc, 'heat-engine.conf'),
      join(snapCommon, 'etc', 'heat', 'heat-engine.conf'),
      join(snap, 'etc', 'heat', 'heat-engine.conf'),
    ];
    engines.forEach((f, i) => write(f, `[database]\nconnection = sqlite:///e${i}.db\n`));
    const heat = write(join(snap, 'etc', 'heat', 'heat.conf'), '[DEFAULT]\ndebug = true\n');
    for (let i = 0; i < engines.length; i++) {
      const cfg = load(s, { env });
      assert.deepEqual(cfg.configFiles, [heat, engines[i]], `heat.conf first (found last in the search), then heat-engine.conf #${i}`);
      assert.equal(cfg.database.connection, `sqlite:///e${i}.db`);
      rmSync(engines[i]!);
    }
    // Without $SNAP / $SNAP_COMMON those directories are not searched.
    write(engines[5]!, '[database]\nconnection = sqlite:///snap.db\n');
    assert.deepEqual(load(s, { env: DB_ENV }).configFiles, []);
  });

  test('the default drop-in dirs: the first heat.conf.d, then the first heat-manage.conf.d (not heat-engine.conf.d), *.conf sorted', () => {
    const s = sandbox();
    const conf = write(join(s.etc, 'heat.conf'), '[database]\nconnection = sqlite:///x.db\n');
    const homeD = write(join(s.home, '.heat', 'heat.conf.d', 'b.conf'), '[DEFAULT]\ndebug = true\n');
    const homeA = write(join(s.home, '.heat', 'heat.conf.d', 'a.conf'), '[DEFAULT]\ndebug = false\n');
    write(join(s.etc, 'heat', 'heat.conf.d', 'z.conf'), '[DEFAULT]\nverbose = true\n'); // shadowed by ~/.heat's
    write(join(s.etc, 'heat', 'heat-engine.conf.d', 'e.conf'), '[DEFAULT]\nverbose = true\n');
    const manage = write(join(s.etc, 'heat-manage.conf.d', 'm.conf'), '[database]\nmax_retries = 3\n');
    const cfg = load(s);
    assert.deepEqual(cfg.configFiles, [conf, homeA, homeD, manage]);
    assert.equal(cfg.debug, true);
    assert.equal(cfg.verbose, false);
    assert.equal(cfg.database.maxRetries, 3);
  });

  test('--config-file replaces the default files (the default drop-in dirs still apply)', () => {
    const s = sandbox();
    write(join(s.etc, 'heat', 'heat.conf'), '[database]\nconnection = sqlite:///default.db\n');
    const given = write(join(s.root, 'given.conf'), '[database]\nmax_retries = 5\n');
    const cfg = load(s, { configFiles: [given], env: DB_ENV });
    assert.deepEqual(cfg.configFiles, [given]);
    assert.equal(cfg.database.connectionSource, 'env OS_DATABASE__CONNECTION');
    // Without the environment: an error naming the given file, not the default one's connection.
    assert.match(configError(() => load(s, { configFiles: [given] })), new RegExp(`^no \\[database\\] connection in what was given: --config-file ${given};`));
  });

  test('relative and ~ paths: against the working directory and the home directory', () => {
    const s = sandbox();
    const rel = write(join(s.cwd, 'rel.conf'), '[DEFAULT]\ndebug = 1\n');
    const home = write(join(s.home, 'h.conf'), '[DEFAULT]\nverbose = 1\n');
    const cfg = load(s, { configFiles: ['rel.conf', '~/h.conf'], env: DB_ENV });
    assert.deepEqual(cfg.configFiles, [rel, home]);
    assert.equal(cfg.debug, true);
    assert.equal(cfg.verbose, true);
  });
});

describe('the embedded default database', () => {
  test('no config file anywhere: SQLite heat.sqlite in the working directory, and a warning says so', () => {
    const s = sandbox();
    const cfg = load(s);
    const file = join(s.cwd, 'heat.sqlite');
    assert.equal(cfg.database.connection, `sqlite:///${file}`);
    assert.equal(cfg.database.connectionSource, 'default');
    assert.equal(parseUrl(cfg.database.connection).database, file);
    assert.deepEqual(cfg.configFiles, []);
    assert.equal(cfg.warnings.length, 1);
    assert.match(cfg.warnings[0]!, /^no config file found \(looked for heat\.conf and heat-engine\.conf in /);
    assert.ok(cfg.warnings[0]!.includes(join(s.etc, 'heat')));
    assert.ok(cfg.warnings[0]!.endsWith(`using the embedded SQLite database at ${file}`));
  });

  test('config files without a connection: an error naming them, not the embedded default (issue 9)', () => {
    const s = sandbox();
    const f = write(join(s.root, 'a.conf'), '[DEFAULT]\ndebug = true\n');
    const msg = configError(() => load(s, { configFiles: [f] }));
    assert.ok(msg.startsWith(`no [database] connection in what was given: --config-file ${f}; set [database] connection`), msg);
    assert.match(msg, /OS_DATABASE__CONNECTION/);
  });

  test('an empty --config-dir (a mount that came up empty): an error naming the directory', () => {
    const s = sandbox();
    const d = join(s.root, 'heat.conf.d');
    mkdirSync(d);
    write(join(d, 'README'), 'not a .conf file\n');
    const msg = configError(() => load(s, { configDir: d }));
    assert.ok(msg.includes(`--config-dir ${d} (it has no *.conf file: did the config mount come up empty?)`), msg);
  });

  test('an OS_<GROUP>__<OPTION> variable but no connection: an error naming the variable; OS_AUTH_URL does not count', () => {
    const s = sandbox();
    const msg = configError(() => load(s, { env: { OS_DEFAULT__DEBUG: 'true', OS_AUTH_URL: 'http://keystone' } }));
    assert.ok(msg.includes('environment OS_DEFAULT__DEBUG;'), msg);
    assert.ok(!msg.includes('OS_AUTH_URL'), msg);
    assert.equal(load(s, { env: { OS_AUTH_URL: 'http://keystone', OS_PASSWORD: 'x' } }).database.connectionSource, 'default');
  });

  test('a heat.conf found by the default search without a connection: an error naming it', () => {
    const s = sandbox();
    const f = write(join(s.etc, 'heat', 'heat.conf'), '[DEFAULT]\ndebug = false\n');
    const msg = configError(() => load(s));
    assert.ok(msg.includes(`${f} (found by the default search)`), msg);
  });

  test("a working directory with '%', '?' and spaces still gives the right file", () => {
    const s = sandbox();
    const cwd = join(s.root, 'odd 100% dir?x');
    mkdirSync(cwd);
    const cfg = load({ ...s, cwd });
    assert.equal(parseUrl(cfg.database.connection).database, join(cwd, 'heat.sqlite'));
  });

  test('no warning when the environment gives the connection', () => {
    const s = sandbox();
    const cfg = load(s, { env: { OS_DATABASE__CONNECTION: 'sqlite:///x.db' } });
    assert.deepEqual(cfg.warnings, []);
  });
});

describe('bad input', () => {
  test('a config file that does not exist', () => {
    const s = sandbox();
    const msg = configError(() => load(s, { configFiles: [join(s.root, 'missing.conf')] }));
    assert.equal(msg, `${join(s.root, 'missing.conf')}: config file not found; check the --config-file path`);
  });

  test('a --config-dir that does not exist, and a directory given as --config-file', () => {
    const s = sandbox();
    assert.match(configError(() => load(s, { configDir: join(s.root, 'nope') })), /config directory not found/);
    assert.match(configError(() => load(s, { configFiles: [s.home] })), /is a directory, not a config file/);
  });

  test('an unreadable config file (run as an unprivileged user when we are root)', (t) => {
    const s = sandbox();
    chmodSync(s.root, 0o755);
    chmodSync(s.cwd, 0o755);
    const f = write(join(s.root, 'secret.conf'), '[database]\nconnection = sqlite:///x.db\n', 0o600);
    let msg: string;
    if (process.getuid?.() === 0) {
      // root reads any file: ask a child process running as nobody.
      chmodSync(f, 0o600);
      // nobody may not reach this checkout (a 0700 home): it runs a bundled copy from a readable dir.
      const bundle = readableBundle(fileURLToPath(CONFIG_INDEX));
      t.after(() => bundle.dispose());
      const script =
        `import(${JSON.stringify(pathToFileURL(bundle.file).href)}).then((m) => {` +
        `try { m.loadHeatConfig({ configFiles: [${JSON.stringify(f)}], env: {}, homeDir: '/nonexistent', cwd: ${JSON.stringify(s.cwd)} }); console.log(JSON.stringify('no error')); }` +
        `catch (e) { console.log(JSON.stringify((e instanceof m.ConfigError ? 'ConfigError: ' : 'other: ') + e.message)); } });`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: s.cwd,
        encoding: 'utf8',
      });
      if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'EPERM') {
        t.skip('running as root without the right to switch to user nobody: cannot make an unreadable file');
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      msg = JSON.parse(r.stdout.trim()) as string;
      assert.ok(msg.startsWith('ConfigError: '), msg);
      msg = msg.slice('ConfigError: '.length);
    } else {
      chmodSync(f, 0o000);
      msg = configError(() => load(s, { configFiles: [f] }));
    }
    assert.equal(
      msg,
      `${f}: cannot read the config file (permission denied); run as a user that may read it, or fix its permissions`,
    );
  });

  test('a syntax error: file and line in the message', () => {
    const s = sandbox();
    const f = fixture('bad-syntax.conf', s.root);
    const msg = configError(() => load(s, { configFiles: [f] }));
    assert.equal(msg, `${f}:6: line is not 'key = value', a [section] or a comment; fix the file`);
  });

  test('a file that is not UTF-8', () => {
    const s = sandbox();
    const f = join(s.root, 'latin1.conf');
    writeFileSync(f, Buffer.from('[DEFAULT]\npassword = caf\xe9\n', 'latin1'));
    assert.equal(configError(() => load(s, { configFiles: [f] })), `${f}: not UTF-8 text; save the file as UTF-8`);
  });

  test('connection empty: in a file, through a deprecated name, in env, on the command line', () => {
    const s = sandbox();
    const a = write(join(s.root, 'a.conf'), '[DEFAULT]\ndebug = true\n\n[database]\nconnection =\n');
    assert.equal(
      configError(() => load(s, { configFiles: [a] })),
      `[database] connection is empty in ${a} (line 5); set it to a database URL (e.g. mysql+pymysql://heat:PASSWORD@db.example/heat)`,
    );
    const b = write(join(s.root, 'b.conf'), '[DEFAULT]\nsql_connection = ""\n');
    assert.match(configError(() => load(s, { configFiles: [b] })), /^\[DEFAULT\] sql_connection is empty in /);
    assert.match(
      configError(() => load(s, { configFiles: [], env: { OS_DATABASE__CONNECTION: '' } })),
      /^environment variable OS_DATABASE__CONNECTION is empty; set it to a database URL/,
    );
    assert.match(
      configError(() => load(s, { configFiles: [], cliOverrides: { connection: ' ' } })),
      /^--database-connection is empty/,
    );
  });

  test('an empty connection in an earlier file is fine when a later file sets one', () => {
    const s = sandbox();
    const a = write(join(s.root, 'a.conf'), '[database]\nconnection =\n');
    const b = write(join(s.root, 'b.conf'), '[database]\nconnection = sqlite:///b.db\n');
    assert.equal(load(s, { configFiles: [a, b] }).database.connection, 'sqlite:///b.db');
  });

  test('booleans as oslo parses them; anything else is an error at file:line', () => {
    const s = sandbox();
    const cases: Array<[string, boolean]> = [
      ['true', true], ['TRUE', true], ['Yes', true], ['1', true], ['on', true],
      ['false', false], ['False', false], ['no', false], ['0', false], ['OFF', false],
    ];
    for (const [text, expected] of cases) {
      const f = write(join(s.root, 'b.conf'), `[DEFAULT]\ndebug = ${text}\n`);
      assert.equal(load(s, { configFiles: [f], env: DB_ENV }).debug, expected, text);
    }
    const f = write(join(s.root, 'b.conf'), '[DEFAULT]\n\ndebug = maybe\n');
    assert.equal(
      configError(() => load(s, { configFiles: [f] })),
      `${f}:3: [DEFAULT] debug must be true or false (or yes/no, on/off, 1/0), not 'maybe'; fix the value`,
    );
  });

  test('integers: not a number, below the minimum', () => {
    const s = sandbox();
    const f = write(join(s.root, 'i.conf'), '[database]\nmax_retries = ten\n');
    assert.equal(
      configError(() => load(s, { configFiles: [f] })),
      `${f}:2: [database] max_retries must be an integer, not 'ten'; fix the value`,
    );
    const g = write(join(s.root, 'j.conf'), '[database]\nmax_retries = -2\nretry_interval = 1\n');
    assert.match(configError(() => load(s, { configFiles: [g] })), /:2: \[database\] max_retries is -2; use -1 to retry forever/);
    const h = write(join(s.root, 'k.conf'), '[DEFAULT]\nsql_retry_interval = -1\n');
    assert.match(configError(() => load(s, { configFiles: [h] })), /:2: \[DEFAULT\] sql_retry_interval is -1; /);
  });

  test('[database] lock_wait_timeout (issue 9): default 30, from a file or OS_DATABASE__LOCK_WAIT_TIMEOUT, at least 1', () => {
    const s = sandbox();
    assert.equal(load(s, { env: DB_ENV }).database.lockWaitTimeout, 30);
    const f = write(join(s.root, 'w.conf'), '[database]\nlock_wait_timeout = 7\n');
    assert.equal(load(s, { configFiles: [f], env: DB_ENV }).database.lockWaitTimeout, 7);
    assert.equal(load(s, { configFiles: [f], env: { ...DB_ENV, OS_DATABASE__LOCK_WAIT_TIMEOUT: '3' } }).database.lockWaitTimeout, 3);
    const z = write(join(s.root, 'z.conf'), '[database]\nlock_wait_timeout = 0\n');
    assert.match(configError(() => load(s, { configFiles: [z], env: DB_ENV })), /:2: \[database\] lock_wait_timeout is 0; use a number of seconds >= 1/);
  });

  test('a [__proto__] section does not pollute objects', () => {
    const s = sandbox();
    const f = write(join(s.root, 'p.conf'), '[__proto__]\npolluted = yes\n[constructor]\nprototype = x\n[DEFAULT]\n__proto__ = 1\n');
    load(s, { configFiles: [f], env: DB_ENV });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('file permissions', () => {
  for (const [mode, warned] of [
    [0o644, true],
    [0o604, true],
    [0o640, false],
    [0o600, false],
  ] as const) {
    test(`mode ${mode.toString(8)}: ${warned ? 'warns' : 'no warning'}`, () => {
      const s = sandbox();
      const f = write(join(s.root, 'h.conf'), '[database]\nconnection = sqlite:///x.db\n', mode);
      const w = load(s, { configFiles: [f] }).warnings.filter((x) => x.includes('readable by other users'));
      assert.deepEqual(
        w,
        warned
          ? [`config file ${f} is readable by other users (mode 0${mode.toString(8)}) and may hold passwords; restrict it: chmod o-r ${f}`]
          : [],
      );
    });
  }
});

describe('passwords', () => {
  test('a password with @ : / % # ; and a space works and never shows', () => {
    const s = sandbox();
    const url = `mysql+pymysql://heat:${SPECIAL_PASSWORD}@db.example:3306/heat?charset=utf8`;
    const f = write(join(s.root, 'p.conf'), `[DEFAULT]\nverbose = 1\n[database]\nconnection = ${url}\n`, 0o644);
    const cfg = load(s, { configFiles: [f] });
    assertSecretEqual(cfg.database.connection, url, 'connection');
    assert.equal(cfg.warnings.length, 1, 'the mode warning');
    assertNoSecret(visibleText(cfg), [SPECIAL_PASSWORD, decodeURIComponent(SPECIAL_PASSWORD)]);
    assert.equal(
      describeDatabase(cfg),
      `mysql+pymysql://heat:***@db.example:3306/heat?charset=utf8 (from ${f}:[database] connection)`,
    );
  });

  test('errors raised for other lines of the same file do not show the password', () => {
    const s = sandbox();
    const url = `mysql://heat:${SPECIAL_PASSWORD}@db/heat`;
    const a = write(join(s.root, 'a.conf'), `[database]\nconnection = ${url}\nmax_retries = x\n`);
    assertNoSecret(configError(() => load(s, { configFiles: [a] })), [SPECIAL_PASSWORD]);
    const b = write(join(s.root, 'b.conf'), `[database]\nconnection = ${url}\n  continued\nbroken line\n`);
    assertNoSecret(configError(() => load(s, { configFiles: [b] })), [SPECIAL_PASSWORD]);
  });

  test("'?' in a password: maskUrl still hides it", () => {
    for (const pw of ['pa?ss', 'p@:/%#;?x', 'a?b@c']) {
      const masked = maskUrl(`mysql://heat:${pw}@db/heat?charset=utf8`);
      assert.ok(!masked.includes(pw), 'password shown');
      assert.ok(masked.startsWith('mysql://heat:***@'), masked.replace(pw, '<pw>'));
    }
  });

  test("'$$' and '\\$' are a literal '$' (oslo.config substitution)", () => {
    const s = sandbox();
    const f = write(join(s.root, 'd.conf'), '[database]\nconnection = mysql://heat:pa$$w\\$rd@db/heat\n');
    assertSecretEqual(load(s, { configFiles: [f] }).database.connection, 'mysql://heat:pa$w$rd@db/heat', 'connection');
  });

  test("an unknown '$name' in the connection is an error that does not show the name", () => {
    const s = sandbox();
    const f = write(join(s.root, 'd.conf'), '[database]\nconnection = mysql://heat:pa$secretpart@db/heat\n');
    const msg = configError(() => load(s, { configFiles: [f] }));
    assert.match(msg, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: \\[database\\] connection contains a '\\$'`));
    assert.ok(!msg.includes('secretpart'));
  });
});

describe('$ substitution of other options', () => {
  test('$name from the same group, then [DEFAULT]; ${group.name} from another group; env values too', () => {
    const s = sandbox();
    const f = write(
      join(s.root, 's.conf'),
      '[DEFAULT]\nstate_path = /var/lib/heat\nlog_dir = ${state_path}/log\nlog_file = $log_dir/x.log\n' +
        '[database]\nconnection = sqlite:///$state_path/heat.db\nmax_retries = ${database.retry_interval}\nretry_interval = 4\n',
    );
    const cfg = load(s, { configFiles: [f], env: { OS_DATABASE__MIGRATION_LOCK_TIMEOUT: '$max_retries' } });
    assert.equal(cfg.logFile, '/var/lib/heat/log/x.log');
    assert.equal(cfg.database.connection, 'sqlite:////var/lib/heat/heat.db');
    assert.equal(cfg.database.maxRetries, 4);
    assert.equal(cfg.database.lockTimeout, 4);
  });

  test('an unknown name in a non-secret option is named; a loop is reported', () => {
    const s = sandbox();
    const f = write(join(s.root, 'u.conf'), '[DEFAULT]\nlog_file = $nowhere/x.log\n');
    assert.equal(
      configError(() => load(s, { configFiles: [f] })),
      `${f}:2: [DEFAULT] log_file refers to $nowhere, which no config file sets; set it, or write '$$' for a literal '$'`,
    );
    const g = write(join(s.root, 'l.conf'), '[DEFAULT]\nlog_file = $a\na = $log_file\n');
    assert.match(configError(() => load(s, { configFiles: [g] })), /refers back to itself/);
  });
});

describe('the result', () => {
  test('is deeply frozen', () => {
    const s = sandbox();
    const cfg = load(s);
    assert.ok(Object.isFrozen(cfg));
    assert.ok(Object.isFrozen(cfg.database));
    assert.ok(Object.isFrozen(cfg.warnings));
    assert.ok(Object.isFrozen(cfg.configFiles));
    assert.throws(() => {
      (cfg.database as { maxRetries: number }).maxRetries = 1;
    }, TypeError);
  });

  test('JSON and inspect output of the database mask the password; the fields stay readable', () => {
    const s = sandbox();
    const cfg = load(s, { configFiles: [], env: { OS_DATABASE__CONNECTION: 'postgresql://heat:Tr1cky@db/heat' } });
    const json = JSON.parse(JSON.stringify(cfg)) as { database: { connection: string; maxRetries: number } };
    assert.equal(json.database.connection, 'postgresql://heat:***@db/heat');
    assert.equal(json.database.maxRetries, 10);
    assert.ok(!inspect(cfg).includes('Tr1cky'));
    assertSecretEqual(cfg.database.connection, 'postgresql://heat:Tr1cky@db/heat', 'connection');
  });
});

describe('etc/heat.conf.sample', () => {
  test('parses, and with everything commented out gives the documented defaults', () => {
    const s = sandbox();
    const f = join(s.root, 'sample.conf');
    copyFileSync(fileURLToPath(new URL('../../../etc/heat.conf.sample', import.meta.url)), f);
    chmodSync(f, 0o600);
    // Given with --config-file and without a connection: an error (issue 9), not the embedded default.
    assert.match(configError(() => load(s, { configFiles: [f] })), /^no \[database\] connection in what was given: --config-file /);
    const cfg = load(s, { configFiles: [f], env: DB_ENV });
    assert.equal(cfg.database.connection, DB_ENV.OS_DATABASE__CONNECTION);
    assert.deepEqual(
      [cfg.database.maxRetries, cfg.database.retryInterval, cfg.database.lockTimeout, cfg.database.lockWaitTimeout, cfg.debug, cfg.verbose, cfg.logFile],
      [10, 10, 120, 30, false, false, null],
    );
  });
});
