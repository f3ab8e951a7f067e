/**
 * 061 — status_reason becomes TEXT (not LONGTEXT, despite the name) in stack, resource and
 * software_deployment; values are kept. SQLite rebuilds the three tables.
 *
 * Real Heat changes the three tables one statement each: a run stopped between them (ours or Heat's)
 * is finished by changing the tables whose column is not TEXT yet.
 */
import type { MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween } from '../lib/assess.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';

const TABLES = ['stack', 'resource', 'software_deployment'] as const;

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'sqlite') return sqlite(e);
  const c = await e.schema(TABLES);
  for (const table of TABLES) {
    if (String(c.find('column', table, 'status_reason')?.type).toLowerCase() === 'text') continue;
    await e.query(
      e.dialect === 'mysql'
        ? `ALTER TABLE ${table} MODIFY status_reason TEXT`
        : `ALTER TABLE ${table} ALTER COLUMN status_reason TYPE TEXT`,
    );
  }
}

export const assess = (s: StepState) => assessBetween(s);

async function sqlite(e: MigrateEngine): Promise<void> {
  await rebuildTable(e, {
    table: 'stack',
    body:
      'id VARCHAR(36) NOT NULL, created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, name VARCHAR(255), ' +
      'raw_template_id INTEGER NOT NULL, user_creds_id INTEGER, username VARCHAR(256), owner_id VARCHAR(36), ' +
      'action VARCHAR(255), status VARCHAR(255), status_reason TEXT, timeout INTEGER, tenant VARCHAR(256), ' +
      'disable_rollback BOOLEAN NOT NULL, stack_user_project_id VARCHAR(64), backup BOOLEAN, nested_depth INTEGER, ' +
      'convergence BOOLEAN, prev_raw_template_id INTEGER, current_traversal VARCHAR(36), current_deps TEXT, ' +
      'PRIMARY KEY (id), FOREIGN KEY (raw_template_id) REFERENCES raw_template (id), ' +
      'FOREIGN KEY (user_creds_id) REFERENCES user_creds (id), ' +
      'CONSTRAINT prev_raw_template_ref FOREIGN KEY (prev_raw_template_id) REFERENCES raw_template (id)',
    columns: [
      'id', 'created_at', 'updated_at', 'deleted_at', 'name', 'raw_template_id', 'user_creds_id', 'username',
      'owner_id', 'action', 'status', 'status_reason', 'timeout', 'tenant', 'disable_rollback',
      'stack_user_project_id', 'backup', 'nested_depth', 'convergence', 'prev_raw_template_id', 'current_traversal',
      'current_deps',
    ],
    indexes: ['CREATE INDEX ix_stack_name ON stack (name)', 'CREATE INDEX ix_stack_tenant ON stack (tenant)'],
  });
  await rebuildTable(e, {
    table: 'resource',
    body:
      'id INTEGER NOT NULL, stack_id VARCHAR(36) NOT NULL, uuid VARCHAR(36), name VARCHAR(255), ' +
      'nova_instance VARCHAR(255), action VARCHAR(255), status VARCHAR(255), status_reason TEXT, ' +
      'rsrc_metadata TEXT, properties_data TEXT, created_at DATETIME, updated_at DATETIME, engine_id VARCHAR(36), ' +
      'atomic_key INTEGER, needed_by TEXT, requires TEXT, replaces INTEGER, replaced_by INTEGER, ' +
      'current_template_id INTEGER, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id), ' +
      'CONSTRAINT current_template_fkey_ref FOREIGN KEY (current_template_id) REFERENCES raw_template (id), ' +
      'UNIQUE (uuid)',
    columns: [
      'id', 'stack_id', 'uuid', 'name', 'nova_instance', 'action', 'status', 'status_reason', 'rsrc_metadata',
      'properties_data', 'created_at', 'updated_at', 'engine_id', 'atomic_key', 'needed_by', 'requires', 'replaces',
      'replaced_by', 'current_template_id',
    ],
  });
  await rebuildTable(e, {
    table: 'software_deployment',
    body:
      'id VARCHAR(36) NOT NULL, created_at DATETIME, updated_at DATETIME, server_id VARCHAR(36) NOT NULL, ' +
      'config_id VARCHAR(36) NOT NULL, input_values TEXT, output_values TEXT, action VARCHAR(255), ' +
      'status VARCHAR(255), status_reason TEXT, tenant VARCHAR(64) NOT NULL, stack_user_project_id VARCHAR(64), ' +
      'PRIMARY KEY (id), FOREIGN KEY (config_id) REFERENCES software_config (id)',
    columns: [
      'id', 'created_at', 'updated_at', 'server_id', 'config_id', 'input_values', 'output_values', 'action', 'status',
      'status_reason', 'tenant', 'stack_user_project_id',
    ],
    indexes: [
      'CREATE INDEX ix_software_deployment_created_at ON software_deployment (created_at)',
      'CREATE INDEX ix_software_deployment_server_id ON software_deployment (server_id)',
      'CREATE INDEX ix_software_deployment_tenant ON software_deployment (tenant)',
    ],
  });
}
