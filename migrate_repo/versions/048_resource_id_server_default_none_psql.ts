/** 048 — PostgreSQL only: drop any server default of resource.id (there is none on a database built by these scripts). */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  if (migrate_engine.dialect === 'postgresql') {
    await migrate_engine.query('ALTER TABLE resource ALTER COLUMN id DROP DEFAULT');
  }
}
