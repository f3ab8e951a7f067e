/**
 * Small helpers the adapters share: the URL's connect timeout, a driver error's own code, the table
 * a statement works on.
 */
import type { ParsedUrl } from '../url.js';

/** Connection settings shared by the network backends: URL `connect_timeout` (s), default 10 s. */
export function connectTimeoutMs(u: ParsedUrl): number {
  const s = Number(u.query.connect_timeout);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 10000;
}

/** The driver error's own code/errno, also when wrapped by the session (in `cause`). */
export function driverError(e: unknown): { code?: string; errno?: number; message: string } {
  const x = e as { code?: string; errno?: number; message?: string; cause?: { code?: string; errno?: number } };
  return { code: x?.cause?.code ?? x?.code, errno: x?.cause?.errno ?? x?.errno, message: String(x?.message ?? e) };
}

/** The table a statement works on, for messages: `ALTER TABLE stack ...` -> `stack`. */
export function tableOf(sql: string): string | undefined {
  return /\b(?:ALTER\s+TABLE|UPDATE|INSERT\s+INTO|DELETE\s+FROM|INDEX\s+[`"\w$]+\s+ON|DROP\s+TABLE)\s+[`"]?([\w$]+)/i.exec(sql)?.[1];
}
