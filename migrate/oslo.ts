/**
 * oslo.db's `db_sync` / `db_version` (oslo_db/sqlalchemy/migration.py): policy only, for
 * applications that keep an INIT_VERSION below their first script; the Migrator does the rest.
 *
 *  - an empty database is put under version control at `initVersion`, then migrated;
 *  - a database with tables but not under version control for this repository is refused
 *    ("... Please stamp the current version of the schema manually.");
 *  - where the backend has collations (MySQL), every table but the version tables must be utf8;
 *  - optionally, a target below the current version is refused instead of downgrading.
 *
 * The policies run under the migration lock, so concurrent runs converge.
 */
import { migratorFor, parseVersion, type RunOptions } from './api.js';
import { MigrateError, VersionNotFoundError } from './errors.js';
import type { ControlPolicy, MigrateResult, RunCheck } from './migrator.js';
import type { Repository } from './repository.js';
import type { ParsedUrl } from './url.js';

/** oslo.db's DBMigrationError. */
export class DbMigrationError extends MigrateError {}

const NOT_CONTROLLED = 'The database is not under version control, but has tables. Please stamp the current version of the schema manually.';

export interface SyncOptions extends RunOptions {
  readonly initVersion: number;
  /**
   * When set, a target below the version found at the start is refused with this message instead
   * of downgrading (Heat: "Cannot migrate to lower schema version."). A concurrent run that moved
   * the database past the target while this one started is not an error.
   */
  readonly refuseLower?: string;
  /** An empty database gets the target's expected schema directly where the repository has it (fresh.ts). */
  readonly fresh?: boolean;
}

/**
 * An empty database is stamped at initVersion. Empty: no tables but the engine's own `migrate_*`
 * ones, or only an empty version table (a stamp interrupted between its CREATE and its INSERT: two
 * commits on MySQL).
 */
function stampEmpty(repo: Repository, initVersion: number): ControlPolicy {
  const { versionTable, repositoryId } = repo.config;
  return {
    initVersion,
    async control(db) {
      let tables = (await db.inspect.tables()).filter((t) => t === versionTable || !t.startsWith('migrate_'));
      if (db.state === 'no-row' && tables.length === 1 && (await db.repositories()).length === 0) tables = [];
      if (tables.length > 0) {
        const detail =
          db.state === 'no-row'
            ? ` (${versionTable} has no row for repository '${repositoryId}')`
            : ` (found: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''})`;
        throw new DbMigrationError(`${NOT_CONTROLLED}${detail}`);
      }
      await db.stamp(initVersion);
      return initVersion;
    },
  };
}

/** oslo.db's MySQL sanity check: before the first step (nothing applied on a bad database) and after the last. */
function utf8Tables(repo: Repository): RunCheck {
  const check = async (c: Parameters<NonNullable<RunCheck['before']>>[0]) => {
    const names = (await c.inspect.nonUtf8Tables?.([repo.config.versionTable, 'alembic_version'])) ?? [];
    if (names.length) throw new DbMigrationError(`Tables "${names.join(',')}" have non utf8 collation, please make sure all tables are CHARSET=utf8`);
  };
  return { before: (c) => check(c), after: async (c, r) => void (r.steps.length && (await check(c))) };
}

/** oslo `db_version`: the version; an empty database is stamped at initVersion first. */
export async function dbVersion(url: string | ParsedUrl, repo: Repository, o: SyncOptions): Promise<number> {
  return (await migratorFor(url, repo, o)).version(stampEmpty(repo, o.initVersion));
}

/**
 * oslo `db_sync`: stamp an empty database, then upgrade to `version` (default: latest), or
 * downgrade when `version` is lower (applications that refuse that say so with `refuseLower`).
 */
export async function dbSync(url: string | ParsedUrl, repo: Repository, version: unknown, o: SyncOptions): Promise<MigrateResult> {
  const target = version === undefined || version === null ? repo.latest : parseVersion(version);
  if (target > repo.latest) {
    throw new VersionNotFoundError(`"Database schema file with version ${target} doesn't exist." (latest is ${repo.latest})`);
  }
  const m = await migratorFor(url, repo, o);
  const refuse = o.refuseLower;
  return m.migrate({
    target,
    control: stampEmpty(repo, o.initVersion),
    refuseLower: refuse === undefined ? undefined : () => new DbMigrationError(refuse),
    checks: [utf8Tables(repo)],
    fresh: o.fresh,
  });
}
