#!/usr/bin/env node
// Runs the compiled test files with Node's built-in runner. Files are named explicitly (Node 20
// does not expand globs, and a runner given no files passes silently). Usage:
//   node scripts/run-tests.js [unit|integration|e2e ...]   (default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const s of suites) walk(join(root, 'dist', 'test', s));
if (files.length === 0) {
  console.error(`no test files found under dist/test/{${suites.join(',')}}: build first (npm run build)`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
