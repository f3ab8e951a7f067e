/**
 * The realistic dataset (issue 10): the same tables and row counts as bench/dataset.ts, but with
 * text shaped like a real Heat database — N raw_templates that differ row by row (a pool of
 * generated templates, see templates-realistic.ts, each row's copy made unique by its row number),
 * resource metadata of up to a few KB, pickled event properties, varied stack parameters — and,
 * optionally, a few big templates (1-16 MB). Deterministic: the same seed gives the same bytes.
 *
 *   datasetSql('mysql', 20000, realisticContent({ seed: 42, big: [1 << 20, 12 << 20] }))
 */
import { datasetSql, type DatasetContent, type SqlHelpers } from './dataset.js';
import { heatManage, timed, type Backend, type BenchDb } from './lib.js';
import { pickledProperties, realisticTemplate, resourceMetadata, rng, type GeneratedTemplate } from './templates-realistic.js';

export interface RealisticOptions {
  seed?: number;
  /** Distinct templates in the pool (each row copies one, with its row number inside). */
  pool?: number;
  /** Sizes (bytes) of big templates that replace rows 1, 2, ...; each under the server's packet limit. */
  big?: readonly number[];
}

export const MARKER = '@@ROW@@';

/** A SQL string literal of `s` for the backend's client. */
export function literal(backend: Backend, s: string): string {
  return backend === 'mysql' ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : `'${s.replace(/'/g, "''")}'`;
}

function blob(backend: Backend, b: Buffer): string {
  return backend === 'mysql' ? `X'${b.toString('hex')}'` : backend === 'postgresql' ? `decode('${b.toString('hex')}', 'hex')` : `X'${b.toString('hex')}'`;
}

/** The pool of templates a dataset of n rows uses (also for the codec micro-benchmark). */
export function templatePool(n: number, o: RealisticOptions = {}): GeneratedTemplate[] {
  const r = rng(o.seed ?? 42);
  return Array.from({ length: Math.min(n, o.pool ?? 1500) }, () => realisticTemplate(r, { marker: MARKER }));
}

export function realisticContent(n: number, o: RealisticOptions = {}): (h: SqlHelpers) => DatasetContent {
  return (h) => {
    const b = h.backend;
    const long = b === 'mysql' ? 'LONGTEXT' : 'TEXT';
    const bin = b === 'mysql' ? 'BLOB' : b === 'postgresql' ? 'BYTEA' : 'BLOB';
    const pool = templatePool(n, o);
    const r = rng((o.seed ?? 42) + 1);
    const metas = Array.from({ length: 300 }, () => resourceMetadata(r));
    const props = Array.from({ length: 100 }, () => pickledProperties(r));
    const params = Array.from({ length: 8 }, (_, k) =>
      JSON.stringify({ parameters: { flavor: 'm1.small', image: `cirros-${k}`, label: 'Größe — 日本語', count: k }, resource_registry: { 'OS::Custom': 'x.yaml' } }),
    );
    const bigR = rng((o.seed ?? 42) + 2);
    const big = (o.big ?? []).map((size) => realisticTemplate(bigR, { size, style: 'indent2' }).text);
    const prelude = [
      b === 'mysql' ? 'SET NAMES utf8mb4' : b === 'postgresql' ? "SET client_encoding TO 'UTF8'" : 'SELECT 1',
      `CREATE TABLE bench_tpl (k INTEGER PRIMARY KEY, body ${long})`,
      `CREATE TABLE bench_meta (k INTEGER PRIMARY KEY, body ${long})`,
      `CREATE TABLE bench_props (k INTEGER PRIMARY KEY, body ${bin})`,
      `CREATE TABLE bench_params (k INTEGER PRIMARY KEY, body ${long})`,
      `CREATE TABLE bench_big (k INTEGER PRIMARY KEY, body ${long})`,
      ...pool.map((t, k) => `INSERT INTO bench_tpl VALUES (${k}, ${literal(b, t.text)})`),
      ...metas.map((t, k) => `INSERT INTO bench_meta VALUES (${k}, ${literal(b, t)})`),
      ...props.map((t, k) => `INSERT INTO bench_props VALUES (${k}, ${blob(b, t)})`),
      ...params.map((t, k) => `INSERT INTO bench_params VALUES (${k}, ${literal(b, t)})`),
      ...big.map((t, k) => `INSERT INTO bench_big VALUES (${k + 1}, ${literal(b, t)})`),
    ];
    const k = pool.length;
    return {
      prelude,
      templateJoin: ` JOIN bench_tpl p ON p.k = ${h.mod('n * 7919', k)}`,
      template: `REPLACE(p.body, '${MARKER}', ${h.text('n')})`,
      resourceJoin: ` JOIN bench_meta m ON m.k = ${h.mod('n', metas.length)}`,
      metadata: 'm.body',
      eventJoin: ` JOIN bench_props pr ON pr.k = ${h.mod('n', props.length)}`,
      properties: 'pr.body',
      stackJoin: ` JOIN bench_params pa ON pa.k = ${h.mod('n', params.length)}`,
      parameters: 'pa.body',
      cleanup: [
        ...(big.length ? ['UPDATE raw_template SET template = (SELECT body FROM bench_big WHERE bench_big.k = raw_template.id) WHERE id IN (SELECT k FROM bench_big)'] : []),
        'DROP TABLE bench_tpl', 'DROP TABLE bench_meta', 'DROP TABLE bench_props', 'DROP TABLE bench_params', 'DROP TABLE bench_big',
      ],
    };
  };
}

/** Bytes of template text a dataset of n rows holds (pool copies + big ones), for MB/s figures. */
export function templateBytes(n: number, o: RealisticOptions = {}): number {
  const pool = templatePool(n, o);
  let total = 0;
  for (let i = 1; i <= n; i++) total += Buffer.byteLength(pool[(i * 7919) % pool.length]!.text) - MARKER.length + String(i).length;
  return total;
}

/** A fresh database at version 34 loaded with the realistic dataset of `size` stacks (`big`: template sizes in bytes). */
export function loadRealistic(db: BenchDb, b: Backend, size: number, o: { seed: number; big?: number[] }): void {
  timed(heatManage(['db_sync', '34']), { env: { OS_DATABASE__CONNECTION: db.url } });
  db.client(`${datasetSql(b, size, realisticContent(size, { seed: o.seed, big: o.big ?? [] })).join(';\n')};\n`);
}
