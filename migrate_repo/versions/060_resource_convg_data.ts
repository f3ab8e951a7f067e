/**
 * 060 — resource.needed_by, requires (List: LONGTEXT/TEXT), replaces, replaced_by,
 * current_template_id (Integer; FK current_template_fkey_ref -> raw_template.id).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasColumn, hasForeignKey, MysqlState } from '../lib/mysql-state.js';

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
  const fk = 'ADD CONSTRAINT current_template_fkey_ref FOREIGN KEY (current_template_id) REFERENCES raw_template (id)';
  const add = `${cols.map(([n, d]) => `ADD COLUMN ${n} ${d}`).join(', ')}, ADD COLUMN current_template_id ${t.integer}`;
  if (e.dialect === 'postgresql') {
    await e.query(`ALTER TABLE resource ${add}, ${fk}`);
    return;
  }
  // MySQL: in one ALTER, the foreign key makes MariaDB copy the whole resource table (ALGORITHM=COPY:
  // 183 s at 1 000 000 resources on a 128 MB buffer pool). The columns are added first (instantly, at
  // the end), then the key with foreign_key_checks off, which MariaDB adds in place (its index only).
  // Nothing is left unchecked: the column is new and NULL in every row. The schema is the same.
  const s = await MysqlState.load(e, ['resource']);
  if (!hasColumn(s, 'resource', 'current_template_id')) await e.query(`ALTER TABLE resource ${add}`);
  if (hasForeignKey(s, 'resource', 'current_template_fkey_ref')) return;
  await e.query('SET SESSION foreign_key_checks = 0');
  try {
    await e.query(`ALTER TABLE resource ${fk}`);
  } finally {
    await e.query('SET SESSION foreign_key_checks = 1');
  }
}
