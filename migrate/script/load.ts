/**
 * Loads and runs one script file: a module (`.ts` through tsx, loaded only when such a script must
 * run; `.js`/`.mjs`/`.cjs` natively) or a `.sql` file split into statements.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InvalidScriptError, ScriptError } from '../errors.js';
import type { ScriptFile } from '../repository.js';
import { splitStatements } from '../sql.js';
import type { Logger, MigrateEngine, ScriptModule } from './contract.js';

const TS = /\.(ts|mts|cts)$/;

export async function loadModule(file: ScriptFile): Promise<ScriptModule> {
  const href = pathToFileURL(file.absPath).href;
  let mod: Record<string, unknown>;
  try {
    if (TS.test(file.absPath)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(href, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(href)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new InvalidScriptError(`${file.relPath}: cannot load: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  // CommonJS modules (and tsx's interop) put the exports on `default`.
  const def = mod.default as Record<string, unknown> | undefined;
  const pick = (name: string) =>
    typeof mod[name] === 'function' ? mod[name] : def && typeof def[name] === 'function' ? def[name] : undefined;
  return {
    upgrade: pick('upgrade') as ScriptModule['upgrade'],
    downgrade: pick('downgrade') as ScriptModule['downgrade'],
    assess: pick('assess') as ScriptModule['assess'],
  };
}

/** Runs a module script's upgrade or downgrade. */
export async function runModule(file: ScriptFile, direction: 'upgrade' | 'downgrade', engine: MigrateEngine): Promise<void> {
  if (file.kind === 'python') {
    throw new ScriptError(`${file.relPath} is a Python script; port it to TypeScript or JavaScript (same upgrade(migrate_engine) contract)`);
  }
  const mod = await loadModule(file);
  const fn = mod[direction];
  if (!fn) {
    if (direction === 'upgrade') throw new InvalidScriptError(`${file.relPath}: module has no function 'upgrade'`);
    throw new ScriptError(`Function 'downgrade' is not defined in this script (${file.relPath})`);
  }
  await fn(engine);
}

/** The statements of a .sql script, without the BEGIN/END/COMMIT ones (skipped with a warning). */
export function sqlStatements(file: ScriptFile, logger: Logger): string[] {
  const text = readFileSync(file.absPath, 'utf8');
  const out: string[] = [];
  for (const stmt of splitStatements(text)) {
    if (/^\s*(BEGIN|END|COMMIT)\b/i.test(stmt)) {
      logger.warn(`"${stmt};" found in SQL script; ignoring`);
      continue;
    }
    if (/^\s*ROLLBACK\b/i.test(stmt)) {
      // The Python tool ran it and then bumped the version of a step that did nothing (SPEC §12.9).
      throw new ScriptError(`${file.relPath}: contains ROLLBACK, which would undo the step and still record it; remove it`);
    }
    out.push(stmt);
  }
  return out;
}

export function sqlSource(file: ScriptFile): string {
  return readFileSync(file.absPath, 'utf8');
}
