/**
 * 030 — re-declares stack.id, event.id and resource.id as VARCHAR(36) primary keys with a Python
 * uuid default. No column changes type on any dialect (the ALTERs Heat emits are no-ops and
 * SQLite's rebuilds reproduce the same tables), so nothing needs to run.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function upgrade(_migrate_engine: MigrateEngine): Promise<void> {}
