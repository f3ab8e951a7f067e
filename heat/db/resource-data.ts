/**
 * `resource_data_list RESOURCE_ID`: the resource's data rows in id order, as an ordered map key ->
 * value (a key seen again keeps its first position, as a Python dict), redacted values decrypted
 * with the configured key. The whole map is built before anything is printed.
 */
import { CryptError, decrypt } from '../common/crypt.js';
import { HeatError } from './migration.js';
import type { HeatDb } from './datasource.js';

/** Beyond the `int` column's range no row can match; asking the driver would only fail. */
const INT_MAX = 2 ** 31 - 1;

export async function resourceDataList(db: HeatDb, resourceId: number, key: string): Promise<Map<string | null, string | null>> {
  const rows =
    resourceId > INT_MAX
      ? []
      : await db.ds
          .getRepository('ResourceData')
          .createQueryBuilder('d')
          .select(['d.id AS id', 'd.key AS "key"', 'd.value AS value', 'd.redact AS redact', 'd.decrypt_method AS decrypt_method'])
          .where('d.resource_id = :rid', { rid: resourceId })
          .orderBy('d.id')
          .getRawMany<{ id: number; key: string | null; value: string | null; redact: unknown; decrypt_method: string | null }>();
  if (rows.length === 0) throw new HeatError(`no resource data found for resource ${resourceId}`);
  const out = new Map<string | null, string | null>();
  for (const r of rows) {
    let value = r.value;
    if (truthy(r.redact)) {
      try {
        value = decrypt(r.decrypt_method, r.value, key);
      } catch (e) {
        if (!(e instanceof CryptError)) throw e;
        const why = e.reason === 'wrong-key' ? 'with the configured auth_encryption_key' : `: ${e.message}`;
        throw new HeatError(`resource_data ${r.id} (key '${r.key}') of resource ${resourceId}: cannot decrypt (${String(r.decrypt_method).slice(0, 64)}) ${why}`);
      }
    }
    out.set(r.key, value);
  }
  return out;
}

/** A boolean column as the drivers return it (1/0, true/false, '1'/'0', Buffer on old MySQL). */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v !== '' && v !== '0';
  if (Buffer.isBuffer(v)) return v.some((b) => b !== 0);
  return Boolean(v);
}
