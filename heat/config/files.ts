/**
 * Which config files are read, as oslo.config does it for project `heat`, program `heat-manage`:
 *
 * - No `--config-file`: the first `heat.conf` found in `~/.heat/`, `~/`, `/etc/heat/`, `/etc/`,
 *   then likewise the first `heat-manage.conf` (either may be missing).
 * - No `--config-dir`: likewise the first `heat.conf.d/` and `heat-manage.conf.d/` directories
 *   (skipped when missing); a given `--config-dir` must exist.
 * - Of a directory, every `*.conf` (not hidden) is read, sorted by name, after the files.
 *
 * Reading a file checks that it is UTF-8 and notes whether other users can read it.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { parseOsloIni, type OsloIni } from './oslo-ini.js';

export const PROJECT = 'heat';
export const PROG = 'heat-manage';

export interface SearchRoots {
  readonly homeDir: string;
  /** `/etc`, replaceable for tests. */
  readonly etcDir: string;
}

/** `~/.heat`, `~`, `/etc/heat`, `/etc`: where oslo.config looks for default files and dirs. */
export function searchDirs(roots: SearchRoots): string[] {
  return [join(roots.homeDir, `.${PROJECT}`), roots.homeDir, join(roots.etcDir, PROJECT), roots.etcDir];
}

/** For each of `heat<ext>` and `heat-manage<ext>`, the first path that exists in {@link searchDirs}. */
export function findDefaults(roots: SearchRoots, ext: '.conf' | '.conf.d'): string[] {
  const found: string[] = [];
  for (const base of [PROJECT, PROG]) {
    const hit = searchDirs(roots)
      .map((d) => join(d, base + ext))
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
