/**
 * A compiled module that another user (`nobody`) can run, from any checkout. The checkout may sit
 * in a private directory (mode 0700, like a home directory), where that user cannot reach dist/ or
 * node_modules/; so the module is bundled with esbuild into one file in a world-readable temp dir.
 * Database drivers and TypeORM stay external (the callers stop before connecting); code splitting
 * keeps lazily imported modules (heat-manage's TypeORM commands) in chunks of their own, so that
 * their external imports are resolved only if they run.
 *
 *   const m = readableBundle(join(DIST, 'bin', 'heat-manage.js'));   // m.file: run it as anybody
 *   m.dispose();
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'pg-native', 'mysql2', 'pg', 'typeorm', 'tsx'],
    // Bundled CommonJS code calls require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o755);
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

let checkout: string | undefined;
/**
 * The built checkout (dist/, node_modules/, package.json) at a path every user can reach, for the
 * tests that run the real heat-manage as another user (the kolla uid) and let it connect: a bundle
 * cannot carry the native driver. Hard links where the file system allows (fast), else a copy;
 * made once per test process and removed at its exit. Returns the path of its root.
 */
export function readableCheckout(root: string): string {
  if (checkout) return checkout;
  const dir = mkdtempSync(join(tmpdir(), 'readable-checkout-'));
  chmodSync(dir, 0o755);
  const parts = ['dist', 'node_modules', 'package.json'];
  try {
    execFileSync('cp', ['-al', ...parts, dir], { cwd: root, stdio: 'ignore' });
  } catch {
    execFileSync('cp', ['-a', ...parts, dir], { cwd: root, stdio: 'ignore' });
  }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  checkout = dir;
  return dir;
}
