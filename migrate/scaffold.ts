/**
 * The file-system commands: `create` (a repository), `script` / `script_sql` (a new version),
 * `manage` (a launcher with baked-in defaults) and `source` (a script's text).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PathFoundError, ScriptError, VersionNotFoundError } from './errors.js';
import { loadRepository, parseBool, readRepoConfig, nodeRepoFs } from './repository.js';

export const README_TEXT =
  'This is a database migration repository.\n\nMore information at\nhttp://code.google.com/p/sqlalchemy-migrate/\n';

const CONFIG_KEYS = ['repository_id', 'version_table', 'required_dbs', 'use_timestamp_numbering'] as const;

function cfgText(values: Record<(typeof CONFIG_KEYS)[number], string>): string {
  // ConfigParser interpolates '%': write a literal % as %% (the Python tool did not, SPEC §4).
  const esc = (v: string) => v.replace(/%/g, '%%');
  return `[db_settings]
# Used to identify which repository this database is versioned under.
# You can use the name of your project.
repository_id=${esc(values.repository_id)}

# The name of the database table used to track the schema version.
# This name shouldn't already be used by your project.
# If this is changed once a database is under version control, you'll need to
# change the table name in each database too.
version_table=${esc(values.version_table)}

# When committing a change script, Migrate will attempt to generate the
# sql for all supported databases; normally, if one of them fails - probably
# because you don't have that database installed - it is ignored and the
# commit continues, perhaps ending successfully.
# Databases in this list MUST compile successfully during a commit, or the
# entire commit will fail. List the databases your application will actually
# be using to ensure your updates to that database work properly.
# This must be a list; example: ['postgres','sqlite']
required_dbs=${esc(values.required_dbs)}

# When creating new change scripts, Migrate will stamp the new script with
# a version number. By default this is latest_version + 1. You can set this
# to 'true' to tell Migrate to use the UTC timestamp instead.
use_timestamp_numbering=${esc(values.use_timestamp_numbering)}
`;
}

/** The CLI entry point that launchers import (absolute, baked in at creation). */
function cliHref(): string {
  return new URL('./cli/main.js', import.meta.url).href;
}

/** A `manage.js` launcher: `node manage.js COMMAND ...` is `migrate COMMAND ...` with defaults. */
export function manageText(defaults: Record<string, string>): string {
  return `#!/usr/bin/env node
// Launcher for this migration repository: \`node manage.js COMMAND ...\` runs \`migrate COMMAND ...\`
// with the defaults below (command-line values override them). Works as CommonJS and as ESM.
const defaults = ${JSON.stringify(defaults)};
import(process.env.MIGRATE_CLI || ${JSON.stringify(cliHref())})
  .then((cli) => cli.run(process.argv.slice(2), { prog: 'manage.js', defaults }))
  .then((code) => { process.exitCode = code; });
`;
}

export interface CreateOptions {
  readonly name: string;
  /** Extra --k=v options: config keys go into migrate.cfg, the rest into manage.js defaults. */
  readonly options?: Readonly<Record<string, string | boolean>>;
}

/** `create REPO NAME`. */
export function createRepository(repoPath: string, o: CreateOptions): void {
  if (existsSync(repoPath)) throw new PathFoundError(`The path ${repoPath} already exists`);
  const opts = o.options ?? {};
  const cfg = {
    repository_id: o.name,
    version_table: 'migrate_version',
    required_dbs: '[]',
    use_timestamp_numbering: 'False',
  };
  const defaults: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) {
    if ((CONFIG_KEYS as readonly string[]).includes(k)) cfg[k as keyof typeof cfg] = String(v);
    else if (!k.startsWith('templates_')) defaults[k] = String(v);
  }
  mkdirSync(path.join(repoPath, 'versions'), { recursive: true });
  writeFileSync(path.join(repoPath, 'README'), README_TEXT);
  writeFileSync(path.join(repoPath, 'migrate.cfg'), cfgText(cfg));
  writeFileSync(path.join(repoPath, 'manage.js'), manageText(defaults), { mode: 0o755 });
}

