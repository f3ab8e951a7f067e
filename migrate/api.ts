/**
 * The commands of sqlalchemy-migrate's `versioning/api.py`, one function each, returning typed
 * results. Nothing here prints: progress goes to `onStep` and the logger; the CLI prints.
 */
import { InvalidVersionError, UsageError, VersionNotFoundError } from './errors.js';
import { loadRepository, planSteps, type Repository } from './repository.js';
import {
  checkDirection,
  probeVersion,
  versionRef,
  walk,
  withLock,
  type MigrateResult,
  type RunOptions,
} from './runner.js';
import { parseUrl } from './url.js';
import { preview } from './preview.js';
import { needsTypeorm } from './script/detect.js';
import { dropVersionRow, insertVersionRow, readVersion } from './version-table.js';
import { runModule, sqlStatements } from './script/load.js';
import { makeEngine } from './script/engine.js';
import { openSession } from './session.js';
import { adapterFor } from './dialect/adapter.js';
import { inWriteTransaction } from './transaction.js';

export { inWriteTransaction };

export type { MigrateResult, RunOptions, StepEvent } from './runner.js';

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

/** migrate_version.version is INTEGER: a timestamp version does not fit on MySQL/PostgreSQL. */
async function checkFits(dialect: Parameters<typeof adapterFor>[0], version: number): Promise<void> {
  const a = await adapterFor(dialect);
  if (version > a.maxVersion) {
    throw new InvalidVersionError(
      `${version} does not fit migrate_version.version (INTEGER, at most ${a.maxVersion}) on ${dialect}: timestamp-numbered repositories work on SQLite only; use sequential numbers`,
    );
  }
}

function repoOf(repository: string | Repository): Repository {
  return typeof repository === 'string' ? loadRepository(repository) : repository;
}

/** `version REPO`: the latest version in the repository. */
export function version(repository: string | Repository): number {
  return repoOf(repository).latest;
}

/** `db_version URL REPO`. */
export async function dbVersion(url: string, repository: string | Repository, o: RunOptions): Promise<number> {
  return probeVersion(url, repoOf(repository), o);
}

/** `version_control URL REPO [VERSION]`: creates the table if absent and inserts the row. */
export async function versionControl(
  url: string,
  repository: string | Repository,
  ver: unknown,
  o: RunOptions,
): Promise<number> {
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
  await checkFits(parseUrl(url).dialect, v);
  await withLock(url, repo, o, (ls) =>
    inWriteTransaction(ls, () => insertVersionRow(ls.session, ls.adapter, versionRef(repo), repo.path, v)),
  );
  return v;
}

/** `drop_version_control URL REPO`: removes this repository's row (and the table if it was the last). */
export async function dropVersionControl(url: string, repository: string | Repository, o: RunOptions) {
  const repo = repoOf(repository);
  return withLock(url, repo, o, (ls) => inWriteTransaction(ls, () => dropVersionRow(ls.session, ls.adapter, versionRef(repo))));
}

export interface MigrateOptions extends RunOptions {
  /** Print the SQL instead of running it. */
  readonly previewSql?: boolean;
}

async function migrateTo(
  url: string,
  repo: Repository,
  direction: 'upgrade' | 'downgrade',
  ver: unknown,
  o: MigrateOptions,
): Promise<MigrateResult> {
  const dialect = parseUrl(url).dialect;
  const requested = ver === undefined || ver === null ? undefined : parseVersion(ver);
  const from = await probeVersion(url, repo, o);
  if (requested === undefined && direction === 'upgrade' && from > repo.latest) {
    throw new VersionNotFoundError(
      `the database is at version ${from}, beyond the repository's latest version ${repo.latest}: it was migrated by a newer repository ("Database schema file with version ${from} doesn't exist.")`,
    );
  }
  const target = requested ?? repo.latest;
  checkDirection(direction, from, target);
  if (target === from) return { from, to: from, steps: [] };
  const steps = planSteps(repo, from, target, dialect); // whole path checked before anything runs
  // The first version of the walk that does not fit, if any (all are checked before anything runs).
  await checkFits(dialect, steps.map((s) => s.to).find((v) => v > 2147483647) ?? target);
  if (o.previewSql) {
    await preview(url, repo, from, target, o);
    return { from, to: from, steps: [] };
  }
  const typeorm = needsTypeorm(steps.map((s) => s.script));
  return withLock(url, repo, { ...o, typeorm }, (ls) => walk(ls, repo, target, direction, { ...o, allowAhead: true }));
}

/** `upgrade URL REPO [VERSION]`. */
export function upgrade(url: string, repository: string | Repository, ver: unknown, o: MigrateOptions) {
  return migrateTo(url, repoOf(repository), 'upgrade', ver, o);
}

/** `downgrade URL REPO VERSION`. */
export function downgrade(url: string, repository: string | Repository, ver: unknown, o: MigrateOptions) {
  if (ver === undefined || ver === null) throw new UsageError('downgrade needs a VERSION');
  return migrateTo(url, repoOf(repository), 'downgrade', ver, o);
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
  const repo = repoOf(repository);
  const latest = repo.versions.find((v) => v.version === repo.latest);
  if (!latest) throw new VersionNotFoundError(`"Database schema file with version ${repo.latest} doesn't exist."`);
  const session = await openSession(url, { typeorm: true, logger: o.logger, logSql: o.logSql });
  const adapter = await adapterFor(session.dialect);
  try {
    await adapter.prepare(session);
    for (const direction of ['upgrade', 'downgrade'] as const) {
      const script = latest.sql.get(`${session.dialect}:${direction}`) ?? latest.sql.get(`default:${direction}`) ?? latest.module;
      if (!script) throw new VersionNotFoundError(`There is no script for ${repo.latest} version`);
      o.onPhase?.(direction, false);
      const engine = await makeEngine({
        dialect: session.dialect,
        session,
        queryRunner: session.queryRunner,
        logger: o.logger,
        step: direction === 'upgrade' ? { from: repo.latest - 1, to: repo.latest, direction } : { from: repo.latest, to: repo.latest - 1, direction },
        resumed: false,
      });
      await inWriteTransaction({ session, adapter }, async () => {
        if (script.kind === 'sql') {
          for (const s of sqlStatements(script, o.logger)) await engine.execute(s);
        } else {
          await runModule(script, direction, engine);
        }
      });
      o.onPhase?.(direction, true);
    }
  } finally {
    await session.close();
  }
}

export { readVersion };
