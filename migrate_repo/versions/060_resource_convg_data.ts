/**
 * 060 — resource.needed_by, requires (List: LONGTEXT/TEXT), replaces, replaced_by,
 * current_template_id (Integer; FK current_template_fkey_ref -> raw_template.id).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasColumn, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const cols: Array<[string, string]> = [
    ['needed_by', t.longtext],
    ['requires', t.longtext],
    ['replaces', t.integer],
    ['replaced_by', t.integer],
  ];
  if (e.dialect === 'sqlite') {
    for (const [name, def] of cols) await e.query(`ALTER TABLE resource ADD COLUMN ${name} ${def}`);
    await e.query(
      'ALTER TABLE resource ADD COLUMN current_template_id INTEGER ' +
        'CONSTRAINT current_template_fkey_ref REFERENCES raw_template (id)',
    );
    return;
  }
  const s = await MysqlState.load(e, ['resource']);
  if (hasColumn(s, 'resource', 'current_template_id')) return;
  await e.query(
    `ALTER TABLE resource ${cols.map(([n, d]) => `ADD COLUMN ${n} ${d}`).join(', ')}, ` +
      `ADD COLUMN current_template_id ${t.integer}, ADD CONSTRAINT current_template_fkey_ref ` +
      'FOREIGN KEY (current_template_id) REFERENCES raw_template (id)',
  );
}
