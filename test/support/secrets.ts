/**
 * Passwords that tests give to database users and write into config files. None of them may ever
 * appear in any output: scripts/run-tests.js scans the whole suite's output (the runner's own and
 * every child process output recorded with recordOutput) for them and fails the run if it finds one.
 */
import { appendFileSync } from 'node:fs';

/** Contains every character that breaks naive URL/ini handling: @ : / % # ; and a space. */
export const SPECIAL_PASSWORD = 'p@ss:w/rd%23#;x y';
export const WRONG_PASSWORD = 'Wr0ng-Pa55word-7';
export const TEST_PASSWORDS: readonly string[] = [SPECIAL_PASSWORD, WRONG_PASSWORD, 'S3cret-heat-pw'];

/** Appends a child process's output to the suite-wide log (when TEST_OUTPUT_LOG is set). */
export function recordOutput(...texts: readonly (string | Buffer | undefined)[]): void {
  const file = process.env.TEST_OUTPUT_LOG;
  if (!file) return;
  for (const t of texts) if (t !== undefined && t.length) appendFileSync(file, t);
}
