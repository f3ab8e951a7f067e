/**
 * A revision chain (Alembic's model): after a repository's last integer version, the schema moves
 * on by named revisions, each with the one before it (`down`), recorded in a one-row version table
 * of their own (Alembic's `alembic_version`). The first revision stands for the schema of the last
 * integer version: on a database at exactly that version it is stamped, never run; on an empty
 * database it creates the whole schema (a fresh install).
 *
 * This module is the chain as data and its resolution (which revision an operator names, which ones
 * are pending); it knows no application (Heat's chain is data in migrate_repo/heat/lineage.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RunOptions } from './api.js';
import { Catalog, factLine, isSchemaFact } from './catalog/catalog.js';
import { diff } from './catalog/diff.js';
import { firstDifferences } from './catalog/examine.js';
import { SqlBackend, type MigrationConnection } from './connection.js';
import { DEFAULT_LOCK_TIMEOUT_S, DEFAULT_LOCK_WAIT_TIMEOUT_S, lockKey } from './defaults.js';
import type { Queryable } from './dialect/contract.js';
import { MigrateError, StepResultError } from './errors.js';
import type { PlannedStep, Repository, ScriptFile } from './repository.js';
import { withRunLock } from './run-lock.js';
import { expectedSchemas, type ExpectedSchemas } from './schemas.js';
import type { DialectName } from './script/contract.js';
import { parseUrl, type ParsedUrl } from './url.js';

export interface Revision {
  /** The revision id (`c6214ca60943`). */
  readonly id: string;
  /** The revision it follows; absent for the first. */
  readonly down?: string;
  /** Its message (Alembic logs `Running upgrade <old> -> <new>, <message>`). */
  readonly message: string;
  /** Its script's module name under the repository's `revisions/` directory (absent: stamped only, never run). */
  readonly script?: string;
}

export interface RevisionChain {
  /** The version table (Alembic: `alembic_version`). */
  readonly table: string;
  /** The integer version the first revision stands for. */
  readonly legacyVersion: number;
  /** In order, first to head; each one's `down` is the one before it. */
  readonly revisions: readonly Revision[];
}

/** Alembic's "Can't locate revision identified by '<x>'". */
export class RevisionNotFoundError extends MigrateError {}

/** A chain whose `down` links do not follow its order is a programming error of its data. */
export function checkChain(chain: RevisionChain): void {
  chain.revisions.forEach((r, i) => {
    const want = i === 0 ? undefined : chain.revisions[i - 1]!.id;
    if (r.down !== want) throw new Error(`revision ${r.id}: down_revision ${r.down ?? 'none'}, expected ${want ?? 'none'}`);
  });
}

export const head = (chain: RevisionChain): Revision => chain.revisions[chain.revisions.length - 1]!;

/** The position of a revision id in the chain, -1 when unknown. */
export const positionOf = (chain: RevisionChain, id: string): number => chain.revisions.findIndex((r) => r.id === id);

/** `head`, a full revision id, or a unique prefix of one (as Alembic accepts). */
export function resolveRevision(chain: RevisionChain, name: string): Revision {
  if (name === 'head' || name === 'heads') return head(chain);
  const hits = chain.revisions.filter((r) => r.id === name || (name.length >= 4 && r.id.startsWith(name)));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new RevisionNotFoundError(`Multiple revisions start with '${name}': ${hits.map((r) => r.id).join(', ')}`);
  throw new RevisionNotFoundError(`Can't locate revision identified by '${name}'`);
}

/** Is `name` something resolveRevision may accept (not all digits: those are integer versions)? */
export const isRevisionName = (name: string): boolean => name === 'head' || name === 'heads' || /^[0-9a-f]{4,32}$/.test(name) && !/^\d+$/.test(name);

/** The revisions after `current` (null: none applied yet) up to `target`, in order. */
export function pending(chain: RevisionChain, current: string | null, target: Revision): Revision[] {
  const from = current === null ? -1 : positionOf(chain, current);
  const to = positionOf(chain, target.id);
  return chain.revisions.slice(from + 1, to + 1);
}

/** The version table as Alembic creates it (no table options: MariaDB gives it the database default). */
export function versionTableDdl(chain: RevisionChain, _dialect: DialectName): string {
  return `CREATE TABLE ${chain.table} (version_num VARCHAR(32) NOT NULL, CONSTRAINT ${chain.table}_pkc PRIMARY KEY (version_num))`;
}

