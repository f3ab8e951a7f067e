#!/usr/bin/env node
// Runs the compiled test files with Node's built-in runner. Files are named explicitly (Node 20
// does not expand globs, and a runner given no files passes silently). Usage:
//   node scripts/run-tests.js [unit|integration|e2e ...]   (default: all)
// Afterwards it scans everything the suite printed (the runner's output and every child process
// output that tests recorded in TEST_OUTPUT_LOG) for the test passwords of
// test/support/secrets.ts, and fails if one appears.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'conformance', 'integration', 'e2e'];
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
const logDir = mkdtempSync(join(tmpdir(), 'test-output-'));
const outputLog = join(logDir, 'children.log');
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const chunks = [];
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: ['ignore', 'pipe', 'pipe'],
  cwd: root,
  env: { ...process.env, TEST_OUTPUT_LOG: outputLog },
});
child.stdout.on('data', (d) => {
  chunks.push(d);
  process.stdout.write(d);
});
child.stderr.on('data', (d) => {
  chunks.push(d);
  process.stderr.write(d);
});
const code = await new Promise((res) => child.on('close', (c) => res(c ?? 1)));

const { TEST_PASSWORDS } = await import(pathToFileURL(join(root, 'dist', 'test', 'support', 'secrets.js')).href);
const everything = Buffer.concat(chunks).toString('utf8') + (existsSync(outputLog) ? readFileSync(outputLog, 'utf8') : '');
const leaks = TEST_PASSWORDS.filter((p) => everything.includes(p) || everything.includes(encodeURIComponent(p)));
rmSync(logDir, { recursive: true, force: true });
if (leaks.length) {
  console.error(`password leak check: FAILED — ${leaks.length} test password(s) appeared in the suite's output`);
  process.exit(1);
}
console.error(`password leak check: passed (${TEST_PASSWORDS.length} passwords, ${everything.length} bytes of output scanned)`);
process.exit(code);
