/**
 * Heat's encrypted values (heat/common/crypt.py), with node:crypto only:
 *
 *   encrypt('s3cret', key)                         -> ['cryptography_decrypt_v1', 'gAAAAAB...=']
 *   decrypt('cryptography_decrypt_v1', token, key) -> 's3cret'    (also oslo_decrypt_v1, heat_decrypt)
 *
 * Three formats are read; only Fernet (`cryptography_decrypt_v1`) is written, as Heat 6.0.0 does.
 * - Fernet (github.com/fernet/spec): key text doubled when under 32 characters, its first 32
 *   characters as UTF-8 = signing key (0-15) + AES-128 key (16-31); the token's version byte and
 *   HMAC are checked before decrypting; no TTL.
 * - oslo_decrypt_v1 (Kilo/Liberty): base64(IV ‖ AES-CBC(utf8(key[:32]))) with oslo's padding
 *   (p zero bytes then the byte p). Heat does not check the padding and returns '' under a wrong
 *   key; we check it, so a wrong key is an error.
 * - heat_decrypt (Havana): base64(IV ‖ AES-CFB8(utf8(key[:32]))), no padding, no MAC: a wrong key
 *   is seen only when the result is not UTF-8.
 * Results are decoded as strict UTF-8. Errors never contain the key or any plaintext.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const FERNET = 'cryptography_decrypt_v1';
export const METHODS = [FERNET, 'oslo_decrypt_v1', 'heat_decrypt'] as const;
export type DecryptMethod = (typeof METHODS)[number];

/** Why a value did not decrypt: the data does not open with this key, or the key/method is unusable. */
export class CryptError extends Error {
  constructor(
    message: string,
    readonly reason: 'wrong-key' | 'bad-key' | 'unknown-method',
  ) {
    super(message);
  }
}

const chars = (s: string) => [...s];
const strict = new TextDecoder('utf-8', { fatal: true });

const fernetCache = new Map<string, { signing: Buffer; encryption: Buffer }>();

/** The two 16-byte halves of a Fernet key made from Heat's key text (derived once per key). */
function fernetKeys(key: string): { signing: Buffer; encryption: Buffer } {
  let keys = fernetCache.get(key);
  if (!keys) {
    keys = deriveFernetKeys(key);
    if (fernetCache.size > 8) fernetCache.clear();
    fernetCache.set(key, keys);
  }
  return keys;
}

function deriveFernetKeys(key: string): { signing: Buffer; encryption: Buffer } {
  const k = chars(key).length < 32 ? key + key : key;
  const k32 = Buffer.from(chars(k).slice(0, 32).join(''), 'utf8');
  if (k32.length !== 32) {
    throw new CryptError(
      'auth_encryption_key is unusable for Fernet: its first 32 characters must be 32 bytes in UTF-8 (use at least 16 ASCII characters)',
      'bad-key',
    );
  }
  return { signing: k32.subarray(0, 16), encryption: k32.subarray(16) };
}

/** The AES key of the two older formats: utf8(key[:32]), 16, 24 or 32 bytes. */
function aesKey(key: string): Buffer {
  const k = Buffer.from(chars(key).slice(0, 32).join(''), 'utf8');
  if (k.length !== 16 && k.length !== 24 && k.length !== 32) {
    throw new CryptError(`the key is unusable for AES: its first 32 characters are ${k.length} bytes (need 16, 24 or 32)`, 'bad-key');
  }
  return k;
}

const wrongKey = (method: string) => new CryptError(`cannot decrypt (${method}): wrong key or corrupt data`, 'wrong-key');

/** Strict base64 (standard or URL-safe alphabet, with `=` padding, as Python requires). */
function b64(data: string, urlSafe: boolean, method: string): Buffer {
  const re = urlSafe ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/;
  if (!re.test(data) || data.length % 4 !== 0) throw wrongKey(method);
  return Buffer.from(data, urlSafe ? 'base64url' : 'base64');
}

function utf8(b: Buffer, method: string): string {
  try {
    return strict.decode(b);
  } catch {
    throw wrongKey(method);
  }
}