/** sqlalchemy-migrate's description mangling, with `/` (and `\`) replaced too (SPEC §5.1). */
export function mangleDescription(desc: string): string {
  let s = `_${desc}`.replace(/[ "'./\\]/g, '_').replace(/_+/g, '_');
  if (s === '_') s = '';
  return s;
}

function nextNumber(repoPath: string): number {
  const repo = loadRepository(repoPath);
  let ts: boolean;
  ts = parseBool(readRepoConfig(nodeRepoFs, path.join(repo.absPath, 'migrate.cfg')).useTimestampNumbering, 'use_timestamp_numbering');
  if (ts) {
    const d = new Date();
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return Number(
      `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`,
    );
  }
  return repo.latest + 1;
}

const pad = (n: number) => String(n).padStart(3, '0');

export const SCRIPT_TEMPLATE = `/**
 * Migration script. \`migrate upgrade\` calls upgrade(migrate_engine); \`migrate downgrade\` calls
 * downgrade(migrate_engine). No import is needed: migrate_engine carries everything:
 *
 *   migrate_engine.dialect       'mysql' (also MariaDB) | 'postgresql' | 'sqlite'
 *   migrate_engine.query(sql, params?)    rows; '?' placeholders on every backend
 *   migrate_engine.execute(sql, params?)  number of affected rows
 *   migrate_engine.queryRunner   TypeORM QueryRunner of the migration's own connection
 *                                (getTable(), addColumn(), createTable(), ...)
 *   migrate_engine.Table, TableColumn, TableIndex, TableForeignKey, TableUnique  (TypeORM classes)
 *   migrate_engine.logger        pino logger (info/warn/debug)
 *   migrate_engine.step          { from, to, direction }
 *
 * On PostgreSQL and SQLite the script and the version update run in one transaction: a failure
 * leaves nothing behind. On MySQL/MariaDB DDL commits by itself: write steps that can run again.
 */
export async function upgrade(migrate_engine: any): Promise<void> {
  // Upgrade operations go here.
}

export async function downgrade(migrate_engine: any): Promise<void> {
  // Operations to reverse the above upgrade go here.
}
`;

/** `script DESC REPO`: writes `versions/NNN_desc.ts` from the template; returns its path. */
export function createScript(repoPath: string, description: string): string {
  const n = nextNumber(repoPath);
  const file = path.join(repoPath, 'versions', `${pad(n)}${mangleDescription(description)}.ts`);
  if (existsSync(file)) throw new PathFoundError(`The path ${file} already exists`);
  writeFileSync(file, SCRIPT_TEMPLATE);
  return file;
}

/** `script_sql DB DESC REPO`: two empty files, `NNN_desc_DB_upgrade.sql` / `_downgrade.sql`. */
export function createSqlScript(repoPath: string, database: string, description: string): string[] {
  const n = nextNumber(repoPath);
  const base = path.join(repoPath, 'versions', `${pad(n)}${mangleDescription(description)}_${database}`);
  const files = [`${base}_upgrade.sql`, `${base}_downgrade.sql`];
  for (const f of files) if (existsSync(f)) throw new PathFoundError(`The path ${f} already exists`);
  for (const f of files) writeFileSync(f, '');
  return files;
}

/** `manage FILE --k=v...`: writes a launcher with those defaults (overwriting FILE). */
export function writeManage(file: string, defaults: Record<string, string>): void {
  writeFileSync(file, manageText(defaults), { mode: 0o755 });
}

/** `source VERSION --repository=R`: the module script's text. */
export function readSource(repoPath: string, version: number): string {
  const repo = loadRepository(repoPath);
  const entry = repo.versions.find((v) => v.version === version);
  if (!entry) throw new VersionNotFoundError(`"Database schema file with version ${version} doesn't exist."`);
  if (!entry.module) throw new ScriptError(`There is no script for ${version} version (only .sql files)`);
  return readFileSync(entry.module.absPath, 'utf8');
}

