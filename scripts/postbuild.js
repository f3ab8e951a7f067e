#!/usr/bin/env node
// After tsc: copy the non-TypeScript files that the compiled tree needs (repository config, .sql
// scripts, templates) into dist/, and make the bins executable.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const COPY = /(^migrate\.cfg$|^README$|\.sql$|\.tmpl$)/;
/** A repository's expected schemas (docs/CATALOG.md): schema/<dialect>/NNN.tsv, <revision>.tsv, fresh/<revision>.tsv. */
const SCHEMA = /[/\\]schema[/\\](mysql|postgresql|sqlite)[/\\](fresh[/\\])?(\d+|[0-9a-f]{12})\.tsv$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (COPY.test(name) || SCHEMA.test(p)) {
      const out = join(dist, relative(root, p));
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(p, out);
    }
  }
}
for (const d of ['migrate', 'migrate_repo', 'heat', 'examples', 'test/fixtures']) {
  if (existsSync(join(root, d))) walk(join(root, d));
}
for (const b of ['migrate.js', 'heat-manage.js']) {
  const p = join(dist, 'bin', b);
  if (existsSync(p)) chmodSync(p, 0o755);
}

// heat-manage start-up: bundle its bin with esbuild (a devDependency; without it the tsc output
// stays as it is). One entry file plus one chunk per lazily imported part (config, the db layer,
// each dialect, the management commands), so a command loads only what it needs, from a few files
// instead of ~60 modules resolved one by one. The chunks sit in dist/heat/bundle/, at the depth
// of dist/heat/*/ so that paths relative to import.meta.url (../../migrate_repo/, package.json)
// stay right. Native and large lazily used packages stay external (resolved from node_modules).
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('postbuild: esbuild not installed; dist/bin/heat-manage.js is not bundled');
}
const heatBin = join(dist, 'bin', 'heat-manage.js');
if (esbuild && existsSync(heatBin) && readFileSync(heatBin, 'utf8').includes('bundled by scripts/postbuild.js')) {
  console.error('postbuild: dist/bin/heat-manage.js is already the bundle stub (tsc did not re-emit it); rebuild from clean');
  process.exitCode = 1;
} else if (esbuild) {
  const bin = heatBin;
  const out = join(dist, 'heat', 'bundle');
  rmSync(out, { recursive: true, force: true }); // no stale chunks from an earlier build
  await esbuild.build({
    entryPoints: { 'heat-manage': bin },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3', 'pg-native', 'typeorm', 'tsx', 'pino', 'pino-pretty'],
    // Bundled CommonJS packages call require(): give the ESM chunks one.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  writeFileSync(bin, "#!/usr/bin/env node\n// Process edge of `heat-manage`, bundled by scripts/postbuild.js (bin/heat-manage.ts is the source).\nawait import('../heat/bundle/heat-manage.js');\n");
  chmodSync(bin, 0o755);
}
