/**
 * For tests of the schema gate and of steps taking over a half-applied database (issue 16): a seeded
 * database at some version, and what "unchanged" compares after a refusal.
 *
 *   await seededAt(db, 55);                      // Heat's steps to 28, the seed, then to 55
 *   const before = await stateOf(db); ...; assert.equal(await stateOf(db), before);
 */
import { introspect } from '../../migrate/catalog/introspect.js';
import type { TestDatabase } from './db.js';
import { heatUpgrade, heatVersionControl } from './heat-run.js';
import { seedAt28 } from './heat-seed.js';
import { asQueryable } from './targets.js';

/** A database at version `v`, holding the seed (heat-seed.ts) from 28 on. */
export async function seededAt(db: TestDatabase, v: number): Promise<void> {
  await heatVersionControl(db.url);
  await heatUpgrade(db.url, 28);
  await seedAt28(db);
  await heatUpgrade(db.url, v);
}

/** The catalog, every table's row count, the version: what a refusal must leave as it was. */
export async function stateOf(db: TestDatabase): Promise<string> {
  const c = await introspect(asQueryable(db));
  const counts: string[] = [];
  for (const t of c.tables().filter((x) => x !== '')) counts.push(`${t}=${String((await db.query(`SELECT COUNT(*) AS n FROM ${t}`))[0]!.n)}`);
  const v = (await db.query('SELECT version FROM migrate_version'))[0]!.version;
  return [c.serialize(), counts.join(' '), `version ${String(v)}`].join('\n');
}
