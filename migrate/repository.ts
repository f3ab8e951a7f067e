/**
 * A repository: `migrate.cfg` + `versions/`. Loading reads file *names* only; a script's content is
 * read when that script must run, so one bad file does not break `version` (the Python tool's
 * weakness, SPEC §12.11).
 *
 * The file system is injected ({@link RepoFs}) so discovery is testable without a disk.
 */
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import {
  ConfigFileError,
  InvalidRepositoryError,
  PathNotFoundError,
  ScriptError,
  VersionNotFoundError,
} from './errors.js';
import type { DialectName } from './script/contract.js';
import { interpolate, parsePythonIni } from './ini.js';

export { parsePythonIni };

export interface RepoFs {
  readdir(dir: string): string[];
  readFile(file: string): string;
  /** 'file' | 'dir' | null when absent. */
  stat(p: string): 'file' | 'dir' | null;
}

export const nodeRepoFs: RepoFs = {
  readdir: (d) => nodeFs.readdirSync(d),
  readFile: (f) => nodeFs.readFileSync(f, 'utf8'),
  stat(p) {
    try {
      return nodeFs.statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return null;
    }
  },
};

export interface RepoConfig {
  readonly repositoryId: string;
  readonly versionTable: string;
  readonly requiredDbs: string;
  /** Raw value; parsed only by `script` (as the Python tool does). */
  readonly useTimestampNumbering: string | undefined;
  /** All keys of [db_settings], lower-cased. */
  readonly raw: Readonly<Record<string, string>>;
}

export type ScriptKind = 'module' | 'sql' | 'python';

export interface ScriptFile {
  readonly version: number;
  /** Path relative to the repository: `versions/001_x.ts`. */
  readonly relPath: string;
  /** Absolute path. */
  readonly absPath: string;
  readonly kind: ScriptKind;
  /** For .sql files. */
  readonly database?: string;
  readonly operation?: string;
}

export interface VersionEntry {
  readonly version: number;
  /** At most one module (or .py) script. */
  readonly module?: ScriptFile;
  /** .sql scripts keyed `<database>:<operation>`. */
  readonly sql: ReadonlyMap<string, ScriptFile>;
}

export interface Repository {
  /** As given by the user (stored verbatim in migrate_version.repository_path). */
  readonly path: string;
  readonly absPath: string;
  readonly config: RepoConfig;
  /** Sorted ascending. */
  readonly versions: readonly VersionEntry[];
  readonly latest: number;
  readonly timestampNumbering: boolean;
}

const MODULE_EXT = /\.(ts|mts|cts|js|mjs|cjs)$/;

