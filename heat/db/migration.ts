/**
 * Heat's migration entry points (heat/db/sqlalchemy/migration.py + api.py's db_sync wrapper):
 * the repository is `migrate_repo/` next to this package's compiled code, INIT_VERSION is 27, and a
 * version lower than the current one is refused ("heat-manage never downgrades").
 *
 * After Mitaka (../shared/heat-lineage/SPEC.md A5): the legacy versions go on to Train's 86, then
 * Heat master's Alembic revisions (migrate_repo/heat/lineage.ts). `db_sync` without VERSION still
 * means Mitaka's 71; `db_sync 86`; `db_sync head` or a revision id runs what is missing up to 86,
 * stamps the first revision on a database checked to be exactly at 86 (never blind), then the
 * revisions. A database already further along is never taken lower: without VERSION it is checked
 * to be exactly its version's schema, and then there is nothing to do.
 */
import { fileURLToPath } from 'node:url';
import { ConnectionError, InterruptedError, MigrateError, UsageError, describe } from '../../migrate/errors.js';
import { loadRepository, type Repository } from '../../migrate/repository.js';
import { expectedSchemas, withSchemas, type ExpectedSchemas } from '../../migrate/schemas.js';
import * as api from '../../migrate/api.js';
import * as oslo from '../../migrate/oslo.js';
import type { MigrateResult, RunOptions } from '../../migrate/api.js';
import type { Logger } from '../../migrate/script/contract.js';
import { introspect } from '../../migrate/catalog/introspect.js';
import { diff } from '../../migrate/catalog/diff.js';
import { examine, firstDifferences } from '../../migrate/catalog/examine.js';
import { examineAt } from '../../migrate/schema-gate.js';
import { openSession } from '../../migrate/session.js';
import {
  head,
  isRevisionName,
  positionOf,
  readChainState,
  resolveRevision,
  revisionSchema,
  stampedEarlySchemas,
  upgradeRevisions,
  type Revision,
  type RevisionRunResult,
} from '../../migrate/revisions.js';
import { HEAT_LINEAGE } from '../../migrate_repo/heat/lineage.js';

export const INIT_VERSION = 27;
/** What `db_sync` without VERSION goes to, and the schema 6.0.0's management commands know. */
export const DEFAULT_VERSION = HEAT_LINEAGE.mitaka;

/** Heat's own error class (heat.common.exception.Error): printed as `ERROR: <message>`. */
export class HeatError extends MigrateError {}

/** The compiled repository shipped with this package (dist/migrate_repo). */
export function repositoryPath(): string {
  return fileURLToPath(new URL('../../migrate_repo/', import.meta.url)).replace(/\/$/, '');
}

let cached: Repository | undefined;
export function repository(): Repository {
  return (cached ??= loadRepository(repositoryPath()));
}

export interface DbOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly maxRetries: number;
  readonly retryIntervalS: number;
  readonly logSql?: boolean;
  readonly onStep?: RunOptions['onStep'];
  /** Test hooks and environment-derived engine settings (heat/config's engineHooks). */
  readonly hooks?: RunOptions['hooks'];
  /** Sleep used between connection attempts (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [database] lock_wait_timeout, ms. */
  readonly lockWaitTimeoutMs?: number;
  /** Stops the run (SIGTERM/SIGINT at the process edge). */
  readonly signal?: AbortSignal;
}

/** Sleeps `ms`, or less when `signal` aborts first. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A db_sync version argument: an integer from INIT_VERSION to the latest; usage error otherwise. */
export function parseSyncVersion(value: string | undefined, latest: number): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  if (!/^\d+$/.test(s)) {
    throw new UsageError(`version should be an integer from ${INIT_VERSION} to ${latest}, got '${value}'`);
  }
  const v = Number(s);
  if (v > latest) {
    throw new HeatError(`Database schema file with version ${v} doesn't exist: the latest Heat schema version is ${latest}`);
  }
  if (v < INIT_VERSION) {
    throw new HeatError(`version ${v} is below Heat's initial schema version ${INIT_VERSION}: use a version from ${INIT_VERSION} to ${latest}`);
  }
  return v;
}