// ---------------------------------------------------------------------------------------------
// Expected schemas of revisions: `<repository>/schema/<dialect>/<id>.tsv` (a database that reached
// the revision by upgrading) and `schema/<dialect>/fresh/<id>.tsv` (one created at it: a fresh
// install). docs/CATALOG.md.

const revisionCache = new Map<string, Catalog | null>();

export function revisionSchema(repo: Repository, dialect: DialectName, id: string, o: { fresh?: boolean } = {}): Catalog | undefined {
  const file = path.join(repo.absPath, 'schema', dialect, ...(o.fresh ? ['fresh'] : []), `${id}.tsv`);
  let c = revisionCache.get(file);
  if (c === undefined) {
    c = existsSync(file) ? Catalog.parse(dialect, readFileSync(file, 'utf8')).filter((f) => isSchemaFact(dialect, f)) : null;
    revisionCache.set(file, c);
  }
  return c ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// Where a database stands, and running revisions.

export interface ChainState {
  /** The revision in the chain's version table; null: the table is missing or empty. */
  readonly revision: string | null;
  /** Whether the chain's version table exists. */
  readonly table: boolean;
}

type Q = Pick<Queryable, 'dialect' | 'query'>;

export async function readChainState(q: Q, chain: RevisionChain, tables: readonly string[]): Promise<ChainState> {
  if (!tables.includes(chain.table)) return { revision: null, table: false };
  const rows = await q.query(`SELECT version_num FROM ${chain.table}`);
  if (rows.length > 1) throw new MigrateError(`${chain.table} holds ${rows.length} revisions (${rows.map((r) => String(r.version_num)).join(', ')}): a branched history is not supported`);
  return { revision: rows.length ? String(rows[0]!.version_num) : null, table: true };
}

export interface RevisionRunOptions extends RunOptions {
  readonly chain: RevisionChain;
  readonly target: Revision;
  /**
   * Called under the lock when the database has no revision yet: it must check that the database
   * is exactly at the chain's legacy version (throwing otherwise); the first revision is then stamped.
   */
  readonly beforeStamp: (q: Q, c: MigrationConnection) => Promise<void>;
}

export interface RevisionRunResult {
  readonly from: string | null;
  readonly to: string;
  readonly stamped: boolean;
  readonly applied: readonly string[];
}

/**
 * Stamps the first revision on a database at the legacy version (checked by `beforeStamp`, never
 * blind), then runs every revision after the current one up to `target`, under the repository's
 * run lock. PostgreSQL and SQLite: each revision and its version update in one transaction.
 * MySQL/MariaDB (DDL commits by itself): a revision's script finishes whatever an interrupted run
 * of it left, and the version table always names the last revision whose work completed. After
 * each revision the tables it changed are checked against its expected schema, where the
 * repository has one.
 */
export async function upgradeRevisions(url: string | ParsedUrl, repo: Repository, o: RevisionRunOptions): Promise<RevisionRunResult> {
  const { chain, logger } = o;
  checkChain(chain);
  const u = typeof url === 'string' ? parseUrl(url) : url;
  const lockTimeoutMs = o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000;
  const ref = { table: repo.config.versionTable, repositoryId: repo.config.repositoryId };
  const backend = await SqlBackend.create(u, ref, { ...o, lockTimeoutMs });
  return withRunLock(
    { backend, key: lockKey(ref), logger, lockTimeoutMs, lockWaitTimeoutMs: o.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_S * 1000, signal: o.signal, typeorm: true },
    async ({ c }) => {
      const q: Q = { dialect: c.dialect, query: c.inspect.query! };
      const exec = c.inspect.query!;
      const tx = c.transactionalDdl;
      // Where DDL is transactional (PostgreSQL, SQLite) the state is read again inside each write
      // transaction: on SQLite the run lock is that transaction (BEGIN IMMEDIATE), so another
      // process may have stamped or run a revision since the read before it.
      const readState = async () => readChainState(q, chain, await c.inspect.tables());
      const state = await readState();
      let current = state.revision;
      const newer = (rev: string | null) => {
        if (rev !== null && positionOf(chain, rev) < 0) throw new MigrateError(`database revision ${rev} is newer than this tool (its newest is ${head(chain).id})`);
      };
      newer(current);
      let stamped = false;
      if (current === null) {
        if (tx) await c.begin();
        try {
          const now = tx ? await readState() : state;
          if (now.revision === null) {
            await o.beforeStamp(q, c);
            const first = chain.revisions[0]!;
            logger.info(`stamping ${first.id} (${first.message}): the database is exactly at version ${chain.legacyVersion}, the schema this revision stands for`);
            if (!tx) await c.begin();
            if (!now.table) await exec(versionTableDdl(chain, c.dialect));
            await exec(`INSERT INTO ${chain.table} (version_num) VALUES ('${first.id}')`);
            current = first.id;
            stamped = true;
          } else {
            newer(now.revision);
            current = now.revision; // another run stamped it meanwhile
          }
          await c.commit();
        } catch (e) {
          await c.rollback().catch(() => undefined);
          throw e;
        }
      }
      if (current === null) throw new MigrateError(`${chain.table}: no revision after stamping`);
      let at: string = current;
      const applied: string[] = [];
      for (;;) {
        const r: Revision | undefined = pending(chain, at, o.target)[0];
        if (!r) break;
        if (!r.script) throw new MigrateError(`revision ${r.id} has no script in this repository`);
        if (tx) {
          await c.begin();
          const now = (await readState().catch(async (e: unknown) => {
            await c.rollback().catch(() => undefined);
            throw e;
          })).revision;
          if (now !== at) {
            // another run applied it meanwhile
            await c.rollback().catch(() => undefined);
            if (now === null) throw new MigrateError(`${chain.table} lost its row while this run waited; run db_sync again`);
            newer(now);
            at = now;
            continue;
          }
        }
        logger.info(`Running upgrade ${r.down ?? '<base>'} -> ${r.id}, ${r.message}`);
        const script: ScriptFile = { version: chain.legacyVersion, relPath: `revisions/${r.script}.js`, absPath: path.join(repo.absPath, 'revisions', `${r.script}.js`), kind: 'module' };
        const step: PlannedStep = { from: chain.legacyVersion, to: chain.legacyVersion, version: chain.legacyVersion, direction: 'upgrade', script };
        try {
          await c.runScript(step, { resumed: !tx, signal: o.signal, verify: tx });
          await verifyRevision(repo, c, r);
          const n = await exec(`UPDATE ${chain.table} SET version_num = '${r.id}' WHERE ${chain.table}.version_num = '${r.down}'`);
          void n;
          if (tx) await c.commit();
        } catch (e) {
          if (tx) await c.rollback().catch(() => undefined);
          throw e;
        }
        applied.push(r.id);
        at = r.id;
      }
      return { from: state.revision, to: at, stamped, applied };
    },
  );
}

/** After a revision's script: the tables it changes equal its expected schema (from the one before it). */
async function verifyRevision(repo: Repository, c: MigrationConnection, r: Revision): Promise<void> {
  const after = revisionSchema(repo, c.dialect, r.id);
  const before = r.down ? revisionSchema(repo, c.dialect, r.down) : undefined;
  if (!after || !before || !c.inspect.catalog) return;
  const tables = before.tablesDifferingFrom(after);
  const live = await c.inspect.catalog(tables);
  const want = after.only(tables);
  if (!live.equals(want)) throw new StepResultError(`revision ${r.id} did not produce its schema: ${firstDifferences(diff(want, live))}`);
}

/**
 * A database whose chain was stamped while its legacy version was still below the chain's (another
 * tool's blind stamp), and whose revisions up to `revision` then ran on it: each legacy version's
 * expected schema, plus what the stamp and those revisions added (their catalog against the first
 * revision's legacy schema), minus what they replaced. The legacy steps that were skipped can then
 * run on it, checked against these, and end exactly at `revision`'s schema.
 */
export function stampedEarlySchemas(repo: Repository, chain: RevisionChain, revision: string): ExpectedSchemas {
  const base = expectedSchemas(repo);
  const memo = new Map<string, Catalog | undefined>();
  return {
    versions: (d) => base.versions(d),
    get(d, version) {
      const key = `${d}:${version}`;
      if (memo.has(key)) return memo.get(key);
      const v = base.get(d, version);
      const legacy = base.get(d, chain.legacyVersion);
      const at = revisionSchema(repo, d, revision);
      let out: Catalog | undefined;
      if (v && legacy && at) {
        const added = at.facts.filter((f) => !legacy.has(f));
        const gone = legacy.facts.filter((f) => !at.has(f));
        out = new Catalog(d, [...v.facts.filter((f) => !gone.some((g) => factLine(g) === factLine(f))), ...added]);
      }
      memo.set(key, out);
      return out;
    },
  };
}
