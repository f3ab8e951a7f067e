/**
 * The expected schema of each version, when a repository carries it (docs/CATALOG.md):
 * `<repository>/schema/<dialect>/<NNN>.tsv`. Files are read when first asked for, once.
 *
 *   const s = expectedSchemas(repo);
 *   s.get('mysql', 56)          // Catalog of version 56 on MySQL/MariaDB, or undefined
 *   s.versions('postgresql')    // the versions that have one, ascending
 */
import * as path from 'node:path';
import { Catalog, isSchemaFact } from './catalog/catalog.js';
import { nodeRepoFs, type RepoFs, type Repository } from './repository.js';
import type { DialectName } from './script/contract.js';

export interface ExpectedSchemas {
  get(dialect: DialectName, version: number): Catalog | undefined;
  versions(dialect: DialectName): number[];
}

const cache = new WeakMap<Repository, ExpectedSchemas>();

export function expectedSchemas(repo: Repository, fs: RepoFs = nodeRepoFs): ExpectedSchemas {
  const hit = cache.get(repo);
  if (hit) return hit;
  const dir = (d: DialectName) => path.join(repo.absPath, 'schema', d);
  const listed = new Map<DialectName, Map<number, string>>();
  const files = (d: DialectName): Map<number, string> => {
    let m = listed.get(d);
    if (m) return m;
    m = new Map();
    if (fs.stat(dir(d)) === 'dir') {
      for (const name of fs.readdir(dir(d))) {
        const v = /^(\d+)\.tsv$/.exec(name);
        if (v) m.set(Number(v[1]), path.join(dir(d), name));
      }
    }
    listed.set(d, m);
    return m;
  };
  const loaded = new Map<string, Catalog>();
  const s: ExpectedSchemas = {
    get(d, version) {
      const key = `${d}:${version}`;
      const have = loaded.get(key);
      if (have) return have;
      const file = files(d).get(version);
      if (!file) return undefined;
      const c = Catalog.parse(d, fs.readFile(file)).filter((f) => isSchemaFact(d, f));
      loaded.set(key, c);
      return c;
    },
    versions: (d) => [...files(d).keys()].sort((a, b) => a - b),
  };
  cache.set(repo, s);
  return s;
}

/**
 * The same repository seen with other expected schemas (a copy: the original keeps its own). For a
 * database whose schema is known to carry more than its version's (e.g. revisions applied on top
 * of an older version: migrate/revisions.ts stampedEarlySchemas), so that the gate and each step's
 * check compare it with what it really should be.
 */
export function withSchemas(repo: Repository, schemas: ExpectedSchemas): Repository {
  const copy: Repository = { ...repo };
  cache.set(copy, schemas);
  return copy;
}
