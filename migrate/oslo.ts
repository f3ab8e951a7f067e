/**
 * oslo.db's `db_sync` / `db_version` over the engine (oslo_db/sqlalchemy/migration.py), for
 * applications that keep an INIT_VERSION below their first script:
 *
 *  - an empty database is put under version control at `initVersion`, then migrated;
 *  - a database with tables but not under version control for this repository is refused
 *    ("... Please stamp the current version of the schema manually.");
 *  - on MySQL, after migrating, every table but the version tables must have a utf8 collation.
 *
 * Everything that decides is re-done under the migration lock, so concurrent runs converge.
 */
import { MigrateError, VersionNotFoundError } from './errors.js';
import type { Repository } from './repository.js';
import { planSteps } from './repository.js';
import { probeVersion, versionRef, walk, withLock, type LockedSession, type MigrateResult, type RunOptions } from './runner.js';
import { openSession } from './session.js';
import { adapterFor } from './dialect/adapter.js';
import { insertVersionRow, tryReadVersion } from './version-table.js';
import { StepLog } from './step-log.js';
import { parseVersion } from './api.js';
import { inWriteTransaction } from './transaction.js';
import { parseUrl } from './url.js';
import { needsTypeorm } from './script/detect.js';

/** oslo.db's DBMigrationError. */
export class DbMigrationError extends MigrateError {}

const NOT_CONTROLLED =
  'The database is not under version control, but has tables. Please stamp the current version of the schema manually.';

export interface SyncOptions extends RunOptions {
  readonly initVersion: number;
  /**
   * When set, a target below the version found at the start is refused with this message instead
   * of downgrading (Heat: "Cannot migrate to lower schema version."). Checked before the lock: a
   * concurrent run that went past the target meanwhile is not an error.
   */
  readonly refuseLower?: string;
}

/** Tables that are not ours: everything but the engine's own `migrate_*` bookkeeping tables. */
function appTables(tables: string[], versionTable: string): string[] {
  return tables.filter((t) => t === versionTable || !t.startsWith('migrate_'));
}

/**
 * The version, stamping an empty database at initVersion (under the lock). Returns the version
 * and whether this call stamped it.
 */
async function ensureControlled(ls: LockedSession, repo: Repository, initVersion: number): Promise<number> {
  const ref = versionRef(repo);
  return inWriteTransaction(ls, async () => {
    const state = await tryReadVersion(ls.session, ls.adapter, ref, true);
    if (typeof state === 'number') return state;
    let tables = appTables(await ls.adapter.listTables(ls.session), ref.table);
    if (state === 'no-row' && tables.length === 1) {
      // An empty version table alone: a stamp interrupted between its CREATE and its INSERT (two
      // commits on MySQL). That is still an empty database; finish the stamp.
      const [n] = await ls.session.query(`SELECT COUNT(*) AS n FROM ${ls.adapter.quote(ref.table)}`);
      if (Number(n?.n) === 0) tables = [];
    }
    if (tables.length > 0) {
      const detail =
        state === 'no-row'
          ? ` (${ref.table} has no row for repository '${ref.repositoryId}')`
          : ` (found: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''})`;
      throw new DbMigrationError(`${NOT_CONTROLLED}${detail}`);
    }
    await insertVersionRow(ls.session, ls.adapter, ref, repo.absPath, initVersion);
    return initVersion;
  });
}

/** Quick read without the lock: a number, or null when the database needs stamping or checking. */
async function probe(url: string, repo: Repository, o: RunOptions): Promise<number | null> {
  const session = await openSession(url, { logger: o.logger, logSql: o.logSql, timeoutMs: o.lockTimeoutMs });
  try {
    const a = await adapterFor(session.dialect);
    const s = await tryReadVersion(session, a, versionRef(repo));
    return typeof s === 'number' ? s : null;
  } finally {
    await session.close();
  }
}

async function sanityCheck(ls: LockedSession, repo: Repository): Promise<void> {
  if (ls.adapter.name !== 'mysql') return;
  const rows = await ls.session.query(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
       AND TABLE_COLLATION NOT LIKE '%utf8%' AND TABLE_NAME NOT IN (?, 'alembic_version') AND TABLE_NAME NOT LIKE 'migrate\\_%'`,
    [repo.config.versionTable],
  );
  if (rows.length) {
    const names = rows.map((r) => String(r.name)).join(',');
    throw new DbMigrationError(`Tables "${names}" have non utf8 collation, please make sure all tables are CHARSET=utf8`);
  }
}

/** oslo `db_version`: the version; an empty database is stamped at initVersion first. */
export async function dbVersion(url: string, repo: Repository, o: SyncOptions): Promise<number> {
  const v = await probe(url, repo, o);
  if (v !== null) return v;
  return withLock(url, repo, o, (ls) => ensureControlled(ls, repo, o.initVersion));
}

/**
 * oslo `db_sync`: stamp an empty database, then upgrade to `version` (default: latest), or
 * downgrade when `version` is lower (applications that refuse that check before calling).
 */
export async function dbSync(url: string, repo: Repository, version: unknown, o: SyncOptions): Promise<MigrateResult> {
  const target = version === undefined || version === null ? repo.latest : parseVersion(version);
  if (target > repo.latest) {
    throw new VersionNotFoundError(`"Database schema file with version ${target} doesn't exist." (latest is ${repo.latest})`);
  }
  const before = await probe(url, repo, o);
  if (before !== null && before === target) return { from: before, to: before, steps: [] };
  if (before !== null && before > repo.latest) {
    throw new VersionNotFoundError(
      `the database is at version ${before}, newer than this repository's latest (${repo.latest}): it was migrated by a newer release`,
    );
  }
  if (o.refuseLower && before !== null && target < before) {
    // Refuse only when the database was already past the target when this process started. If a
    // concurrent run moved it past the target since (replicas starting together with different
    // targets), the target is reached: wait for that run to finish, then report success.
    const moving = await withLock(url, repo, o, (ls) =>
      inWriteTransaction(ls, async () => {
        const t = await new StepLog(ls.session, ls.adapter).lastFinished(repo.config.repositoryId, repo.config.versionTable);
        return t !== null && t >= performance.timeOrigin;
      }),
    );
    if (!moving) throw new DbMigrationError(o.refuseLower);
    o.logger.info(`the database moved past version ${target} while this run started (another process migrated it); nothing to do`);
    return { from: before, to: before, steps: [] };
  }
  const direction = before !== null && target < before ? 'downgrade' : 'upgrade';
  // The whole path first (an empty database starts at initVersion), and whether it needs TypeORM.
  const plan = planSteps(repo, before ?? o.initVersion, Math.max(target, before ?? o.initVersion), parseUrl(url).dialect);
  const typeorm = needsTypeorm(plan.map((s) => s.script));
  return withLock(url, repo, { ...o, typeorm }, async (ls) => {
    const cur = await ensureControlled(ls, repo, o.initVersion);
    if (cur > repo.latest) {
      throw new VersionNotFoundError(
        `the database is at version ${cur}, newer than this repository's latest (${repo.latest}): it was migrated by a newer release`,
      );
    }
    await sanityCheck(ls, repo); // before (nothing applied on a bad database) and after, as oslo.db
    const r = await walk(ls, repo, target, direction, { ...o, allowAhead: before === null || before <= target });
    if (r.steps.length) await sanityCheck(ls, repo);
    return r;
  });
}

export { probeVersion };
