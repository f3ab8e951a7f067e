/**
 * 028 — Havana baseline: the eight tables of Heat 2013.2 (MIGRATIONS.md §3, 028).
 *
 * FKs are declared unnamed inside CREATE TABLE, so InnoDB names them `<table>_ibfk_<n>` with an
 * index named after the column, and PostgreSQL `<table>_<col>_fkey`.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { types } from '../lib/dialect.js';
import { hasTable, MysqlState } from '../lib/mysql-state.js';

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  const t = types(e.dialect);
  const v = (n: number) => `VARCHAR(${n})`;
  const tables: Array<[string, string]> = [
    [
      'raw_template',
      `id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, template ${t.longtext}, PRIMARY KEY (id)`,
    ],
    [
      'user_creds',
      `id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, username ${v(255)}, ` +
        `password ${v(255)}, tenant ${v(1024)}, auth_url ${t.text}, tenant_id ${v(256)}, trust_id ${v(255)}, ` +
        `trustor_user_id ${v(64)}, PRIMARY KEY (id)`,
    ],
    [
      'stack',
      `id ${v(36)} NOT NULL, created_at ${t.datetime}, updated_at ${t.datetime}, deleted_at ${t.datetime}, ` +
        `name ${v(255)}, raw_template_id ${t.integer} NOT NULL, user_creds_id ${t.integer} NOT NULL, ` +
        `username ${v(256)}, owner_id ${v(36)}, action ${v(255)}, status ${v(255)}, status_reason ${v(255)}, ` +
        `parameters ${t.longtext}, timeout ${t.integer}, tenant ${v(256)}, disable_rollback ${t.boolean} NOT NULL, ` +
        `PRIMARY KEY (id), FOREIGN KEY (raw_template_id) REFERENCES raw_template (id), ` +
        `FOREIGN KEY (user_creds_id) REFERENCES user_creds (id)`,
    ],
    [
      'resource',
      `id ${v(36)} NOT NULL, nova_instance ${v(255)}, name ${v(255)}, created_at ${t.datetime}, ` +
        `updated_at ${t.datetime}, action ${v(255)}, status ${v(255)}, status_reason ${v(255)}, ` +
        `stack_id ${v(36)} NOT NULL, rsrc_metadata ${t.longtext}, PRIMARY KEY (id), ` +
        `FOREIGN KEY (stack_id) REFERENCES stack (id)`,
    ],
    [
      'resource_data',
      `id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, ${t.quote('key')} ${v(255)}, ` +
        `value ${t.text}, redact ${t.boolean}, resource_id ${v(36)} NOT NULL, PRIMARY KEY (id), ` +
        `FOREIGN KEY (resource_id) REFERENCES resource (id)`,
    ],
    [
      'event',
      `id ${t.serial}, stack_id ${v(36)} NOT NULL, created_at ${t.datetime}, updated_at ${t.datetime}, ` +
        `resource_action ${v(255)}, resource_status ${v(255)}, resource_name ${v(255)}, ` +
        `physical_resource_id ${v(255)}, resource_status_reason ${v(255)}, resource_type ${v(255)}, ` +
        `resource_properties ${t.blob}, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id)`,
    ],
    [
      'watch_rule',
      `id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, name ${v(255)}, state ${v(255)}, ` +
        `rule ${t.longtext}, last_evaluated ${t.datetime}, stack_id ${v(36)} NOT NULL, PRIMARY KEY (id), ` +
        `FOREIGN KEY (stack_id) REFERENCES stack (id)`,
    ],
    [
      'watch_data',
      `id ${t.serial}, created_at ${t.datetime}, updated_at ${t.datetime}, data ${t.longtext}, ` +
        `watch_rule_id ${t.integer} NOT NULL, PRIMARY KEY (id), FOREIGN KEY (watch_rule_id) REFERENCES watch_rule (id)`,
    ],
  ];
  const state = await MysqlState.load(
    e,
    tables.map(([name]) => name),
  );
  for (const [name, body] of tables) {
    if (hasTable(state, name)) continue;
    await e.query(`CREATE TABLE ${name} (${body})${t.tableOptions}`);
  }
}
