/**
 * Alembic revision 97b2a986f922 (Heat master, "make snapshot state aware"): snapshot.action,
 * appended, then `action = 'CREATE'` in every row that has none, whatever its status (SPEC A4.3).
 * Both parts are safe to run again (a run stopped between them on MariaDB finishes here).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (!(await e.schema(['snapshot'])).hasColumn('snapshot', 'action')) await e.query('ALTER TABLE snapshot ADD COLUMN action VARCHAR(255)');
  await e.execute("UPDATE snapshot SET action='CREATE' WHERE snapshot.action IS NULL");
}
