/**
 * Runs Heat's compiled repository (`dist/migrate_repo`) through the engine's API, the way
 * `migrate version_control URL REPO 27` / `migrate upgrade URL REPO [VERSION]` do:
 *
 *   await heatVersionControl(db.url);          // version 27, Heat's INIT_VERSION
 *   await heatUpgrade(db.url, 45);             // to 45 (default: Mitaka's 71, what db_sync means without VERSION)
 *   await heatUpgrade(db.url, 71, { MIGRATE_TEST_ABORT: '57:3' });  // crash-test hook
 *
 * The engine's test hooks come from an explicit environment (never the test process's own),
 * read the way the CLI edge reads it (migrate/cli/env.ts).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from '../../migrate/api.js';
import { hooksFromEnv } from '../../migrate/cli/env.js';
import type { Logger } from '../../migrate/script/contract.js';
import { HEAT_LINEAGE } from '../../migrate_repo/heat/lineage.js';

export const HEAT_REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrate_repo');

const silent: Logger = { info() {}, warn() {}, debug() {}, error() {} } as Logger;

export async function heatVersionControl(url: string, version = 27): Promise<void> {
  await api.versionControl(url, HEAT_REPO, version, { logger: silent });
}

export async function heatUpgrade(
  url: string,
  version: number = HEAT_LINEAGE.mitaka,
  env: Record<string, string | undefined> = {},
  logger: Logger = silent,
): Promise<api.MigrateResult> {
  return api.upgrade(url, HEAT_REPO, version, { logger, hooks: hooksFromEnv(env) });
}
