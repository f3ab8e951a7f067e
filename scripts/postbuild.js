#!/usr/bin/env node
// After tsc: copy the non-TypeScript files that the compiled tree needs (repository config, .sql
// scripts, templates) into dist/, and make the bins executable.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const COPY = /(^migrate\.cfg$|^README$|\.sql$|\.tmpl$)/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (COPY.test(name)) {
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
