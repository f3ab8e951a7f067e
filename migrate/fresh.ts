/**
 * The fresh install: an empty database at the repository's initial version gets the target
 * version's expected schema (docs/CATALOG.md) directly, instead of every step's history — what
 * squashed migrations do (sqlalchemy-migrate repositories of OpenStack projects, Alembic's
 * initial revisions), with the catalog as the single source of the schema:
 *
 *   decide  (under the run lock, reading only) the request asks for it, the database has no table
 *           but the version table and the tool's own, it is at the version before the first step,
 *           and the repository has the target's catalog for this backend; or an earlier fresh
 *           install was interrupted (MySQL: its journal row is still `running`/`failed`)
 *   run     one step `<start> -> <target>` named `schema/<dialect>/<NNN>.tsv` in the journal, run
 *           like any step (step.ts): PostgreSQL/SQLite in one transaction with the bump; MySQL
 *           journal row first, then one CREATE TABLE per table (each atomic), then bump + done
 *           -> before the bump, the whole live schema must equal the catalog (the gate's check)
 *   resume  (MySQL) the tables an interrupted install created are each exactly the catalog's; the
 *           missing ones are created, the version recorded once. A table that is not exactly the
 *           catalog's stops the run, nothing written.
 *
 * Rows: a catalog is schema only. A repository whose steps insert rows into an empty database
 * cannot use this path for a target past such a step (Heat's 028..071 insert none).
 */
import { tableOfFact, type Catalog } from './catalog/catalog.js';
import { describeDifference, diff } from './catalog/diff.js';
import { firstDifferences } from './catalog/examine.js';
import type { MigrationConnection } from './connection.js';
import { SchemaStateError, StepResultError } from './errors.js';
import type { PlannedStep, Repository } from './repository.js';
import { expectedSchemas } from './schemas.js';
import type { DialectName, Logger } from './script/contract.js';
import { pad, runStep, type StepContext, type StepOutcome } from './step.js';
import type { StepRecord } from './storage.js';

/** The journal's name for a fresh install to `version`: the catalog it creates. */
export const freshScript = (dialect: DialectName, version: number) => `schema/${dialect}/${pad(version)}.tsv`;
const isFreshRecord = (r: StepRecord) => r.direction === 'upgrade' && /^schema\/\w+\/\d+\.tsv$/.test(r.script);

export interface FreshDecision {
  readonly from: number;
  readonly to: number;
  /** Tables an interrupted install already created (each exactly the catalog's). */
  readonly existing: readonly string[];
  /** The target's catalog without the version table. */
  readonly expected: Catalog;
}

/** The repository's initial version: the one below its first step. */
function initialVersion(repo: Repository): number | undefined {
  const first = repo.versions[0]?.version;
  return first === undefined ? undefined : first - 1;
}

/**
 * Whether this run installs the target schema directly (see the module comment); reads only.
 * `asked`: the request's `fresh` option (an interrupted fresh install is finished either way).
 */
export async function decideFresh(
  repo: Repository,
  c: MigrationConnection,
  at: { version: number; target: number; asked: boolean; logger: Logger },
): Promise<FreshDecision | undefined> {
  const { catalog } = c.inspect;
  if (!catalog || !c.runStatements) return undefined;
  const interrupted = await c.storage.journal.unfinished();
  const resuming = interrupted && isFreshRecord(interrupted) && interrupted.from === at.version ? interrupted : undefined;
  if (!resuming && (!at.asked || at.version !== initialVersion(repo) || at.target <= at.version)) return undefined;
  const to = resuming?.to ?? at.target;
  const { versionTable } = repo.config;
  const app = (x: Catalog) => x.filter((f) => tableOfFact(c.dialect, f) !== versionTable);
  const want = expectedSchemas(repo).get(c.dialect, to);
  if (!want) {
    if (resuming) throw new SchemaStateError(`an interrupted fresh install to ${pad(to)} cannot be finished: the repository has no ${freshScript(c.dialect, to)} any more; nothing was changed`);
    return undefined;
  }
  const expected = app(want);
  const live = app(await catalog());
  const existing = live.tables();
  if (!resuming) return existing.length === 0 ? { from: at.version, to, existing, expected } : undefined;
  // Each table an interrupted install left must be exactly the catalog's (CREATE TABLE is atomic).
  const wrong = existing.filter((t) => !live.only([t]).equals(expected.only([t])));
  if (wrong.length) {
    const d = diff(expected.only(wrong), live.only(wrong)).map(describeDifference);
    throw new SchemaStateError(
      `an interrupted fresh install to ${pad(to)} left tables that are not the catalog's (${d.slice(0, 3).join('; ')}${d.length > 3 ? '; ...' : ''}); nothing was changed`,
    );
  }
  at.logger.warn({ from: at.version, to, existing: existing.length }, `a fresh install to ${pad(to)} was interrupted (${existing.length} tables created): finishing it`);
  return { from: at.version, to, existing, expected };
}

/** Runs the fresh install `d` as one step (step.ts): created, verified, recorded once. */
export async function installFresh(repo: Repository, c: MigrationConnection, d: FreshDecision, x: StepContext): Promise<{ step: PlannedStep; outcome: StepOutcome }> {
  const { materialize } = await import('./catalog/materialize.js');
  const skip = new Set(d.existing);
  const { statements } = materialize(d.expected, { skip: (t) => skip.has(t) });
  const relPath = freshScript(c.dialect, d.to);
  const step: PlannedStep = {
    from: d.from,
    to: d.to,
    version: d.to,
    direction: 'upgrade',
    // Not a script file: `kind` only tells step.ts how to hold the transaction (as a module's).
    script: { version: d.to, relPath, absPath: `${repo.absPath}/${relPath}`, kind: 'module' },
  };
  const { versionTable } = repo.config;
  const outcome = await runStep(c, step, d.existing.length > 0, {
    ...x,
    work: (run) => c.runStatements!(step, statements, run),
    verify: async () => {
      const live = (await c.inspect.catalog!()).filter((f) => tableOfFact(c.dialect, f) !== versionTable);
      if (!live.equals(d.expected)) throw new StepResultError(`the fresh install did not produce version ${d.to}'s schema: ${firstDifferences(diff(d.expected, live))}`);
    },
  });
  return { step, outcome };
}
