/**
 * Alembic revision 88be64598c0f (Heat master, "Add resource_snapshot table"): the table
 * resource_snapshot (id, snapshot_id -> snapshot.id, resource_name, created_at, updated_at, data)
 * and its index ix_resource_snapshot_snapshot_id (SPEC A4.3).
 *
 * MariaDB (SPEC A5.3, a BUG of real master): the table gets the character set and collation of
 * `snapshot`, read from information_schema, instead of the database default. On a database
 * upgraded from Mitaka that is utf8mb3 whatever the default; real master creates it with the
 * default and, on a utf8mb4 database, InnoDB refuses the FK (errno 150). On a fresh install
 * `snapshot` has the default itself, so the table is exactly real master's. Should the FK column's
 * character set still differ from snapshot.id's, the step stops naming both tables before any DDL.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const c = await e.schema(['resource_snapshot']);
  if (!c.hasTable('resource_snapshot')) {
    let options = '';
    if (e.dialect === 'mysql') {
      const [row] = await e.query(
        "SELECT t.TABLE_COLLATION AS tc, c.CHARACTER_SET_NAME AS cs, c.COLLATION_NAME AS cc FROM information_schema.TABLES t " +
          "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.COLUMN_NAME = 'id' " +
          "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = 'snapshot'",
      );
      if (!row) throw new Error('revision 88be64598c0f: table snapshot (or its id column) not found; the database is not at revision d2db381e3324');
      const collation = String(row.tc);
      const charset = collation.split('_')[0]!;
      if (row.cs !== null && String(row.cs) !== charset) {
        throw new Error(
          `revision 88be64598c0f: resource_snapshot.snapshot_id would be ${charset} (the table charset of snapshot) but snapshot.id is ${String(row.cs)}: ` +
            'InnoDB would refuse the foreign key (errno 150); convert snapshot to one character set first',
        );
      }
      options = ` ENGINE=InnoDB DEFAULT CHARSET=${charset} COLLATE=${collation}`;
    }
    await e.query(
      `CREATE TABLE resource_snapshot (id VARCHAR(36) NOT NULL, snapshot_id VARCHAR(36) NOT NULL, resource_name VARCHAR(255) NOT NULL, ` +
        `created_at ${t.datetime}, updated_at ${t.datetime}, data ${t.longtext}, PRIMARY KEY (id), ` +
        `FOREIGN KEY(snapshot_id) REFERENCES snapshot (id))${options}`,
    );
  }
  const ix = await e.schema(['resource_snapshot']);
  if (!ix.all('index', 'resource_snapshot').some((i) => i.name === 'ix_resource_snapshot_snapshot_id')) {
    await e.query('CREATE INDEX ix_resource_snapshot_snapshot_id ON resource_snapshot (snapshot_id)');
  }
}
