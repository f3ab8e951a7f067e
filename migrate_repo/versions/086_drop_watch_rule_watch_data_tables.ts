/**
 * 086 — the tables watch_data and watch_rule are dropped with every row they hold (Heat 13.0.0's
 * `086_drop_watch_rule_watch_data_tables.py`; SPEC A3): CloudWatch-style alarms left Heat in Ocata.
 * The rows are not kept anywhere; how many were discarded is logged. PostgreSQL's owned sequences
 * go with their tables.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const c = await e.schema(['watch_data', 'watch_rule']);
  for (const table of ['watch_data', 'watch_rule']) {
    if (!c.hasTable(table)) continue;
    const [row] = e.preview ? [] : await e.query(`SELECT COUNT(*) AS n FROM ${table}`);
    const n = Number(row?.n ?? 0);
    if (n > 0) e.logger.warn({ table, rows: n }, `step 086 discards the ${n} rows of ${table} with the table, as Heat does`);
    await e.query(`DROP TABLE ${table}`);
  }
}

/** Either table (or real Heat's: an FK or index of them) already gone: finished by `upgrade`. */
export const assess = (s: StepState) => assessBetween(s);
