/**
 * The commands of sqlalchemy-migrate's `versioning/api.py`, one function each, returning typed
 * results. Thin callers of the Migrator: nothing here decides how to lock or walk, and nothing
 * prints (progress goes to `onStep` and the logger; the CLI prints).
 */
import { SqlBackend } from './connection.js';
import { DEFAULT_LOCK_TIMEOUT_S } from './defaults.js';
import { InvalidVersionError, UsageError } from './errors.js';
import { Migrator, type MigrateResult, type SchemaExamination, type StepEvent } from './migrator.js';
import { loadRepository, type Repository } from './repository.js';
import type { Logger } from './script/contract.js';
import { needsTypeorm } from './script/detect.js';
import { parseUrl, type ParsedUrl } from './url.js';

import type { EngineHooks } from './hooks.js';

export type { MigrateResult, StepEvent } from './migrator.js';

export interface RunOptions {
  readonly logger: Logger;
  readonly lockTimeoutMs?: number;
  readonly onStep?: (e: StepEvent) => void;
  /** Log every statement at debug level. */
  readonly logSql?: boolean;
  /** Test hooks and environment-derived settings, injected by the process edge. */
  readonly hooks?: EngineHooks;
  /** How long one statement may wait for another session's table or row lock, ms (default 30 s). */
  readonly lockWaitTimeoutMs?: number;
  /** Stops a run (SIGTERM/SIGINT at the process edge): the statement in flight is cancelled. */
  readonly signal?: AbortSignal;
  /** The command that prints the full schema report, named when a database's state is refused. */
  readonly reportCommand?: string;
}

/**
 * A version argument: an integer >= 0 (leading/trailing spaces and leading zeros allowed, as
 * Python's int()). Anything else is a usage error (the Python tool printed a traceback).
 */
export function parseVersion(value: unknown, what = 'version'): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const s = String(value).trim();
  if (/^[+-]?\d+$/.test(s)) {
    const n = Number(s);
    if (n < 0) throw new UsageError(`${what} must be a non-negative integer, got '${String(value)}' (Version number cannot be negative)`);
    if (!Number.isSafeInteger(n)) throw new UsageError(`${what} '${s}' is too large`);
    return n;
  }
  throw new UsageError(`${what} must be a non-negative integer, got '${String(value)}'`);
}

function repoOf(repository: string | Repository): Repository {
  return typeof repository === 'string' ? loadRepository(repository) : repository;
}

/** The Migrator for a URL and a repository (the URL is parsed here, once). */
export async function migratorFor(url: string | ParsedUrl, repository: string | Repository, o: RunOptions): Promise<Migrator> {
  const repo = repoOf(repository);
  const u = typeof url === 'string' ? parseUrl(url) : url;
  const lockTimeoutMs = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000;
  const backend = await SqlBackend.create(u, { table: repo.config.versionTable, repositoryId: repo.config.repositoryId }, { ...o, lockTimeoutMs });
  return new Migrator({
    repo,
    backend,
    logger: o.logger,
    lockTimeoutMs,
    lockWaitTimeoutMs: o.lockWaitTimeoutMs,
    signal: o.signal,
    onStep: o.onStep,
    reportCommand: o.reportCommand,
    needsTypeorm: (steps) => needsTypeorm(steps.map((s) => s.script)),
  });
}

/**
 * Where the database stands against the expected schema of its recorded version (the repository's
 * schema/ catalogs, docs/CATALOG.md): read-only, no lock, nothing stamped.
 */
export async function examine(url: string | ParsedUrl, repository: string | Repository, o: RunOptions): Promise<SchemaExamination> {
  return (await migratorFor(url, repository, o)).examine();
}

/** `version REPO`: the latest version in the repository. */
export function version(repository: string | Repository): number {
  return repoOf(repository).latest;
}

/** `db_version URL REPO`. */
export async function dbVersion(url: string, repository: string | Repository, o: RunOptions): Promise<number> {
  return (await migratorFor(url, repository, o)).version();
}

/** `version_control URL REPO [VERSION]`: creates the table if absent and inserts the row. */
export async function versionControl(url: string, repository: string | Repository, ver: unknown, o: RunOptions): Promise<number> {
  const repo = repoOf(repository);
  let v = 0;
  if (ver !== undefined && ver !== null) {
    try {
      v = parseVersion(ver);
    } catch {
      throw new InvalidVersionError(`${String(ver)} (a version must be an integer from 0 to ${repo.latest})`);
    }
    if (v > repo.latest) throw new InvalidVersionError(`${v} (the repository's latest version is ${repo.latest})`);
  }
  await (await migratorFor(url, repo, o)).stamp(v);
  return v;
}

/** `drop_version_control URL REPO`: removes this repository's row (and the table if it was the last). */
export async function dropVersionControl(url: string, repository: string | Repository, o: RunOptions) {
  return (await migratorFor(url, repository, o)).dropControl();
}

export interface MigrateOptions extends RunOptions {
  /** Print the SQL instead of running it. */
  readonly previewSql?: boolean;
  /** An empty database at the initial version gets the target's expected schema directly (fresh.ts); default: the steps run. */
  readonly fresh?: boolean;
}

async function migrateTo(url: string, repository: string | Repository, direction: 'upgrade' | 'downgrade', ver: unknown, o: MigrateOptions): Promise<MigrateResult> {
  const target = ver === undefined || ver === null ? undefined : parseVersion(ver);
  const u = parseUrl(url);
  const m = await migratorFor(u, repository, o);
  if (!o.previewSql) return m.migrate({ target, direction, fresh: o.fresh });
  const p = await m.prepare({ target, direction }); // the whole path, checked before anything runs
  if ('done' in p) return p.done;
  const { preview } = await import('./preview.js'); // loads the script machinery: only when asked
  await preview(u, p.plan.steps, o);
  return { from: p.plan.from, to: p.plan.from, steps: [] };
}

/** `upgrade URL REPO [VERSION]`. */
export function upgrade(url: string, repository: string | Repository, ver: unknown, o: MigrateOptions) {
  return migrateTo(url, repository, 'upgrade', ver, o);
}

/** `downgrade URL REPO VERSION`. */
export function downgrade(url: string, repository: string | Repository, ver: unknown, o: MigrateOptions) {
  if (ver === undefined || ver === null) throw new UsageError('downgrade needs a VERSION');
  return migrateTo(url, repository, 'downgrade', ver, o);
}

/**
 * `test URL REPO`: runs the latest script's upgrade and then its downgrade directly, without reading
 * or writing the version table (as the Python tool does). Each runs in a transaction where the
 * backend allows it.
 */
export async function test(
  url: string,
  repository: string | Repository,
  o: RunOptions & { onPhase?: (phase: 'upgrade' | 'downgrade', done: boolean) => void },
): Promise<void> {
  await (await migratorFor(url, repository, o)).rehearse(o.onPhase);
}
