/**
 * Placeholder: this version number is reserved for a Newton backport (Heat 13.0.0's
 * `075_placeholder.py`). It changes nothing; only migrate_version advances.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function upgrade(_migrate_engine: MigrateEngine): Promise<void> {}