/**
 * Runs `fn`, retrying while the database refuses connections (oslo.db's max_retries /
 * retry_interval; -1 retries forever). Authentication errors and unknown databases are not retried.
 */
export async function withRetries<T>(o: DbOptions, fn: () => Promise<T>): Promise<T> {
  const sleep = o.sleep ?? ((ms: number) => abortableSleep(ms, o.signal));
  const stopped = (): InterruptedError | undefined =>
    o.signal?.aborted ? new InterruptedError(`${describe(o.signal.reason)} while waiting for the database; nothing was applied`, o.signal.reason) : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConnectionError) || !e.retryable) throw e;
      const stop = stopped();
      if (stop) throw stop;
      if (o.maxRetries !== -1 && attempt > o.maxRetries) {
        throw new ConnectionError(
          `${e.message}; gave up after ${attempt} attempts ([database] max_retries = ${o.maxRetries}, retry_interval = ${o.retryIntervalS} s)`,
          false,
          { cause: e },
        );
      }
      o.logger.warn(
        { attempt, maxRetries: o.maxRetries },
        `database not reachable (attempt ${attempt}${o.maxRetries === -1 ? '' : ` of ${o.maxRetries + 1}`}): ${e.message}; retrying in ${o.retryIntervalS} s`,
      );
      await sleep(o.retryIntervalS * 1000);
      const late = stopped();
      if (late) {
        o.logger.warn(late.message);
        throw late;
      }
    }
  }
}

function runOptions(o: DbOptions): oslo.SyncOptions {
  return {
    initVersion: INIT_VERSION,
    logger: o.logger,
    lockTimeoutMs: o.lockTimeoutMs,
    logSql: o.logSql,
    onStep: o.onStep,
    hooks: o.hooks,
    lockWaitTimeoutMs: o.lockWaitTimeoutMs,
    signal: o.signal,
    reportCommand: 'heat-manage db_check',
  };
}

/** What db_sync was asked for. */
export type SyncTarget =
  | { readonly kind: 'default' }
  | { readonly kind: 'legacy'; readonly version: number }
  | { readonly kind: 'revision'; readonly revision: Revision };

/** `db_sync`'s VERSION: none, an integer (a legacy version), `head` or a revision id (or a unique prefix). */
export function parseSyncTarget(value: string | undefined, latest: number): SyncTarget {
  if (value === undefined) return { kind: 'default' };
  const s = String(value).trim();
  if (/^\d+$/.test(s)) return { kind: 'legacy', version: parseSyncVersion(s, latest)! };
  if (isRevisionName(s)) {
    try {
      return { kind: 'revision', revision: resolveRevision(HEAT_LINEAGE, s) };
    } catch (e) {
      throw new HeatError((e as Error).message);
    }
  }
  throw new UsageError(`version should be an integer from ${INIT_VERSION} to ${latest}, 'head' or an Alembic revision id, got '${value}'`);
}

/** Where a database stands: its Alembic revision (null: none) and its legacy `heat` row (null: none). */
export interface LineageState {
  readonly tables: readonly string[];
  readonly revision: string | null;
  readonly legacy: number | null;
}

export async function readLineageState(url: string, logger: Logger, o: { readOnly?: boolean } = {}): Promise<LineageState> {
  const s = await openSession(url, { logger, readOnly: o.readOnly });
  try {
    const tables = await s.adapter.listTables(s);
    const { revision } = await readChainState(s, HEAT_LINEAGE, tables);
    const vt = repository().config.versionTable;
    let legacy: number | null = null;
    if (tables.includes(vt)) {
      const rows = await s.query(`SELECT version FROM ${vt} WHERE repository_id = ?`, [repository().config.repositoryId]);
      if (rows[0] && rows[0].version !== null) legacy = Number(rows[0].version);
    }
    return { tables, revision, legacy };
  } finally {
    await s.close();
  }
}

