/**
 * Where a database stands against its recorded version: the one check behind both the upgrade's
 * gate (before a run's first write: the database must be exactly the schema of its version, or a
 * partial state of the next step that the step knows how to finish) and schema reports
 * (`heat-manage db_check`).
 *
 *   exact     the live schema equals the expected schema of its version
 *   partial   it does not, and the next step's `assess` says it is its own unfinished work: the
 *             upgrade finishes it
 *   refuse    the next step recognises the state but cannot finish it (the data it needs is gone)
 *   unknown   anything else (drift, a hand-made change, a state no step knows): nothing is written
 *
 * Nothing here writes; reading the backend's catalog is the only privilege it needs.
 */
import { isRead } from '../script/engine.js';
import type { Assessment, Row, ScriptModule } from '../script/contract.js';
import type { Queryable } from '../dialect/contract.js';
import type { ExpectedSchemas } from '../schemas.js';
import { tableOfFact, type Catalog } from './catalog.js';
import { describeDifference, diff, type Difference } from './diff.js';
import { introspect } from './introspect.js';

/** The note of the verdict on a step whose script has no `assess`. */
export const NO_ASSESS = 'the step has no assess()';

export interface NextStep {
  readonly from: number;
  readonly to: number;
  /** How messages name it: `step 057 (057_resource_uuid_to_id.ts)`. */
  readonly label: string;
  /** Its script's `assess`, loaded on demand (undefined: the script has none). */
  readonly assess: () => Promise<ScriptModule['assess']>;
}

export interface Examination {
  readonly version: number;
  /** The expected schema of `version` (undefined: the repository has none for this backend). */
  readonly expected?: Catalog;
  readonly live: Catalog;
  /** How `live` differs from `expected` (empty when exact or when there is nothing to compare with). */
  readonly differences: readonly Difference[];
  readonly state: 'exact' | 'partial' | 'refuse' | 'unknown' | 'no-expected-schema';
  /** The next step's verdict, when the schema is not exact and there is a next step. */
  readonly next?: { readonly from: number; readonly to: number; readonly label: string; readonly assessment: Assessment };
  /** Other versions whose expected schema the live one equals exactly (a wrong migrate_version). */
  readonly sameAs: readonly number[];
}

export interface ExamineOptions {
  readonly schemas: ExpectedSchemas;
  readonly version: number;
  /**
   * The version table: bookkeeping, not the application's schema; its own definition (made by
   * another release of the tool, or by hand) is not compared.
   */
  readonly versionTable: string;
  readonly next?: NextStep;
  /** The live schema, when already read. */
  readonly live?: Catalog;
}

/** A read-only view of `q` for `assess`. */
function readOnly(q: Pick<Queryable, 'query'>): (sql: string, params?: readonly unknown[]) => Promise<Row[]> {
  return (sql, params) => {
    if (!isRead(sql)) throw new Error(`assess may only read; refused: ${sql.slice(0, 80)}`);
    return q.query(sql, params);
  };
}

export async function examine(q: Pick<Queryable, 'dialect' | 'query'>, o: ExamineOptions): Promise<Examination> {
  const { schemas, version, next } = o;
  const app = (c: Catalog) => c.filter((f) => tableOfFact(c.dialect, f) !== o.versionTable);
  const live = app(o.live ?? (await introspect(q)));
  const expectedAll = schemas.get(q.dialect, version);
  const expected = expectedAll && app(expectedAll);
  const sameAs = (ds: readonly Difference[]) =>
    ds.length === 0 ? [] : schemas.versions(q.dialect).filter((v) => v !== version && app(schemas.get(q.dialect, v)!).equals(live));
  if (!expected) return { version, live, differences: [], state: 'no-expected-schema', sameAs: [] };
  const differences = expected.equals(live) ? [] : diff(expected, live);
  if (differences.length === 0) return { version, expected, live, differences, state: 'exact', sameAs: [] };
  if (!next) return { version, expected, live, differences, state: 'unknown', sameAs: sameAs(differences) };
  const assess = await next.assess();
  const assessment: Assessment = assess
    ? await assess({
        dialect: q.dialect,
        from: next.from,
        to: next.to,
        live,
        before: expected,
        after: ((a) => a && app(a))(schemas.get(q.dialect, next.to)),
        differences,
        query: readOnly(q),
      })
    : { state: 'unknown', note: NO_ASSESS };
  return {
    version,
    expected,
    live,
    differences,
    state: assessment.state,
    next: { from: next.from, to: next.to, label: next.label, assessment },
    sameAs: sameAs(differences),
  };
}

/** The first `n` differences in one line, and how many more. */
export function firstDifferences(ds: readonly Difference[], n = 3): string {
  const head = ds.slice(0, n).map(describeDifference).join('; ');
  return ds.length > n ? `${head}; (+${ds.length - n} more)` : head;
}

export interface Wording {
  /** What finishes a partial state: `the next upgrade`, `heat-manage db_sync`. */
  readonly finisher: string;
  /** Where the full report is: `heat-manage db_check`. */
  readonly report?: string;
}

/** One line saying where the database stands (for logs, refusals and reports). */
export function summarize(e: Examination, w: Wording): string {
  const v = String(e.version).padStart(3, '0');
  switch (e.state) {
    case 'exact':
      return `schema matches version ${e.version}`;
    case 'no-expected-schema':
      return `no expected schema of version ${e.version} for ${e.live.dialect} in the repository: nothing to compare with`;
    case 'partial':
      return `${e.next!.label} is half applied: ${(e.next!.assessment as { summary: string }).summary}; ${w.finisher} will finish it`;
    case 'refuse':
      return `${e.next!.label} was interrupted in a state it cannot finish: ${(e.next!.assessment as { reason: string }).reason}`;
    case 'unknown': {
      const also = e.sameAs.length ? ` (it is exactly the schema of version ${e.sameAs.join(', ')}: the recorded version may be wrong)` : '';
      const note = e.next?.assessment.state === 'unknown' && e.next.assessment.note && e.next.assessment.note !== NO_ASSESS ? ` (${e.next.assessment.note})` : '';
      const what = e.next ? `, nor a state of ${e.next.label} this tool knows how to finish${note}` : '';
      const report = w.report ? `; run \`${w.report}\` for the full report` : '';
      return `the schema is not version ${v}'s${what}${also}: ${firstDifferences(e.differences)}. Restore the database from a backup, or make the schema exactly version ${v}'s by hand${report}`;
    }
  }
}
