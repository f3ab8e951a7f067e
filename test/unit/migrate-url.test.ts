/**
 * migrate/url.ts: SQLAlchemy-style connection URLs as they appear in existing configs, and password
 * masking of every URL the tool echoes. Expected values follow SQLAlchemy's URL rules (SPEC §9 and
 * the issue): the dialect is the scheme before '+', MariaDB is `mysql`, user and password are
 * percent-decoded, SQLite's path is what follows `sqlite:///`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidUrlError } from '../../migrate/errors.js';
import { maskPassword, parseUrl, redact } from '../../migrate/url.js';
import { SPECIAL_PASSWORD } from '../support/secrets.js';

describe('parseUrl: schemes and dialects', () => {
  const cases: Array<[string, string, string]> = [
    ['mysql://root@127.0.0.1:3306/heat', 'mysql', 'mysql'],
    ['mysql+pymysql://heat:pw@db.example/heat', 'mysql', 'mysql+pymysql'],
    ['mysql+mysqldb://heat:pw@db.example/heat', 'mysql', 'mysql+mysqldb'],
    ['mariadb://heat:pw@db.example/heat', 'mysql', 'mariadb'],
    ['mariadb+pymysql://heat:pw@db.example/heat', 'mysql', 'mariadb+pymysql'],
    ['postgresql://postgres@127.0.0.1:5432/heat', 'postgresql', 'postgresql'],
    ['postgresql+psycopg2://heat:pw@db.example/heat', 'postgresql', 'postgresql+psycopg2'],
    ['sqlite:///relative.db', 'sqlite', 'sqlite'],
  ];
  for (const [url, dialect, scheme] of cases) {
    test(url, () => {
      const u = parseUrl(url);
      assert.equal(u.dialect, dialect);
      assert.equal(u.scheme, scheme);
    });
  }

  test('host, port, user, database of a MySQL URL', () => {
    const u = parseUrl('mysql+pymysql://heat:secret@db.example:3307/heatdb');
    assert.equal(u.username, 'heat');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, 'db.example');
    assert.equal(u.port, 3307);
    assert.equal(u.database, 'heatdb');
  });

  test('a URL without password or port', () => {
    const u = parseUrl('postgresql://postgres@127.0.0.1/heat');
    assert.equal(u.username, 'postgres');
    assert.equal(u.password, undefined);
    assert.equal(u.port, undefined);
    assert.equal(u.host, '127.0.0.1');
    assert.equal(u.database, 'heat');
  });

  test('sqlite:///relative.db is a path relative to the working directory', () => {
    assert.equal(parseUrl('sqlite:///relative.db').database, 'relative.db');
    assert.equal(parseUrl('sqlite:///dir/sub/x.db').database, 'dir/sub/x.db');
  });

  test('sqlite:////absolute.db is an absolute path', () => {
    assert.equal(parseUrl('sqlite:////absolute.db').database, '/absolute.db');
    assert.equal(parseUrl('sqlite:////tmp/a b/x.db').database, '/tmp/a b/x.db');
  });

  test('sqlite:// is an in-memory database', () => {
    assert.equal(parseUrl('sqlite://').database, ':memory:');
    assert.equal(parseUrl('sqlite://').dialect, 'sqlite');
  });

  test('the scheme is case-insensitive', () => {
    assert.equal(parseUrl('MySQL+PyMySQL://u@h/db').dialect, 'mysql');
  });

  test('an unknown scheme is an InvalidUrlError naming the scheme', () => {
    assert.throws(() => parseUrl('nosuchdialect://u@h/db'), (e: unknown) => {
      assert.ok(e instanceof InvalidUrlError);
      assert.match((e as Error).message, /nosuchdialect/);
      return true;
    });
  });

  test("an unknown driver is refused as SQLAlchemy does: Can't load plugin, the known drivers, no password", () => {
    for (const [url, plugin] of [
      ['mysql+foo://heat:S3cret@db/heat', 'mysql.foo'],
      ['mariadb+psycopg2://heat:S3cret@db/heat', 'mariadb.psycopg2'],
      ['postgresql+pymysql://heat:S3cret@db/heat', 'postgresql.pymysql'],
      ['sqlite+foo:///x.db', 'sqlite.foo'],
      ['mysql+pymysql+x://heat:S3cret@db/heat', 'mysql.pymysql+x'],
    ] as const) {
      assert.throws(() => parseUrl(url), (e: unknown) => {
        assert.ok(e instanceof InvalidUrlError);
        const m = (e as Error).message;
        assert.ok(m.startsWith(`Can't load plugin: sqlalchemy.dialects:${plugin} (unknown driver`), m);
        assert.ok(!m.includes('S3cret') && !m.includes('\n'), m);
        assert.match(m, /drivers: \w+, /);
        return true;
      });
    }
    for (const url of ['mysql+mysqlconnector://u@h/db', 'postgresql+psycopg://u@h/db', 'postgresql+pg8000://u@h/db', 'sqlite+pysqlite:///x.db']) {
      assert.doesNotThrow(() => parseUrl(url), url);
    }
  });

  test("an unparsable URL: Could not parse SQLAlchemy URL from string 'not-a-url'", () => {
    assert.throws(() => parseUrl('not-a-url'), (e: unknown) => {
      assert.ok(e instanceof InvalidUrlError);
      assert.match((e as Error).message, /Could not parse SQLAlchemy URL from string 'not-a-url'/);
      return true;
    });
  });
});

describe('parseUrl: user and password', () => {
  test('percent-encoded user and password are decoded', () => {
    const u = parseUrl('mysql+pymysql://us%40er%3A1:p%40ss%3Aw%2Frd%23%25@db.example/heat');
    assert.equal(u.username, 'us@er:1');
    assert.equal(u.password, 'p@ss:w/rd#%');
    assert.equal(u.host, 'db.example');
    assert.equal(u.database, 'heat');
  });

  test('the test password with every special character round-trips through encodeURIComponent', () => {
    const u = parseUrl(`mysql://heat:${encodeURIComponent(SPECIAL_PASSWORD)}@127.0.0.1:3306/heat`);
    assert.equal(u.password, SPECIAL_PASSWORD);
    assert.equal(u.host, '127.0.0.1');
    assert.equal(u.port, 3306);
    assert.equal(u.database, 'heat');
  });

  test('raw @ in a password: the host is after the last @', () => {
    const u = parseUrl('mysql://heat:p@ss@db.example/heat');
    assert.equal(u.username, 'heat');
    assert.equal(u.password, 'p@ss');
    assert.equal(u.host, 'db.example');
    assert.equal(u.database, 'heat');
  });

  test('raw : in a password: the user is before the first :', () => {
    const u = parseUrl('postgresql://heat:a:b:c@db.example:5433/heat');
    assert.equal(u.username, 'heat');
    assert.equal(u.password, 'a:b:c');
    assert.equal(u.port, 5433);
  });

  test('raw / in a password', () => {
    const u = parseUrl('mysql://heat:pa/ss/wd@db.example/heat');
    assert.equal(u.password, 'pa/ss/wd');
    assert.equal(u.host, 'db.example');
    assert.equal(u.database, 'heat');
  });

  test('raw # in a password', () => {
    const u = parseUrl('mysql://heat:pa#ss@db.example:3306/heat');
    assert.equal(u.password, 'pa#ss');
    assert.equal(u.host, 'db.example');
    assert.equal(u.port, 3306);
    assert.equal(u.database, 'heat');
  });

  test('raw @ : / # together in a password', () => {
    const u = parseUrl('mysql+pymysql://heat:@:/#x@db.example/heat?charset=utf8');
    assert.equal(u.username, 'heat');
    assert.equal(u.password, '@:/#x');
    assert.equal(u.host, 'db.example');
    assert.equal(u.database, 'heat');
    assert.equal(u.query.charset, 'utf8');
  });

  test('an empty password is an empty string, not absent', () => {
    assert.equal(parseUrl('mysql://root:@127.0.0.1/db').password, '');
  });
});

describe('parseUrl: query parameters', () => {
  test('known parameters are read and decoded, unknown ones are reported', () => {
    const u = parseUrl('mysql+pymysql://heat:pw@db/heat?charset=utf8&connect_timeout=30&plugin=x%20y');
    assert.deepEqual({ ...u.query }, { charset: 'utf8', connect_timeout: '30', plugin: 'x y' });
    assert.deepEqual([...u.ignoredParams], ['plugin']);
    assert.equal(u.database, 'heat');
  });

  test('PostgreSQL parameters', () => {
    const u = parseUrl('postgresql://u:p@h/db?sslmode=disable&connect_timeout=5');
    assert.deepEqual({ ...u.query }, { sslmode: 'disable', connect_timeout: '5' });
    assert.deepEqual([...u.ignoredParams], []);
  });

  test('SQLite timeout parameter and path', () => {
    const u = parseUrl('sqlite:////var/lib/x.db?timeout=20');
    assert.equal(u.database, '/var/lib/x.db');
    assert.equal(u.query.timeout, '20');
  });

  test('a ? inside a percent-encoded password is not a query', () => {
    const u = parseUrl('mysql://u:a%3Fb@h/db?charset=utf8');
    assert.equal(u.password, 'a?b');
    assert.equal(u.database, 'db');
    assert.equal(u.query.charset, 'utf8');
  });
});

describe('password masking', () => {
  const masked: Array<[string, string]> = [
    ['mysql://heat:secretpw@db/heat', 'secretpw'],
    ['mysql+pymysql://heat:p@ss@db/heat?charset=utf8', 'p@ss'],
    ['postgresql://heat:a:b:c@db:5433/heat', 'a:b:c'],
    ['mysql://heat:pa#ss/wd@db/heat', 'pa#ss/wd'],
    [`mysql://heat:${encodeURIComponent(SPECIAL_PASSWORD)}@db/heat`, encodeURIComponent(SPECIAL_PASSWORD)],
  ];
  for (const [url, pw] of masked) {
    test(`maskPassword(${url.replace(pw, '<pw>')})`, () => {
      const m = maskPassword(url);
      assert.ok(!m.includes(pw), m);
      assert.match(m, /:\*\*\*@/);
      // Everything but the password is kept.
      assert.equal(m, url.replace(`:${pw}@`, ':***@'));
    });
  }

  test('a URL without password is unchanged', () => {
    assert.equal(maskPassword('mysql://root@127.0.0.1:3306/db'), 'mysql://root@127.0.0.1:3306/db');
    assert.equal(maskPassword('sqlite:////tmp/x.db'), 'sqlite:////tmp/x.db');
  });

  test('redact removes a secret and its percent-encoded form', () => {
    const out = redact(`login failed for ${SPECIAL_PASSWORD} / ${encodeURIComponent(SPECIAL_PASSWORD)}`, SPECIAL_PASSWORD);
    assert.ok(!out.includes(SPECIAL_PASSWORD));
    assert.ok(!out.includes(encodeURIComponent(SPECIAL_PASSWORD)));
    assert.equal(out, 'login failed for *** / ***');
  });

  // Every message that echoes a URL must mask its password, also when the URL is malformed.
  const badUrls = [
    'nosuchdialect://heat:Secret-pw-1@db/heat',
    'mysql://heat:Secret-pw-1@db:99999/heat',
    'mysql://heat:Secret-pw-1@bad host/heat',
    'mysql:/heat:Secret-pw-1@db/heat',
    'mysql:heat:Secret-pw-1@db/heat',
    'sqlite://heat:Secret-pw-1@db/x.db',
  ];
  for (const url of badUrls) {
    test(`the error for a malformed URL does not echo its password: ${url.replace('Secret-pw-1', '<pw>')}`, () => {
      assert.throws(() => parseUrl(url), (e: unknown) => {
        assert.ok(e instanceof InvalidUrlError, String(e));
        assert.ok(!(e as Error).message.includes('Secret-pw-1'), (e as Error).message);
        return true;
      });
    });
  }
});
