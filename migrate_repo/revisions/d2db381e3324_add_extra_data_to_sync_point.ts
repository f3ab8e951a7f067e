/**
 * Alembic revision d2db381e3324 (Heat master, "Add extra_data column to sync_point table"):
 * sync_point.extra_data (Heat's Json: LONGTEXT on MariaDB, TEXT elsewhere), appended, NULL in
 * every existing row (SPEC A4.3). Already there (a run stopped after it on MariaDB): nothing to do.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if ((await e.schema(['sync_point'])).hasColumn('sync_point', 'extra_data')) return;
  await e.query(`ALTER TABLE sync_point ADD COLUMN extra_data ${types(e.dialect).longtext}`);
}
