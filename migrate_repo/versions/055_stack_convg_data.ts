/**
 * 055 — stack.prev_raw_template_id (FK prev_raw_template_ref -> raw_template.id; MariaDB backs it
 * with KEY prev_raw_template_ref), stack.current_traversal VARCHAR(36), stack.current_deps (Json).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  if (e.dialect === 'sqlite') {
    await e.query(
      'ALTER TABLE stack ADD COLUMN prev_raw_template_id INTEGER ' +
        'CONSTRAINT prev_raw_template_ref REFERENCES raw_template (id)',
    );
    await e.query('ALTER TABLE stack ADD COLUMN current_traversal VARCHAR(36)');
    await e.query('ALTER TABLE stack ADD COLUMN current_deps TEXT');
    return;
  }
  const s = await MysqlState.load(e, ['stack']);
  if (hasColumn(s, 'stack', 'prev_raw_template_id')) return;
  await e.query(
    `ALTER TABLE stack ADD COLUMN prev_raw_template_id ${t.integer}, ADD COLUMN current_traversal VARCHAR(36), ` +
      `ADD COLUMN current_deps ${t.longtext}, ADD CONSTRAINT prev_raw_template_ref ` +
      'FOREIGN KEY (prev_raw_template_id) REFERENCES raw_template (id)',
  );
}
