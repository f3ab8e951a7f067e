/**
 * Which config files are read: what Heat 6.0.0's heat-manage reads through oslo.config.
 *
 * heat/cmd/manage.py (6.0.0) calls
 *   default_config_files = cfg.find_config_files('heat', 'heat-engine')
 *   CONF(argv, project='heat', prog='heat-manage', default_config_files=default_config_files)
 * so, in oslo.config's order (`_get_config_dirs`, `_search_dirs`, `_find_config_files`):
 *
 * - No `--config-file`: the first `heat.conf` found in `~/.heat/`, `~/`, `/etc/heat/`, `/etc/`
 *   (then `$SNAP_COMMON/etc/heat/`, `$SNAP/etc/heat/` when those are set), then likewise the first
 *   `heat-engine.conf` — heat-engine's file, not heat-manage's (either may be missing).
 * - No `--config-dir`: the default dirs are found from CONF()'s own prog (`find_config_dirs('heat',
 *   'heat-manage')`, oslo.config >= 3.20): the first `heat.conf.d/`, then the first
 *   `heat-manage.conf.d/` in the same directories (skipped when missing); a given `--config-dir`
 *   must exist. The two searches are independent: `--config-file` does not turn the dirs off.
 * - Of a directory, every `*.conf` (not hidden) is read, sorted by name, after the files.
 *
 * Reading a file checks that it is UTF-8 and notes whether other users can read it.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { parseOsloIni, type OsloIni } from './oslo-ini.js';

export const PROJECT = 'heat';
/** The program name heat-manage gives oslo.config (CONF(prog=...)): the default config dirs, the log file name. */
export const PROG = 'heat-manage';
/** The program whose file heat-manage reads besides heat.conf (`find_config_files('heat', 'heat-engine')`). */
export const FILES_PROG = 'heat-engine';

export interface SearchRoots {
  readonly homeDir: string;
  /** `/etc`, replaceable for tests. */
  readonly etcDir: string;
  /** `$SNAP_COMMON` and `$SNAP` (oslo.config searches `<them>/etc/heat` last when set). */
  readonly snapCommon?: string;
  readonly snap?: string;
}

/** `~/.heat`, `~`, `/etc/heat`, `/etc` (+ `$SNAP_COMMON/etc/heat`, `$SNAP/etc/heat`): oslo.config's `_get_config_dirs('heat')`. */
export function searchDirs(roots: SearchRoots): string[] {
  const snaps = [roots.snapCommon, roots.snap].filter((d): d is string => !!d).map((d) => join(d, 'etc', PROJECT));
  return [join(roots.homeDir, `.${PROJECT}`), roots.homeDir, join(roots.etcDir, PROJECT), roots.etcDir, ...snaps];
}

/** The names searched: `heat.conf` + `heat-engine.conf`, or `heat.conf.d` + `heat-manage.conf.d`. */
export function defaultNames(ext: '.conf' | '.conf.d'): string[] {
  return [PROJECT, ext === '.conf' ? FILES_PROG : PROG].map((b) => b + ext);
}

/** For each of {@link defaultNames}, the first path that exists in {@link searchDirs}, in that order. */
export function findDefaults(roots: SearchRoots, ext: '.conf' | '.conf.d'): string[] {
  const found: string[] = [];
  for (const name of defaultNames(ext)) {
    const hit = searchDirs(roots)
      .map((d) => join(d, name))
      .find((p) => existsSync(p));
    if (hit) found.push(hit);
  }
  return found;
}

/** oslo's `_fixpath`: `~` expansion, then an absolute path. */
export function fixPath(p: string, homeDir: string, cwd: string): string {
  if (p === '~') p = homeDir;
  else if (p.startsWith('~/')) p = join(homeDir, p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(cwd, p);
}

/** The `*.conf` files of a directory, sorted. `given`: named by --config-dir, so it must exist. */
export function listConfigDir(dir: string, given: boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!given && code === 'ENOENT') return [];
    if (code === 'ENOENT') throw new ConfigError(`${dir}: config directory not found; check the --config-dir path`);
    if (code === 'ENOTDIR') throw new ConfigError(`${dir}: not a directory; give --config-dir a directory of *.conf files`);
    if (code === 'EACCES') {
      throw new ConfigError(`${dir}: cannot list the config directory (permission denied); fix its permissions`);
    }
    throw new ConfigError(`${dir}: cannot list the config directory (${code ?? String(e)})`);
  }
  return names
    .filter((n) => n.endsWith('.conf') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

export interface ReadConfigFile {
  readonly ini: OsloIni;
  /** Permission bits of the file (`mode & 0o777`). */
  readonly mode: number;
}

/** Reads and parses one config file; every failure is a one-line {@link ConfigError}. */
export function readConfigFile(path: string): ReadConfigFile {
  let bytes: Buffer;
  let mode: number;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      throw new ConfigError(`${path}: is a directory, not a config file; name it with --config-dir instead`);
    }
    mode = st.mode & 0o777;
    bytes = readFileSync(fd);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${path}: config file not found; check the --config-file path`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ConfigError(
        `${path}: cannot read the config file (permission denied); run as a user that may read it, or fix its permissions`,
      );
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`${path}: is a directory, not a config file; name it with --config-dir instead`);
    }
    throw new ConfigError(`${path}: cannot read the config file (${code ?? String(e)})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError(`${path}: not UTF-8 text; save the file as UTF-8`);
  }
  return { ini: parseOsloIni(text, path), mode };
}
