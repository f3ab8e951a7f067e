/**
 * heat/common/crypt.ts against the SPEC's fixed vectors (made with Heat 6.0.0's own code) and
 * against Python's `cryptography` Fernet (Debian python3-cryptography), both directions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { CryptError, decrypt, encrypt, fernetEncrypt, FERNET } from '../../heat/common/crypt.js';

const A = 'spec-vector-key-A-0123456789abcd';
const B = 'spec-key-B-16chr';
const C = 'spec-vector-key-C-0123456789abcdef-EXTRA';
const D = 'spec-vector-key-D-24chrs';
const Z = 'spec-vector-key-Z-0123456789abcd';

const FERNET_VECTORS: [name: string, key: string, plain: string, token: string][] = [
  ['F1', A, 'correct horse battery staple', 'gAAAAABrEOOnVnNuvVKc9GvvO9fzEbSH5Rpg4BZev_p0iNtgEo7xX0-7VHfWPb8cBm5gwFg5UONT39mgaCy6XznJD7IknhGWG6JBpVM8UsxcVSgh3Xn-9rw='],
  ['F2', B, 'Grüße, 世界 ☃', 'gAAAAABrEOOnSlIueujjUTgukn0EPJELwU80mB3c-xPFGWbBzQhUbpmkk9MQft3PIUIyCNTGvfPeGXH90Kr3MwzOpF8dzjsYjnimjABEH_wpe-QodEwYIaY='],
  [
    'F3',
    C,
    '{"flavor": "m1.tiny", "n": [1, 2.5, null]}',
    'gAAAAABrEOOnonNN4--nB3W-tW4riI-PU_TSG0Jx9xoeOLn18Q4GDDOwxYxM06TlgrEtDVhOfQDsk34QtKnHr-HfsjbaSneQ4OKplEAFLP7epF9LPNZPQbH7c7KYwLzvCw44gHBratY1',
  ],
];
const OSLO_VECTORS: [string, string, string, string][] = [
  ['O1', A, 'fifteen-chars-x', '1IsbevVxNtmZM3qLBraA86NVzxOfmuP2XS7nBK9aAho='],
  ['O2', B, 'sixteen-bytes-16', '7KXA2VRdZTOA7zNA8Cxf4O2Dg/HktnkV3jYfLWcy4bn+UjV2YblfMC3lEy8vXS1f'],
  ['O3', D, 'Zürich ✓', 'DIqoa0gO9fipnpdkRuwyzinTPwgD0c6eKvWxIy+mcDk='],
];
const HEAT_VECTORS: [string, string, string, string][] = [
  ['H1', A, 'havana-secret', 'TAg1AnBCeeyfcD4I/55/AxUjpfpZd24D3aAft6I='],
  ['H2', B, 'x', '/vE73s+leELOsU6TnO700P8='],
  ['H3', C, 'pässwörd 123', 'sJaEYnr86sFF1aeJjVxf7Eni79KSDgkYJO+sNSph'],
];

const wrongKey = (e: unknown) => e instanceof CryptError && e.reason === 'wrong-key';

describe('Fernet (cryptography_decrypt_v1): SPEC vectors', () => {
  for (const [name, key, plain, token] of FERNET_VECTORS) {
    test(`${name} decrypts`, () => assert.equal(decrypt(FERNET, token, key), plain));
    test(`${name} is what our encrypt makes for the same timestamp and IV`, () => {
      const raw = Buffer.from(token, 'base64url');
      const ts = Number(raw.readBigUInt64BE(1));
      assert.equal(ts, 1796268967);
      assert.equal(fernetEncrypt(Buffer.from(plain, 'utf8'), key, ts, raw.subarray(9, 25)), token);
    });
    test(`${name} fails under the wrong key Z`, () => assert.throws(() => decrypt(FERNET, token, Z), wrongKey));
  }
  test('F1 carries the IV the SPEC names', () => {
    assert.equal(Buffer.from(FERNET_VECTORS[0]![3], 'base64url').subarray(9, 25).toString('hex'), '56736ebd529cf46bef3bd7f311b487e5');
  });
  test('a tampered token (one bit of the ciphertext) is a wrong key, not garbage', () => {
    const raw = Buffer.from(FERNET_VECTORS[0]![3], 'base64url');
    raw[30]! ^= 1;
    const bad = raw.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    assert.throws(() => decrypt(FERNET, bad, A), wrongKey);
  });
  test('an unpadded token is refused (Python requires the = padding)', () => {
    assert.throws(() => decrypt(FERNET, FERNET_VECTORS[0]![3].replace(/=+$/, ''), A), wrongKey);
  });
  test('our tokens: gAAAAA prefix, = padded, round trip, fresh IV each time', () => {
    const [m, t1] = encrypt('pw-1 ✓ 😀', A);
    const [, t2] = encrypt('pw-1 ✓ 😀', A);
    assert.equal(m, FERNET);
    assert.match(t1, /^gAAAAA[A-Za-z0-9_-]+=*$/);
    assert.equal(t1.length % 4, 0);
    assert.notEqual(t1, t2);
    assert.equal(decrypt(m, t1, A), 'pw-1 ✓ 😀');
  });
  test('a key under 16 characters is unusable, with an error that does not show it', () => {
    assert.throws(
      () => encrypt('x', 'short-key'),
      (e: unknown) => e instanceof CryptError && e.reason === 'bad-key' && !e.message.includes('short-key'),
    );
  });
});

describe('oslo_decrypt_v1: SPEC vectors', () => {
  for (const [name, key, plain, data] of OSLO_VECTORS) {
    test(`${name} decrypts`, () => assert.equal(decrypt('oslo_decrypt_v1', data, key), plain));
    test(`${name} under the wrong key Z is an error (Heat returns '')`, () => assert.throws(() => decrypt('oslo_decrypt_v1', data, Z), wrongKey));
  }
  test('a key whose first 32 characters are not 16, 24 or 32 bytes is unusable', () => {
    assert.throws(() => decrypt('oslo_decrypt_v1', OSLO_VECTORS[0]![3], 'twenty-chars-key-xyz'), (e: unknown) => e instanceof CryptError && e.reason === 'bad-key');
  });
});

describe('heat_decrypt: SPEC vectors', () => {
  for (const [name, key, plain, data] of HEAT_VECTORS) test(`${name} decrypts`, () => assert.equal(decrypt('heat_decrypt', data, key), plain));
  test('H1 and H3 under Z: not UTF-8, an error', () => {
    assert.throws(() => decrypt('heat_decrypt', HEAT_VECTORS[0]![3], Z), wrongKey);
    assert.throws(() => decrypt('heat_decrypt', HEAT_VECTORS[2]![3], Z), wrongKey);
  });
  test("H2 under Z 'opens' as 'u', as in Heat (no integrity check in this format)", () => {
    assert.equal(decrypt('heat_decrypt', HEAT_VECTORS[1]![3], Z), 'u');
  });
});

describe('decrypt dispatch', () => {
  test('NULL method or data gives null', () => {
    assert.equal(decrypt(null, 'x', A), null);
    assert.equal(decrypt(FERNET, null, A), null);
  });
  test('an unknown method is an error naming it (Heat: AttributeError)', () => {
    assert.throws(() => decrypt('rot13', 'abc', A), (e: unknown) => e instanceof CryptError && e.reason === 'unknown-method' && /rot13/.test(e.message));
  });
});

// ---------------------------------------------------------------------------------------------
// Python's cryptography Fernet, with Heat's key derivation (crypt.py): both directions.

function python(script: string, input: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8', timeout: 30000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? String(r.error) };
}

const HEAT_KEY_PY = `
import base64, json, sys
from cryptography.fernet import Fernet
def fernet(key):
    key = key if len(key) >= 32 else key + key
    return Fernet(base64.b64encode(key[:32].encode('utf-8')))
`;

const havePython = python('import cryptography.fernet', '').ok;
// Under CI the interoperability check must run: .ci/run installs python3-cryptography, so its absence fails.
if (!havePython && process.env.CI === 'true') throw new Error('python3-cryptography is required under CI (apt-get install python3-cryptography)');
const pySkip = havePython ? {} : { skip: 'python3-cryptography is not installed (apt-get install python3-cryptography; .ci/run installs it)' };

describe("Python cryptography's Fernet, both ways", { ...pySkip, timeout: 60000 }, () => {
  const cases: [string, string][] = [
    [A, 'correct horse battery staple'],
    [B, 'Grüße, 世界 ☃ and an emoji 😀'],
    [C, '{"flavor": "m1.tiny", "n": [1, 2.5, null]}'],
    ['twenty-chars-key-xyz', ''],
    [D, 'x'.repeat(1000)],
  ];
  test('tokens made by Python open with ours', () => {
    const r = python(
      `${HEAT_KEY_PY}
cases = json.load(sys.stdin)
print(json.dumps([fernet(k).encrypt(p.encode('utf-8')).decode('ascii') for k, p in cases]))`,
      JSON.stringify(cases),
    );
    assert.ok(r.ok, r.err);
    const tokens = JSON.parse(r.out) as string[];
    cases.forEach(([k, p], i) => assert.equal(decrypt(FERNET, tokens[i]!, k), p));
  });
  test('tokens made by ours open with Python', () => {
    const tokens = cases.map(([k, p]) => encrypt(p, k)[1]);
    const r = python(
      `${HEAT_KEY_PY}
cases, tokens = json.load(sys.stdin)
print(json.dumps([fernet(k).decrypt(t.encode('ascii')).decode('utf-8') for (k, p), t in zip(cases, tokens)]))`,
      JSON.stringify([cases, tokens]),
    );
    assert.ok(r.ok, r.err);
    assert.deepEqual(JSON.parse(r.out), cases.map(([, p]) => p));
  });
  test('a token of ours under the wrong key is refused by Python too', () => {
    const [, t] = encrypt('secret', A);
    const r = python(`${HEAT_KEY_PY}\nfernet(sys.argv[-1] if False else ${JSON.stringify(Z)}).decrypt(sys.stdin.read().encode())`, t);
    assert.ok(!r.ok);
    assert.match(r.err, /InvalidToken/);
  });
});