/** db_sync's answer: the legacy run's result, and the revisions' when it went past 86. */
export interface SyncResult extends MigrateResult {
  readonly revisions?: RevisionRunResult;
  /** Nothing to do on a database further along than asked (the schema was checked first). */
  readonly already?: string;
}

/** The live schema must be exactly `want`: else a one-line refusal naming db_check. */
async function checkExact(url: string, logger: Logger, what: string, want: (d: 'mysql' | 'postgresql' | 'sqlite') => ReturnType<typeof revisionSchema>): Promise<void> {
  const s = await openSession(url, { logger });
  try {
    const expected = want(s.dialect);
    if (!expected) return;
    const live = await introspect(s);
    const d = diff(expected, live);
    if (d.length) throw new HeatError(`the database says ${what} but its schema is not that version's (${firstDifferences(d)}); nothing was changed: see heat-manage db_check`);
  } finally {
    await s.close();
  }
}

/** Before a stamp: the database is exactly at 86 (its `heat` row and its schema), never stamped blind. */
function exactlyAtTrain(repo: Repository) {
  return async (q: Parameters<typeof examineAt>[1]): Promise<void> => {
    const rows = await q.query(`SELECT version FROM ${repo.config.versionTable} WHERE repository_id = ?`, [repo.config.repositoryId]).catch(() => []);
    const v = rows[0] ? Number(rows[0].version) : undefined;
    if (v !== HEAT_LINEAGE.train) {
      throw new HeatError(`refusing to stamp ${HEAT_LINEAGE.revisions[0]!.id}: the database is at version ${v ?? '(none)'}, not ${HEAT_LINEAGE.train}; nothing was changed`);
    }
    const e = await examineAt(repo, q, HEAT_LINEAGE.train);
    if (e.state !== 'exact') {
      throw new HeatError(`refusing to stamp ${HEAT_LINEAGE.revisions[0]!.id}: the database says ${HEAT_LINEAGE.train} but its schema is not version ${HEAT_LINEAGE.train}'s (${firstDifferences(e.differences)}); nothing was changed: see heat-manage db_check`);
    }
  };
}

/**
 * `heat-manage db_sync [VERSION]` (SPEC A5.1). An empty database gets its target legacy version's
 * schema directly (migrate/fresh.ts), as Heat's squashed migrations did.
 */
