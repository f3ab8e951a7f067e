/**
 * 033 — tables software_config and software_deployment with their `index=True` indexes
 * (ix_software_config_tenant, ix_software_deployment_{created_at,server_id,tenant}). MySQL gets
 * the indexes inside CREATE TABLE (same catalog, fewer statements).
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasTable, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const my = e.dialect === 'mysql';
  const state = await MysqlState.load(e, ['software_config', 'software_deployment']);
  if (!hasTable(state, 'software_config')) {
    await e.query(
      `CREATE TABLE software_config (id VARCHAR(36) NOT NULL, created_at ${t.datetime}, updated_at ${t.datetime}, ` +
        `name VARCHAR(255), ${t.quote('group')} VARCHAR(255), config ${t.longtext}, io ${t.longtext}, ` +
        `tenant VARCHAR(64) NOT NULL, PRIMARY KEY (id)` +
        (my ? ', KEY ix_software_config_tenant (tenant)' : '') +
        `)${t.tableOptions}`,
    );
    if (!my) await e.query('CREATE INDEX ix_software_config_tenant ON software_config (tenant)');
  }
  if (!hasTable(state, 'software_deployment')) {
    await e.query(
      `CREATE TABLE software_deployment (id VARCHAR(36) NOT NULL, created_at ${t.datetime}, ` +
        `updated_at ${t.datetime}, server_id VARCHAR(36) NOT NULL, config_id VARCHAR(36) NOT NULL, ` +
        `input_values ${t.longtext}, output_values ${t.longtext}, signal_id VARCHAR(1024), action VARCHAR(255), ` +
        `status VARCHAR(255), status_reason VARCHAR(255), tenant VARCHAR(64) NOT NULL, PRIMARY KEY (id), ` +
        'FOREIGN KEY (config_id) REFERENCES software_config (id)' +
        (my
          ? ', KEY ix_software_deployment_created_at (created_at), KEY ix_software_deployment_server_id (server_id)' +
            ', KEY ix_software_deployment_tenant (tenant)'
          : '') +
        `)${t.tableOptions}`,
    );
    if (!my) {
      await e.query('CREATE INDEX ix_software_deployment_created_at ON software_deployment (created_at)');
      await e.query('CREATE INDEX ix_software_deployment_server_id ON software_deployment (server_id)');
      await e.query('CREATE INDEX ix_software_deployment_tenant ON software_deployment (tenant)');
    }
  }
}
