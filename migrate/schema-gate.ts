/**
 * The schema checks around a run, where the repository has expected schemas (docs/CATALOG.md):
 *
 *   gate        before the run's first write: the database is exactly the expected schema of its
 *               version, or a partial state of the first step that the step's `assess` says it
 *               finishes; anything else stops the run with one line and nothing written
 *   verifyStep  after a step's script, before its version bump: the tables the step changes are
 *               exactly the expected schema of its version
 *
 * Both read the backend's catalog only (examine.ts, introspect.ts).
 */
import { diff } from './catalog/diff.js';
import { examine, firstDifferences, NO_ASSESS, summarize, type Examination } from './catalog/examine.js';
import type { MigrationConnection } from './connection.js';
import type { Queryable } from './dialect/contract.js';
import { SchemaStateError, StepResultError } from './errors.js';
import { planSteps, type PlannedStep, type Repository } from './repository.js';
import { expectedSchemas } from './schemas.js';
import type { Logger } from './script/contract.js';
import { loadModule } from './script/load.js';
import { pad } from './step.js';

export const stepLabel = (s: PlannedStep) => `step ${pad(s.to)} (${s.script.relPath.replace(/^versions\//, '')})`;

/**
 * Before a run's first write: the database must be exactly the expected schema of `start`, or a
 * partial state of the first step that its script's `assess` says it finishes (examine.ts).
 * Anything else stops the run here, with nothing written. Skipped where the repository has no
 * expected schema of `start` for this backend.
 */
export async function gate(
  repo: Repository,
  c: MigrationConnection,
  start: number,
  step: PlannedStep,
  o: { logger: Logger; reportCommand?: string; interruptedByUs?: boolean },
): Promise<void> {
  const { query } = c.inspect;
  if (!c.inspect.catalog || !query || !expectedSchemas(repo).get(c.dialect, start)) return;
  const e = await examineAt(repo, { dialect: c.dialect, query }, start, step);
  if (e.state === 'exact') return;
  // A step without `assess` still resumes its own interrupted run, as our step log records it (its
  // script then finds its own progress); any other state of such a step is refused.
  if (e.state === 'unknown' && o.interruptedByUs && e.next?.assessment.state === 'unknown' && e.next.assessment.note === NO_ASSESS) {
    o.logger.warn({ step: step.to }, `${stepLabel(step)} was interrupted in an earlier run of this tool: resuming it`);
    return;
  }
  if (e.state === 'partial') {
    o.logger.warn({ step: step.to, differences: e.differences.length }, `${summarize(e, { finisher: 'this run' })}: finishing it`);
    return;
  }
  // SQLite has no run lock: another process may have moved the database on meanwhile; the step's
  // own version check (in its write transaction) then re-plans.
  if (!c.sessionLock && (await c.storage.version.read()) !== start) return;
  const why = summarize(e, { finisher: 'the next run', report: o.reportCommand });
  throw new SchemaStateError(`${e.state === 'refuse' ? why : `${stepLabel(step)} cannot start: ${why}`}; nothing was changed`, e);
}

/**
 * Where the database stands against version `version` (examine.ts), with the next step's `assess`
 * (`next`: that step; default: the repository's step version -> version + 1, when there is one).
 */
export async function examineAt(repo: Repository, q: Pick<Queryable, 'dialect' | 'query'>, version: number, next?: PlannedStep): Promise<Examination> {
  const step = next ?? (version < repo.latest ? planSteps(repo, version, version + 1, q.dialect)[0] : undefined);
  return examine(q, {
    schemas: expectedSchemas(repo),
    version,
    versionTable: repo.config.versionTable,
    next: step && {
      from: step.from,
      to: step.to,
      label: stepLabel(step),
      assess: async () => (step.script.kind === 'module' ? (await loadModule(step.script)).assess : undefined),
    },
  });
}

/**
 * After a step's script, before its version bump: the tables the step changes must now be exactly
 * the expected schema of its version (a fault of the script on this server stops here: the step
 * rolls back, or on MySQL stays unbumped for the next run's gate to assess).
 */
export async function verifyStep(repo: Repository, c: MigrationConnection, step: PlannedStep): Promise<void> {
  const schemas = expectedSchemas(repo);
  const before = schemas.get(c.dialect, step.from);
  const after = schemas.get(c.dialect, step.to);
  const { catalog } = c.inspect;
  if (step.direction !== 'upgrade' || !before || !after || !catalog) return;
  const tables = before.tablesDifferingFrom(after);
  if (tables.length === 0) return;
  const want = after.only(tables);
  const live = await catalog(tables);
  if (!live.equals(want)) {
    throw new StepResultError(`${stepLabel(step)} did not produce version ${step.to}'s schema: ${firstDifferences(diff(want, live))}`);
  }
}

