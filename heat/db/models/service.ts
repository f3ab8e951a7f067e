/**
 * Heat's remaining models at schema version 71: Service, WatchRule, WatchData, and the
 * sqlalchemy-migrate bookkeeping table `migrate_version` (MigrateVersion).
 */
import type { EntitySchema } from 'typeorm';
import { defineEntity, manyToOne, oneToMany, timestamps, type Kit } from './kit.js';
import type { Stack } from './stack.js';

export interface Service {
  id: string;
  engine_id: string;
  host: string;
  hostname: string;
  binary: string;
  topic: string;
  report_interval: number;
  created_at: Date | null;
  updated_at: Date | null;
  deleted_at: Date | null;
}

export interface WatchRule {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  name: string | null;
  state: string | null;
  rule: unknown;
  last_evaluated: Date | null;
  stack_id: string;
  stack?: Stack;
  watch_data?: WatchData[];
}

export interface WatchData {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  data: unknown;
  watch_rule_id: number;
  watch_rule?: WatchRule;
}

export interface MigrateVersion {
  repository_id: string;
  repository_path: string | null;
  version: number | null;
}

export function serviceEntity(k: Kit): EntitySchema<Service> {
  return defineEntity<Service>(k, {
    name: 'Service',
    table: 'service',
    columns: {
      id: k.str(36, { primary: true }),
      engine_id: k.str(36, { nullable: false }),
      host: k.str(255, { nullable: false }),
      hostname: k.str(255, { nullable: false }),
      binary: k.str(255, { nullable: false }),
      topic: k.str(255, { nullable: false }),
      report_interval: k.int({ nullable: false }),
      ...timestamps(k),
      deleted_at: k.datetime(),
    },
  });
}

export function watchRuleEntity(k: Kit): EntitySchema<WatchRule> {
  return defineEntity<WatchRule>(k, {
    name: 'WatchRule',
    table: 'watch_rule',
    columns: {
      id: k.intPk(),
      ...timestamps(k),
      name: k.str(255),
      state: k.str(255),
      rule: k.json(),
      last_evaluated: k.datetime(),
      stack_id: k.str(36, { nullable: false }),
    },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'watch_rule_ibfk_1', postgresql: 'watch_rule_stack_id_fkey' }),
      watch_data: oneToMany('WatchData', 'watch_rule'),
    },
    mysqlFkIndexes: [['stack_id', 'stack_id']],
  });
}

export function watchDataEntity(k: Kit): EntitySchema<WatchData> {
  return defineEntity<WatchData>(k, {
    name: 'WatchData',
    table: 'watch_data',
    columns: { id: k.intPk(), ...timestamps(k), data: k.json(), watch_rule_id: k.int({ nullable: false }) },
    relations: {
      watch_rule: manyToOne(
        k,
        'WatchRule',
        'watch_rule_id',
        { mysql: 'watch_data_ibfk_1', postgresql: 'watch_data_watch_rule_id_fkey' },
        'watch_data',
      ),
    },
    mysqlFkIndexes: [['watch_rule_id', 'watch_rule_id']],
  });
}

export function migrateVersionEntity(k: Kit): EntitySchema<MigrateVersion> {
  return defineEntity<MigrateVersion>(k, {
    name: 'MigrateVersion',
    table: 'migrate_version',
    columns: { repository_id: k.str(250, { primary: true }), repository_path: k.text(), version: k.int() },
  });
}
