/**
 * `heat-manage db_check`'s report: text for a person, or one JSON document (`--json`) for tools,
 * and the exit code (0 only when the schema is exactly that of the recorded version).
 */
import { describeDifference } from '../../migrate/catalog/diff.js';
import { summarize } from '../../migrate/catalog/examine.js';
import type { SchemaExamination } from '../../migrate/migrator.js';

const FINISHER = { finisher: '`heat-manage db_sync`' };
const pad = (v: number) => String(v).padStart(3, '0');

export function schemaReport(r: SchemaExamination & { revision?: string }, json: boolean): { text: string; exitCode: number } {
  const e = r.examination;
  // Under Alembic the schema is compared with the revision's (heat/db/migration.ts dbCheck).
  const named = (text: string) => (r.revision && e ? text.replace(`version ${e.version}`, `revision ${r.revision}`).replace(`version ${pad(e.version)}'s`, `revision ${r.revision}'s`) : text);
  const exitCode = e?.state === 'exact' ? 0 : 1;
  if (json) {
    const doc = e
      ? {
          version: e.version,
          ...(r.revision ? { revision: r.revision } : {}),
          state: e.state,
          matches: e.state === 'exact',
          differences: e.differences,
          next: e.next && { step: e.next.to, label: e.next.label, ...e.next.assessment },
          sameAs: e.sameAs,
          summary: summarize(e, FINISHER),
        }
      : { version: null, state: typeof r.version === 'string' ? r.version : 'unknown', matches: false, tables: r.tables ?? [], matching: r.matching ?? [] };
    return { text: `${JSON.stringify(doc)}\n`, exitCode };
  }
  if (!e) {
    const why = r.version === 'no-table' ? 'no migrate_version table' : "migrate_version has no row for repository 'heat'";
    let text = `the database is not under version control (${why})`;
    if (r.tables && r.tables.length === 0) text += ' and has no tables: `heat-manage db_sync` creates the schema';
    else if (r.matching?.length) text += `; its schema is exactly that of version ${r.matching.join(', ')}: record that version in migrate_version (a stamp), then run \`heat-manage db_sync\``;
    else if (r.tables) text += `; its tables (${r.tables.slice(0, 5).join(', ')}${r.tables.length > 5 ? ', ...' : ''}) are not the exact schema of any version this heat-manage knows`;
    return { text: `${text}\n`, exitCode };
  }
  if (e.state === 'exact' || e.state === 'no-expected-schema') return { text: `${named(summarize(e, FINISHER))}\n`, exitCode };
  const lines = [named(`schema differs from version ${pad(e.version)}'s (${e.live.dialect}, ${e.differences.length} difference${e.differences.length === 1 ? '' : 's'}):`)];
  for (const d of e.differences) lines.push(`  ${describeDifference(d)}`);
  lines.push(named(summarize(e, FINISHER)));
  return { text: `${lines.join('\n')}\n`, exitCode };
}
