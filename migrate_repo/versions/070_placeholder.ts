/**
 * Placeholder: this version number is reserved for a Liberty backport. It changes nothing; only
 * migrate_version advances.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function upgrade(_migrate_engine: MigrateEngine): Promise<void> {}