export function readRepoConfig(fs: RepoFs, cfgPath: string): RepoConfig {
  let text: string;
  try {
    text = fs.readFile(cfgPath);
  } catch (e) {
    throw new ConfigFileError(`cannot read ${cfgPath}: ${(e as Error).message}`);
  }
  const sections = parsePythonIni(text, cfgPath);
  const s = sections.get('db_settings');
  if (!s) throw new ConfigFileError(`${cfgPath}: No section: 'db_settings'; the file must start with [db_settings]`);
  const get = (k: string) => {
    const v = s.get(k);
    return v === undefined ? undefined : interpolate(v, s, k, cfgPath);
  };
  const repositoryId = get('repository_id');
  const versionTable = get('version_table');
  if (repositoryId === undefined || repositoryId === '') {
    throw new ConfigFileError(`${cfgPath}: No option 'repository_id' in section: 'db_settings'; add repository_id=<name>`);
  }
  if (versionTable === undefined || versionTable === '') {
    throw new ConfigFileError(`${cfgPath}: No option 'version_table' in section: 'db_settings'; add version_table=migrate_version`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(versionTable)) {
    throw new ConfigFileError(`${cfgPath}: version_table '${versionTable}' is not a plain SQL identifier`);
  }
  const raw: Record<string, string> = {};
  for (const k of s.keys()) raw[k] = get(k)!;
  return {
    repositoryId,
    versionTable,
    requiredDbs: get('required_dbs') ?? '[]',
    useTimestampNumbering: get('use_timestamp_numbering'),
    raw,
  };
}

/** Python's ConfigParser.getboolean. */
export function parseBool(v: string | undefined, what: string): boolean {
  if (v === undefined) return false;
  const s = v.toLowerCase();
  if (['1', 'yes', 'true', 'on'].includes(s)) return true;
  if (['0', 'no', 'false', 'off'].includes(s)) return false;
  throw new ConfigFileError(`Not a boolean: ${v} (${what}); use True or False`);
}

function classify(name: string, versionsDir: string): ScriptFile | null {
  const m = /^(\d{3,})/.exec(name);
  if (!m) return null;
  const version = Number(m[1]);
  const relPath = `versions/${name}`;
  const absPath = path.join(versionsDir, name);
  if (name.endsWith('.d.ts') || name.endsWith('.map')) return null;
  if (MODULE_EXT.test(name)) return { version, relPath, absPath, kind: 'module' };
  if (name.endsWith('.py')) return { version, relPath, absPath, kind: 'python' };
  if (name.endsWith('.sql')) {
    const parts = name.slice(0, -4).split('_');
    if (parts.length < 3) {
      throw new ScriptError(
        `Invalid SQL script name ${name} (needs to be ###_description_database_operation.sql)`,
      );
    }
    const operation = parts[parts.length - 1]!;
    const database = parts.length >= 5 && parts.slice(-4, -1).join('_') === 'ibm_db_sa' ? 'ibm_db_sa' : parts[parts.length - 2]!;
    return { version, relPath, absPath, kind: 'sql', database, operation };
  }
  return null; // README, .txt, .pyc ...: not a script (the Python tool made a phantom version)
}

/** Loads a repository's config and script names. Throws InvalidRepositoryError when it is not one. */
export function loadRepository(repoPath: string, fs: RepoFs = nodeRepoFs): Repository {
  const absPath = path.resolve(repoPath);
  const cfgPath = path.join(absPath, 'migrate.cfg');
  const versionsDir = path.join(absPath, 'versions');
  for (const [p, kind] of [
    [absPath, 'dir'],
    [cfgPath, 'file'],
    [versionsDir, 'dir'],
  ] as const) {
    if (fs.stat(p) !== kind) {
      throw new InvalidRepositoryError(
        `${repoPath}: not a migrate repository (${p === absPath ? 'path not found' : `missing ${path.basename(p)}${kind === 'dir' ? '/' : ''}`}); create one with 'migrate create ${repoPath} NAME'`,
        { cause: new PathNotFoundError(p) },
      );
    }
  }
  const config = readRepoConfig(fs, cfgPath);
  const names = fs.readdir(versionsDir).sort();
  if (names.includes('1') && fs.stat(path.join(versionsDir, '1')) === 'dir') {
    throw new InvalidRepositoryError(
      'It looks like you have a repository in the old format (with directories for each version). Please convert repository before proceeding.',
    );
  }
  const byVersion = new Map<number, { module?: ScriptFile; sql: Map<string, ScriptFile> }>();
  for (const name of names) {
    const f = classify(name, versionsDir);
    if (!f) continue;
    let e = byVersion.get(f.version);
    if (!e) byVersion.set(f.version, (e = { sql: new Map() }));
    if (f.kind === 'sql') {
      e.sql.set(`${f.database}:${f.operation}`, f);
    } else if (e.module) {
      throw new ScriptError(
        `You can only have one script module per version, but you have: ${path.join(repoPath, e.module.relPath)} and ${path.join(repoPath, f.relPath)}`,
      );
    } else {
      e.module = f;
    }
  }
  const versions = [...byVersion.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([version, e]) => ({ version, module: e.module, sql: e.sql }));
  const latest = versions.length ? versions[versions.length - 1]!.version : 0;
  let timestampNumbering = false;
  try {
    timestampNumbering = parseBool(config.useTimestampNumbering, 'use_timestamp_numbering');
  } catch {
    timestampNumbering = false; // only `script` must fail on it (SPEC §4)
  }
  return { path: repoPath, absPath, config, versions, latest, timestampNumbering };
}

export interface PlannedStep {
  readonly from: number;
  readonly to: number;
  /** The version whose script runs: `to` going up, `from` going down. */
  readonly version: number;
  readonly direction: 'upgrade' | 'downgrade';
  readonly script: ScriptFile;
}

/**
 * Resolves every step between `from` and `to` before anything runs (SPEC §7): a missing version or
 * a missing script anywhere aborts with nothing executed.
 */
export function planSteps(repo: Repository, from: number, to: number, dialect: DialectName): PlannedStep[] {
  const byVersion = new Map(repo.versions.map((v) => [v.version, v]));
  const direction = to >= from ? 'upgrade' : 'downgrade';
  // The chain of versions from..to: every integer for sequential repositories (SPEC §7), the
  // versions that exist for timestamp-numbered ones (SPEC §5.3 BAD: the integer walk cannot work).
  let chain: number[];
  if (repo.timestampNumbering) {
    const known = repo.versions.map((v) => v.version);
    for (const v of [from, to]) {
      if (v !== 0 && !byVersion.has(v)) {
        throw new VersionNotFoundError(`"Database schema file with version ${v} doesn't exist."`);
      }
    }
    const lo = Math.min(from, to);
    const hi = Math.max(from, to);
    chain = [lo, ...known.filter((v) => v > lo && v <= hi)];
    if (direction === 'downgrade') chain.reverse();
  } else {
    chain = [];
    if (direction === 'upgrade') for (let v = from; v <= to; v++) chain.push(v);
    else for (let v = from; v >= to; v--) chain.push(v);
  }
  const steps: PlannedStep[] = [];
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = chain[i]!;
    const b = chain[i + 1]!;
    const version = direction === 'upgrade' ? b : a;
    const entry = byVersion.get(version);
    if (!entry) throw new VersionNotFoundError(`"Database schema file with version ${version} doesn't exist."`);
    steps.push({ from: a, to: b, version, direction, script: pick(entry, dialect, direction) });
  }
  return steps;
}

/** Script precedence (SPEC §7): `<dialect>` .sql, then `default` .sql, then the module script. */
function pick(entry: VersionEntry, dialect: DialectName, op: 'upgrade' | 'downgrade'): ScriptFile {
  const script = entry.sql.get(`${dialect}:${op}`) ?? entry.sql.get(`default:${op}`) ?? entry.module;
  if (!script) throw new ScriptError(`There is no script for ${entry.version} version (${op}, ${dialect})`);
  return script;
}

/** The script that runs version `version` in direction `op` on `dialect`. */
export function scriptFor(repo: Repository, version: number, dialect: DialectName, op: 'upgrade' | 'downgrade'): ScriptFile {
  const entry = repo.versions.find((v) => v.version === version);
  if (!entry) throw new VersionNotFoundError(`"Database schema file with version ${version} doesn't exist."`);
  return pick(entry, dialect, op);
}
