/**
 * oslo.db's `db_sync` / `db_version` over the Migrator (oslo_db/sqlalchemy/migration.py), for
 * applications that keep an INIT_VERSION below their first script:
 *
 *  - an empty database is put under version control at `initVersion`, then migrated;
 *  - a database with tables but not under version control for this repository is refused
 *    ("... Please stamp the current version of the schema manually.");
 *  - where the backend has collations (MySQL), every table but the version tables must be utf8.
 *
 * Everything that decides is re-done under the migration lock, so concurrent runs converge.
 */
import { migratorFor, parseVersion, type RunOptions } from './api.js';
import type { MigrationConnection } from './connection.js';
import { MigrateError, VersionNotFoundError } from './errors.js';
import type { MigrateResult, Migrator } from './migrator.js';
import type { Repository } from './repository.js';
import { needsTypeorm } from './script/detect.js';
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
}

/**
 * The version under the lock, stamping an empty database at initVersion. A database is empty when
 * it has no tables but the engine's own `migrate_*` ones, or only an empty version table (a stamp
 * interrupted between its CREATE and its INSERT: two commits on MySQL).
 */
async function ensureControlled(m: Migrator, c: MigrationConnection, initVersion: number): Promise<number> {
  const { versionTable, repositoryId } = m.repo.config;
  return m.inTransaction(c, async () => {
    const state = await c.storage.version.read(true);
    if (typeof state === 'number') return state;
    let tables = (await c.tables()).filter((t) => t === versionTable || !t.startsWith('migrate_'));
    if (state === 'no-row' && tables.length === 1 && (await c.storage.version.repositories()).length === 0) tables = [];
    if (tables.length > 0) {
      const detail =
        state === 'no-row'
          ? ` (${versionTable} has no row for repository '${repositoryId}')`
          : ` (found: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''})`;
      throw new DbMigrationError(`${NOT_CONTROLLED}${detail}`);
    }
    await c.storage.version.insert(m.repo.absPath, initVersion);
    return initVersion;
  });
}

async function sanityCheck(m: Migrator, c: MigrationConnection): Promise<void> {
  const names = (await c.nonUtf8Tables?.([m.repo.config.versionTable, 'alembic_version'])) ?? [];
  if (names.length) throw new DbMigrationError(`Tables "${names.join(',')}" have non utf8 collation, please make sure all tables are CHARSET=utf8`);
}

function newer(v: number, latest: number): VersionNotFoundError {
  return new VersionNotFoundError(`the database is at version ${v}, newer than this repository's latest (${latest}): it was migrated by a newer release`);
}

/** oslo `db_version`: the version; an empty database is stamped at initVersion first. */
export async function dbVersion(url: string | ParsedUrl, repo: Repository, o: SyncOptions): Promise<number> {
  const m = await migratorFor(url, repo, o);
  const v = await m.probe();
  if (typeof v === 'number') return v;
  return m.withLock((c) => ensureControlled(m, c, o.initVersion));
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
  const probed = await m.probe();
  const before = typeof probed === 'number' ? probed : null;
  if (before !== null && before === target) return { from: before, to: before, steps: [] };
  if (before !== null && before > repo.latest) throw newer(before, repo.latest);
  if (o.refuseLower && before !== null && target < before) {
    // Refuse only when the database was already past the target when this process looked. If a
    // concurrent run was moving it (the lock was busy, or the version changed between our probe and
    // getting the lock), the target is reached: wait for that run, then report success. Decided
    // from what the database shows, not from clocks (replicas' clocks need not agree).
    const moving = await m.withLock(async (c, waited) => waited || (await m.inTransaction(c, () => c.storage.version.read(true))) !== before);
    if (!moving) throw new DbMigrationError(o.refuseLower);
    o.logger.info(`the database moved past version ${target} while this run started (another process migrated it); nothing to do`);
    return { from: before, to: before, steps: [] };
  }
  // The whole path first (an empty database starts at initVersion), and whether it needs TypeORM.
  const start = before ?? o.initVersion;
  const nt = (steps: Parameters<typeof needsTypeorm>[0] extends readonly (infer S)[] ? readonly { script: S }[] : never) => needsTypeorm(steps.map((s) => s.script));
  const plan = before !== null && target < before ? m.plan(start, target, nt) : { ...m.plan(start, Math.max(target, start), nt), target };
  return m.withLock(async (c) => {
    const cur = await ensureControlled(m, c, o.initVersion);
    if (cur > repo.latest) throw newer(cur, repo.latest);
    await sanityCheck(m, c); // before (nothing applied on a bad database) and after, as oslo.db
    const r = await m.walk(c, cur, plan, before === null || before <= target);
    if (r.steps.length) await sanityCheck(m, c);
    return r;
  }, plan.typeorm);
}
