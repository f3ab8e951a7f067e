/**
 * migrate/dialect/mysql-option-file.ts: a URL's `read_default_file` / `read_default_group` read as
 * PyMySQL reads them (the URL wins key by key), with the MySQL client's `[client]`-then-group order,
 * `!include` and `!includedir`, and errors naming the file instead of PyMySQL's silent skip. The
 * file system is a map here; test/e2e/heat-faults-server.test.ts connects through real files.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidUrlError } from '../../migrate/errors.js';
import { applyOptionFile, readOptionFile, type OptionFileIo } from '../../migrate/dialect/mysql-option-file.js';
import { parseUrl } from '../../migrate/url.js';

function io(files: Record<string, string>, home = '/home/heat'): OptionFileIo {
  const err = (code: string) => Object.assign(new Error(code), { code });
  return {
    homeDir: home,
    readFile(p) {
      if (p in files) return files[p]!;
      if (Object.keys(files).some((f) => f.startsWith(`${p}/`))) throw err('EISDIR');
      throw err('ENOENT');
    },
    listDir(p) {
      const names = Object.keys(files)
        .filter((f) => f.startsWith(`${p}/`))
        .map((f) => f.slice(p.length + 1));
      if (!names.length) throw err('ENOENT');
      return names.reverse(); // not sorted: the reader must sort
    },
  };
}

const TRIPLEO = 'mysql+pymysql://heat:pw@db.example/heat?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo';

describe('applyOptionFile: what the file gives, what the URL keeps', () => {
  test("TripleO's file: the group's bind-address and TLS settings join the URL", () => {
    const u = applyOptionFile(
      parseUrl(TRIPLEO),
      io({ '/etc/my.cnf.d/tripleo.cnf': '[tripleo]\nbind-address=10.0.0.5\nssl=1\nssl-ca=/etc/ipa/ca.crt\n' }),
    );
    assert.equal(u.query.bind_address, '10.0.0.5');
    assert.equal(u.query.ssl, '1');
    assert.equal(u.query.ssl_ca, '/etc/ipa/ca.crt');
    assert.equal(u.host, 'db.example');
    assert.equal(u.safe, parseUrl(TRIPLEO).safe, 'messages still show the URL as written');
  });

  test('[client] is read first; the named group wins; the URL wins over both, key by key', () => {
    const text = [
      '[client]',
      'user = fromclient',
      'port = 3310',
      'ssl-key = /client.key',
      '[mysqld]',
      'port = 9999',
      '[tripleo]',
      'port = 3320',
      'password = "file secret"',
      'ssl-ca=/file-ca.pem',
    ].join('\n');
    const u = applyOptionFile(parseUrl('mysql://urluser@/?read_default_file=/f.cnf&read_default_group=tripleo&ssl_ca=/url-ca.pem'), io({ '/f.cnf': text }));
    assert.equal(u.username, 'urluser', 'URL user wins');
    assert.equal(u.password, 'file secret', 'quotes removed; the file fills what the URL lacks');
    assert.equal(u.port, 3320, 'the group wins over [client]; [mysqld] is not read');
    assert.equal(u.query.ssl_ca, '/url-ca.pem', 'URL ssl_ca wins');
    assert.equal(u.query.ssl_key, '/client.key', 'per key: the file still gives what the URL does not');
    assert.equal(u.host, undefined);
  });

  test('URL host, port, database, password, socket and charset win over the file', () => {
    const text = '[client]\nhost=filehost\nport=1\ndatabase=filedb\npassword=filepw\nsocket=/file.sock\ndefault-character-set=latin1\n';
    const u = applyOptionFile(parseUrl('mysql://u:urlpw@urlhost:3306/urldb?read_default_file=/f.cnf&unix_socket=/url.sock&charset=utf8'), io({ '/f.cnf': text }));
    assert.deepEqual([u.host, u.port, u.database, u.password, u.query.unix_socket, u.query.charset], ['urlhost', 3306, 'urldb', 'urlpw', '/url.sock', 'utf8']);
    const v = applyOptionFile(parseUrl('mysql://u@/?read_default_file=/f.cnf'), io({ '/f.cnf': text }));
    assert.deepEqual([v.host, v.port, v.database, v.password, v.query.unix_socket, v.query.charset], ['filehost', 1, 'filedb', 'filepw', '/file.sock', 'latin1']);
  });

  test('no group: [client] only; only a group: /etc/my.cnf; ~ is the home directory', () => {
    const files = { '/etc/my.cnf': '[client]\nhost=etc\n[g]\nhost=etc-g\n', '/home/heat/.my.cnf': '[client]\nhost=home\n' };
    assert.equal(applyOptionFile(parseUrl('mysql://u@/db?read_default_file=/etc/my.cnf'), io(files)).host, 'etc');
    assert.equal(applyOptionFile(parseUrl('mysql://u@/db?read_default_group=g'), io(files)).host, 'etc-g');
    assert.equal(applyOptionFile(parseUrl('mysql://u@/db?read_default_file=~/.my.cnf'), io(files)).host, 'home');
  });

  test('a URL without read_default_file / read_default_group is returned as it is (no I/O)', () => {
    const u = parseUrl('mysql://u@h/db?charset=utf8');
    assert.equal(applyOptionFile(u, io({})), u);
  });

  test('ssl-verify-server-cert (bare) and ssl-mode turn verification on; bare ssl turns TLS on', () => {
    const a = applyOptionFile(parseUrl('mysql://u@h/db?read_default_file=/f.cnf'), io({ '/f.cnf': '[client]\nssl\nssl-verify-server-cert\n' }));
    assert.deepEqual([a.query.ssl, a.query.ssl_verify_cert, a.query.ssl_verify_identity], ['true', 'true', 'true']);
    const b = applyOptionFile(parseUrl('mysql://u@h/db?read_default_file=/f.cnf'), io({ '/f.cnf': '[client]\nssl-mode=VERIFY_CA\n' }));
    assert.deepEqual([b.query.ssl, b.query.ssl_verify_cert, b.query.ssl_verify_identity], ['true', 'true', undefined]);
    const c = applyOptionFile(parseUrl('mysql://u@h/db?read_default_file=/f.cnf&ssl_verify_cert=false'), io({ '/f.cnf': '[client]\nssl_verify_server_cert=1\n' }));
    assert.equal(c.query.ssl_verify_cert, 'false', 'the URL wins; _ and - are the same in a key');
  });

  test('a port that is not a number: one line naming the file and the group', () => {
    assert.throws(
      () => applyOptionFile(parseUrl('mysql://u@h/db?read_default_file=/f.cnf&read_default_group=g'), io({ '/f.cnf': '[g]\nport=33o6\n' })),
      (e: Error) => e instanceof InvalidUrlError && /\/f\.cnf .*\[g\] port = '33o6' is not a port number/.test(e.message),
    );
  });
});

describe('readOptionFile: syntax, !include, !includedir, errors', () => {
  test('comments, blank lines, quotes, # inside a value, loose- prefix, a repeated group merges', () => {
    const g = readOptionFile(
      '/f.cnf',
      io({ '/f.cnf': "# c\n; c\n\n[client]\npassword = a#b;c\nuser='q'\nloose-ssl-ca=/ca\n[client]\nhost = h\n" }),
    );
    assert.deepEqual(Object.fromEntries(g.get('client')!), { password: 'a#b;c', user: 'q', 'ssl-ca': '/ca', host: 'h' });
  });

  test('!include (relative to the including file) and !includedir (*.cnf, by name); later values win', () => {
    const g = readOptionFile(
      '/etc/my.cnf',
      io({
        '/etc/my.cnf': '[client]\nhost=main\n!include extra/tls.cnf\n!includedir /etc/my.cnf.d\n',
        '/etc/extra/tls.cnf': '[tripleo]\nssl-ca=/ca.pem\nhost=tls\n',
        '/etc/my.cnf.d/a.cnf': '[tripleo]\nhost=a\nport=1\n',
        '/etc/my.cnf.d/b.cnf': '[tripleo]\nhost=b\n',
        '/etc/my.cnf.d/c.conf': '[tripleo]\nhost=not-cnf\n',
      }),
    );
    assert.equal(g.get('client')!.get('host'), 'main');
    assert.deepEqual(Object.fromEntries(g.get('tripleo')!), { 'ssl-ca': '/ca.pem', host: 'b', port: '1' });
  });

  test('a missing file, an unreadable included file, a missing !includedir: errors naming them', () => {
    const url = 'mysql+pymysql://heat:s3cret@db/heat?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo';
    assert.throws(
      () => applyOptionFile(parseUrl(url), io({})),
      (e: Error) =>
        e instanceof InvalidUrlError &&
        /^MySQL option file \(read_default_file of mysql\+pymysql:\/\/heat:\*\*\*@db\/heat\?.*\): cannot read \/etc\/my\.cnf\.d\/tripleo\.cnf: no such file;/.test(e.message) &&
        !e.message.includes('s3cret') &&
        !e.message.includes('\n'),
    );
    assert.throws(() => readOptionFile('/a.cnf', io({ '/a.cnf': '!include /b.cnf\n' })), /cannot read \/b\.cnf \(included by \/a\.cnf\): no such file/);
    assert.throws(() => readOptionFile('/a.cnf', io({ '/a.cnf': '!includedir /d\n' })), /cannot read the directory \/d \(!includedir in \/a\.cnf\): no such file/);
    assert.throws(() => readOptionFile('/d', io({ '/d/x.cnf': '' })), /cannot read \/d: is a directory/);
  });

  test('an !include loop stops with an error; an option before any group is an error', () => {
    assert.throws(() => readOptionFile('/a.cnf', io({ '/a.cnf': '!include /b.cnf\n', '/b.cnf': '!include /a.cnf\n' })), /nested !include \(a loop\?\)/);
    assert.throws(() => readOptionFile('/a.cnf', io({ '/a.cnf': 'user=x\n[client]\n' })), /\/a\.cnf line 1: an option before any \[group\]/);
  });
});

describe('parseUrl: the option-file and TLS parameters are honoured, not "ignored"', () => {
  test('read_default_file, read_default_group, ssl_verify_cert, bind_address are known MySQL parameters', () => {
    const u = parseUrl('mysql+pymysql://h/db?read_default_file=/f&read_default_group=g&ssl_verify_cert=true&ssl_verify_identity&bind_address=1.2.3.4&ssl_capath=/d');
    assert.deepEqual([...u.ignoredParams], []);
  });
});
