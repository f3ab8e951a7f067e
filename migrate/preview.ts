/**
 * `--preview_sql`: the SQL each step would run, without running it. Module scripts run against a
 * recording engine (their `query`/`execute` writes are collected; reads run), TypeORM's schema
 * builder in SQL-memory mode, and `queryRunner.query()` writes are recorded too; where DDL is
 * transactional everything also runs inside a transaction that is rolled back.
 */
import type { RunOptions } from './api.js';
import { describe } from './errors.js';
import type { PlannedStep } from './repository.js';
import { isRead, makeEngine } from './script/engine.js';
import { runModule, sqlSource } from './script/load.js';
import { openSession } from './session.js';
import type { ParsedUrl } from './url.js';

/** `--preview_sql`: the SQL each step would run; nothing is executed except reads. */
export async function preview(url: ParsedUrl, steps: readonly PlannedStep[], o: RunOptions): Promise<void> {
  const session = await openSession(url, { typeorm: true, logger: o.logger, logSql: o.logSql, hooks: o.hooks });
  const adapter = session.adapter;
  // Belt and braces: where DDL is transactional, everything runs in a transaction that is rolled
  // back; and statements a script sends straight through queryRunner.query() are recorded, not run.
  if (adapter.transactionalDdl) await session.query(adapter.beginSql);
  const qr = session.queryRunner!;
  const realQuery = qr.query.bind(qr);
  let recordTo: string[] | undefined;
  qr.query = ((sql: string, params?: unknown[], structured?: boolean) => {
    if (recordTo && !isRead(sql)) {
      recordTo.push(sql);
      return Promise.resolve(structured ? { records: [], raw: [] } : []);
    }
    return (realQuery as (s: string, p?: unknown[], st?: boolean) => Promise<unknown>)(sql, params, structured);
  }) as typeof qr.query;
  try {
    for (const step of steps) {
      if (step.script.kind === 'sql') {
        o.onStep?.({ type: 'preview', from: step.from, to: step.to, script: step.script.relPath, text: sqlSource(step.script) });
        continue;
      }
      const collected = { sql: [] as string[], notes: [] as string[] };
      recordTo = collected.sql;
      qr.enableSqlMemory();
      const engine = await makeEngine({
        dialect: session.dialect,
        session,
        adapter,
        queryRunner: qr,
        logger: o.logger,
        step: { from: step.from, to: step.to, direction: step.direction },
        resumed: false,
        preview: collected,
      });
      let failure: string | undefined;
      try {
        await runModule(step.script, step.direction, engine);
      } catch (e) {
        failure = describe(e);
      }
      const memory = qr.getMemorySql().upQueries.map((x) => x.query);
      qr.disableSqlMemory();
      recordTo = undefined;
      const lines = [...collected.sql, ...memory].map((s) => `${s.trim()};`);
      if (collected.notes.length) lines.unshift(`-- ${collected.notes[0]}`);
      if (failure) lines.push(`-- cannot preview the rest of this step: it reads data that earlier steps would create or change (${failure})`);
      o.onStep?.({ type: 'preview', from: step.from, to: step.to, script: step.script.relPath, text: `\n${lines.join('\n')}\n` });
    }
  } finally {
    if (adapter.transactionalDdl) await session.query('ROLLBACK').catch(() => undefined);
    await session.close();
  }
}