let ivPool = Buffer.alloc(0);
/** 16 fresh random bytes, drawn from a pool refilled 4 KB at a time (one syscall per 256 IVs). */
function freshIv(): Buffer {
  if (ivPool.length < 16) ivPool = randomBytes(4096);
  const iv = ivPool.subarray(0, 16);
  ivPool = ivPool.subarray(16);
  return iv;
}

/** A Fernet token of `plain`; `timestamp` (Unix seconds) and `iv` are for test vectors. */
export function fernetEncrypt(plain: Buffer, key: string, timestamp = Math.floor(Date.now() / 1000), iv: Buffer = freshIv()): string {
  const { signing, encryption } = fernetKeys(key);
  const c = createCipheriv('aes-128-cbc', encryption, iv);
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(timestamp), 1);
  const body = Buffer.concat([head, iv, c.update(plain), c.final()]);
  const mac = createHmac('sha256', signing).update(body).digest();
  // URL-safe alphabet with `=` padding (Python rejects unpadded tokens; Node's base64url has none).
  return Buffer.concat([body, mac]).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function fernetDecrypt(token: string, key: string): Buffer {
  const { signing, encryption } = fernetKeys(key);
  const raw = b64(token, true, FERNET);
  if (raw.length < 9 + 16 + 16 + 32 || raw[0] !== 0x80 || (raw.length - 57) % 16 !== 0) throw wrongKey(FERNET);
  const body = raw.subarray(0, raw.length - 32);
  const mac = createHmac('sha256', signing).update(body).digest();
  if (!timingSafeEqual(mac, raw.subarray(raw.length - 32))) throw wrongKey(FERNET);
  try {
    const d = createDecipheriv('aes-128-cbc', encryption, body.subarray(9, 25));
    return Buffer.concat([d.update(body.subarray(25)), d.final()]);
  } catch {
    throw wrongKey(FERNET);
  }
}

const aesName = (k: Buffer, mode: 'cbc' | 'cfb8') => `aes-${k.length * 8}-${mode}`;

export function osloDecryptV1(data: string, key: string): Buffer {
  const k = aesKey(key);
  const raw = b64(data, false, 'oslo_decrypt_v1');
  if (raw.length < 32 || raw.length % 16 !== 0) throw wrongKey('oslo_decrypt_v1');
  const d = createDecipheriv(aesName(k, 'cbc'), k, raw.subarray(0, 16)).setAutoPadding(false);
  const out = Buffer.concat([d.update(raw.subarray(16)), d.final()]);
  const p = out[out.length - 1]!;
  // oslo's padding: p zero bytes then p (p <= 15). Heat skips this check (a wrong key gives '').
  if (p > 15 || p + 1 > out.length || out.subarray(out.length - 1 - p, out.length - 1).some((b) => b !== 0)) {
    throw wrongKey('oslo_decrypt_v1');
  }
  return out.subarray(0, out.length - 1 - p);
}

export function heatDecrypt(data: string, key: string): Buffer {
  const k = aesKey(key);
  const raw = b64(data, false, 'heat_decrypt');
  if (raw.length < 16) throw wrongKey('heat_decrypt');
  const d = createDecipheriv(aesName(k, 'cfb8'), k, raw.subarray(0, 16));
  return Buffer.concat([d.update(raw.subarray(16)), d.final()]);
}

/** Heat's `encrypt(value)`: the method name and a Fernet token of utf8(value). */
export function encrypt(value: string, key: string): [typeof FERNET, string] {
  return [FERNET, fernetEncrypt(Buffer.from(value, 'utf8'), key)];
}

export function isMethod(m: unknown): m is DecryptMethod {
  return typeof m === 'string' && (METHODS as readonly string[]).includes(m);
}

/** Heat's `decrypt(method, data)`: null when either is null; CryptError otherwise. */
export function decrypt(method: string | null | undefined, data: string | null | undefined, key: string): string | null {
  if (method === null || method === undefined || data === null || data === undefined) return null;
  switch (method) {
    case FERNET:
      return utf8(fernetDecrypt(data, key), method);
    case 'oslo_decrypt_v1':
      return utf8(osloDecryptV1(data, key), method);
    case 'heat_decrypt':
      return utf8(heatDecrypt(data, key), method);
    default:
      throw new CryptError(`unknown decrypt method '${method.slice(0, 64)}' (known: ${METHODS.join(', ')})`, 'unknown-method');
  }
}