export async function dbSync(o: DbOptions, version?: string): Promise<SyncResult> {
  const repo = repository();
  const target = parseSyncTarget(version, repo.latest);
  const legacySync = (to: number) =>
    withRetries(o, () => oslo.dbSync(o.url, repo, to, { ...runOptions(o), refuseLower: 'Cannot migrate to lower schema version.', fresh: true }));
  const st = await withRetries(o, () => readLineageState(o.url, o.logger));
  const train = HEAT_LINEAGE.train;

  if (st.revision !== null) {
    const pos = positionOf(HEAT_LINEAGE, st.revision);
    if (pos < 0) throw new HeatError(`database revision ${st.revision} is newer than this heat-manage (its newest is ${head(HEAT_LINEAGE).id})`);
    if (target.kind === 'legacy') throw new HeatError('You requested an sqlalchemy-migrate database version; this is no longer supported');
    if (st.legacy !== null && st.legacy < train && st.legacy !== 70) {
      // Heat master's blind stamp (SPEC A5.2): its revisions ran on a database whose legacy steps
      // stopped at st.legacy. Run the missing ones (checked against their schemas plus what the
      // revisions added), which ends exactly at revision st.revision's schema; then go on.
      const v = st.legacy;
      o.logger.warn(
        `the database was stamped ${st.revision} (Heat master) while its legacy version is ${v}: versions ${v + 1}..${train} were never applied; applying them now`,
      );
      const early = withSchemas(repo, stampedEarlySchemas(repo, HEAT_LINEAGE, st.revision));
      await withRetries(o, () => oslo.dbSync(o.url, early, train, { ...runOptions(o), refuseLower: 'Cannot migrate to lower schema version.' }));
    }
    const fresh = st.legacy === null;
    if (target.kind === 'default' || positionOf(HEAT_LINEAGE, target.revision.id) <= pos) {
      await withRetries(o, () => checkExact(o.url, o.logger, `revision ${st.revision}`, (d) => revisionSchema(repo, d, st.revision!, { fresh })));
      o.logger.info(`database is at revision ${st.revision}${target.kind === 'default' ? ` (past version ${DEFAULT_VERSION}, which db_sync without VERSION means)` : ''}; nothing to do`);
      return { from: train, to: train, steps: [], already: st.revision };
    }
    const r = await withRetries(o, () => upgradeRevisions(o.url, repo, { ...runOptions(o), chain: HEAT_LINEAGE, target: target.revision, beforeStamp: exactlyAtTrain(repo) }));
    return { from: train, to: train, steps: [], revisions: r };
  }

  if (st.legacy !== null && st.legacy > repo.latest) {
    throw new HeatError(`database version ${st.legacy} is newer than this heat-manage (its newest legacy version is ${repo.latest})`);
  }
  if (target.kind === 'default') {
    if (st.legacy !== null && st.legacy > DEFAULT_VERSION) {
      const v = st.legacy;
      await withRetries(o, () => checkExact(o.url, o.logger, `version ${v}`, (d) => expectedOf(repo, d, v)));
      o.logger.info(`database is at version ${v} (past version ${DEFAULT_VERSION}, which db_sync without VERSION means); nothing to do`);
      return { from: v, to: v, steps: [], already: String(v) };
    }
    return legacySync(DEFAULT_VERSION);
  }
  if (target.kind === 'legacy') return legacySync(target.version);
  // A revision: the legacy steps up to 86 first (6.0.0's to 71, then Train's), then the stamp and the revisions.
  const legacy = await legacySync(train);
  const r = await withRetries(o, () => upgradeRevisions(o.url, repo, { ...runOptions(o), chain: HEAT_LINEAGE, target: target.revision, beforeStamp: exactlyAtTrain(repo) }));
  return { ...legacy, revisions: r };
}

function expectedOf(repo: Repository, d: 'mysql' | 'postgresql' | 'sqlite', v: number) {
  return expectedSchemas(repo).get(d, v);
}

/** db_check's answer; `revision` when the database is under Alembic (its schema is compared with that revision's). */
export type CheckResult = Awaited<ReturnType<typeof api.examine>> & { readonly revision?: string };

/**
 * `heat-manage db_check`: where the database stands against its recorded version's exact schema
 * (under Alembic: its revision's, upgraded or fresh as the database is); writes nothing.
 */
export async function dbCheck(o: DbOptions): Promise<CheckResult> {
  const repo = repository();
  const st = await withRetries(o, () => readLineageState(o.url, o.logger, { readOnly: true }));
  const r = st.revision;
  if (r === null || positionOf(HEAT_LINEAGE, r) < 0) return withRetries(o, () => api.examine(o.url, repo, runOptions(o)));
  const train = HEAT_LINEAGE.train;
  const fresh = st.legacy === null;
  const one: ExpectedSchemas = { get: (d, v) => (v === train ? revisionSchema(repo, d, r, { fresh }) : undefined), versions: () => [train] };
  return withRetries(o, async () => {
    const s = await openSession(o.url, { logger: o.logger, readOnly: true });
    try {
      const examination = await examine(s, { schemas: one, version: train, versionTable: repo.config.versionTable });
      return { version: st.legacy ?? 'no-table', examination, revision: r };
    } finally {
      await s.close();
    }
  });
}

/**
 * `heat-manage db_version`: the Alembic revision once there is one (master's answer), else the
 * legacy version (6.0.0's and 13.0.0's); an empty database is stamped at 27, as oslo.db does.
 */
export async function dbVersion(o: DbOptions): Promise<number | string> {
  const st = await withRetries(o, () => readLineageState(o.url, o.logger));
  if (st.revision !== null) return st.revision;
  return withRetries(o, () => oslo.dbVersion(o.url, repository(), runOptions(o)));
}
