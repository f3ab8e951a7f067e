/**
 * Runs one parsed `migrate` command over the API and prints its output (SPEC §2): results on
 * stdout (`version`/`db_version` print a bare number; each step prints `A -> B... ` then `done`),
 * warnings and errors on stderr.
 */
import * as api from '../api.js';
import { KnownError, UsageError } from '../errors.js';
import type { EngineHooks } from '../hooks.js';
import type { StepEvent } from '../migrator.js';
import { loadRepository, planSteps } from '../repository.js';
import type { Logger } from '../script/contract.js';
import { sqlSource } from '../script/load.js';
import * as scaffold from '../scaffold.js';
import { parseUrl } from '../url.js';
import type { Io } from './main.js';
import type { Parsed } from './parse.js';

interface Ctx {
  readonly io: Io;
  readonly logger: Logger;
  readonly debug: boolean;
  readonly hooks: EngineHooks;
  readonly prog: string;
}

function onStep(io: Io) {
  return (e: StepEvent) => {
    switch (e.type) {
      case 'start':
        io.out(`${e.from} -> ${e.to}... \n`);
        break;
      case 'done':
        io.out('done\n');
        break;
      case 'resume':
        io.err(
          `step ${e.from} -> ${e.to} (${e.script}) was interrupted: started ${e.startedAt} by ${e.host} pid ${e.pid}, ${e.error ? `failed: ${e.error}` : 'did not finish'}; retrying it\n`,
        );
        break;
      case 'preview':
        io.out(`${e.from} -> ${e.to}... \n${e.text}\n`);
        break;
    }
  };
}

function lockTimeoutMs(extras: Readonly<Record<string, string | true>>): number | undefined {
  const v = extras.lock_timeout;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || n < 0) throw new UsageError(`--lock_timeout must be a number of seconds, got '${String(v)}'`);
  return n * 1000;
}

export async function execute(p: Extract<Parsed, { kind: 'run' }>, ctx: Ctx): Promise<void> {
  const { io, logger } = ctx;
  const a = p.args;
  const opts = {
    logger,
    logSql: ctx.debug,
    onStep: onStep(io),
    lockTimeoutMs: lockTimeoutMs(p.extras),
    hooks: ctx.hooks,
  };
  for (const k of ['url'] as const) {
    if (a[k]) {
      const u = parseUrl(a[k]);
      for (const ignored of u.ignoredParams) logger.warn(`ignoring unknown URL parameter '${ignored}'`);
    }
  }
  switch (p.command.name) {
    case 'create': {
      const options: Record<string, string | boolean> = {};
      for (const [k, v] of Object.entries(p.extras)) options[k] = v;
      scaffold.createRepository(a.repository!, { name: a.name!, options });
      return;
    }
    case 'script':
      scaffold.createScript(a.repository!, a.description!);
      return;
    case 'script_sql':
      scaffold.createSqlScript(a.repository!, a.database!, a.description!);
      return;
    case 'version':
      io.out(`${api.version(a.repository!)}\n`);
      return;
    case 'db_version':
      io.out(`${await api.dbVersion(a.url!, a.repository!, opts)}\n`);
      return;
    case 'version_control':
      await api.versionControl(a.url!, a.repository!, a.version, opts);
      return;
    case 'upgrade':
    case 'downgrade': {
      if (p.extras.preview_py && !p.extras.preview_sql) return previewPy(a, ctx, opts);
      const fn = p.command.name === 'upgrade' ? api.upgrade : api.downgrade;
      await fn(a.url!, a.repository!, a.version, { ...opts, previewSql: !!p.extras.preview_sql, fresh: !!p.extras.fresh });
      return;
    }
    case 'drop_version_control':
      await api.dropVersionControl(a.url!, a.repository!, opts);
      return;
    case 'test':
      await api.test(a.url!, a.repository!, {
        ...opts,
        onPhase: (phase, done) => io.out(done ? 'done\n' : phase === 'upgrade' ? 'Upgrading...\n' : 'Downgrading...\n'),
      });
      io.out('Success\n');
      return;
    case 'source': {
      if (!a.repository) throw new KnownError('A repository must be specified');
      const text = scaffold.readSource(a.repository, api.parseVersion(a.version));
      if (a.dest) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(a.dest, text);
      } else {
        io.out(`${text}\n`);
      }
      return;
    }
    case 'manage': {
      const defaults: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.extras)) defaults[k] = String(v);
      scaffold.writeManage(a.file!, defaults);
      return;
    }
    default:
      throw new UsageError(`command ${p.command.name} is not implemented`);
  }
}

/** `--preview_py`: each step's script source. */
async function previewPy(
  a: Readonly<Record<string, string>>,
  ctx: Ctx,
  opts: api.RunOptions,
): Promise<void> {
  const repo = loadRepository(a.repository!);
  const dialect = parseUrl(a.url!).dialect;
  const from = await api.dbVersion(a.url!, repo, opts);
  const target = a.version === undefined ? repo.latest : api.parseVersion(a.version);
  for (const s of planSteps(repo, from, target, dialect)) {
    ctx.io.out(`${s.from} -> ${s.to}... \n`);
    if (s.script.kind === 'sql') {
      throw new KnownError('Script source can be only displayed for module migration files (this step is a .sql file)');
    }
    ctx.io.out(`${sqlSource(s.script)}\n`);
  }
}
