/**
 * 039 — stack.user_creds_id becomes nullable (SQLite: table rebuild). Its one ALTER is idempotent
 * on MySQL and PostgreSQL, so a run stopped after it but before the version bump (ours on MySQL, or
 * real Heat's) is finished by running it again.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

export const assess = (s: StepState) => assessBetween(s);

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    await e.query('ALTER TABLE stack MODIFY user_creds_id INTEGER'); // idempotent
  } else if (e.dialect === 'postgresql') {
    await e.query('ALTER TABLE stack ALTER COLUMN user_creds_id DROP NOT NULL');
  } else {
    await rebuildTable(e, {
      table: 'stack',
      body:
        'id VARCHAR(36) NOT NULL, created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, name VARCHAR(255), ' +
        'raw_template_id INTEGER NOT NULL, user_creds_id INTEGER, username VARCHAR(256), owner_id VARCHAR(36), ' +
        'action VARCHAR(255), status VARCHAR(255), status_reason VARCHAR(255), parameters TEXT, timeout INTEGER, ' +
        'tenant VARCHAR(256), disable_rollback BOOLEAN NOT NULL, stack_user_project_id VARCHAR(64), ' +
        'PRIMARY KEY (id), FOREIGN KEY (raw_template_id) REFERENCES raw_template (id), ' +
        'FOREIGN KEY (user_creds_id) REFERENCES user_creds (id)',
      columns: [
        'id', 'created_at', 'updated_at', 'deleted_at', 'name', 'raw_template_id', 'user_creds_id', 'username',
        'owner_id', 'action', 'status', 'status_reason', 'parameters', 'timeout', 'tenant', 'disable_rollback',
        'stack_user_project_id',
      ],
    });
  }
}
