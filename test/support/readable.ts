/**
 * A compiled module that another user (`nobody`) can run, from any checkout. The checkout may sit
 * in a private directory (mode 0700, like a home directory), where that user cannot reach dist/ or
 * node_modules/; so the module is bundled with esbuild into one file in a world-readable temp dir.
 * Database drivers stay external (the callers stop before connecting).
 *
 *   const m = readableBundle(join(DIST, 'bin', 'heat-manage.js'));   // m.file: run it as anybody
 *   m.dispose();
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const require = createRequire(import.meta.url);

export function readableBundle(entry: string): { file: string; dispose(): void } {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'readable-'));
  chmodSync(dir, 0o755);
  const file = join(dir, basename(entry).replace(/\.js$/, '.mjs'));
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'pg-native', 'mysql2', 'pg', 'typeorm', 'tsx'],
    // Bundled CommonJS code calls require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  chmodSync(file, 0o755);
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
