/**
 * Progress of a data step's set-based statement: `rows(e, '057', 'resource ids renumbered', n)`
 * logs `{step, done: n, total: n}` at info level (one statement does the whole table, so there is
 * nothing to report in between).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export function rows(e: MigrateEngine, step: string, what: string, n: number): void {
  e.logger.info({ step, done: n, total: n }, what);
}
