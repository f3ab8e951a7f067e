/**
 * Heat's stack-side models at schema version 71: RawTemplate, UserCreds, Stack, StackTag,
 * StackLock, Snapshot. Property names are the column names (as in Heat's SQLAlchemy models).
 */
import type { EntitySchema } from 'typeorm';
import { defineEntity, manyToOne, oneToMany, timestamps, type Kit } from './kit.js';
import type { Event, Resource } from './resource.js';

export interface RawTemplate {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  template: unknown;
  files: unknown;
  environment: unknown;
}

export interface UserCreds {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  username: string | null;
  password: string | null;
  tenant: string | null;
  auth_url: string | null;
  tenant_id: string | null;
  trust_id: string | null;
  trustor_user_id: string | null;
  decrypt_method: string | null;
  region_name: string | null;
}

export interface Stack {
  id: string;
  created_at: Date | null;
  updated_at: Date | null;
  deleted_at: Date | null;
  name: string | null;
  raw_template_id: number;
  user_creds_id: number | null;
  username: string | null;
  owner_id: string | null;
  action: string | null;
  status: string | null;
  status_reason: string | null;
  timeout: number | null;
  tenant: string | null;
  disable_rollback: boolean;
  stack_user_project_id: string | null;
  backup: boolean | null;
  nested_depth: number | null;
  convergence: boolean | null;
  prev_raw_template_id: number | null;
  current_traversal: string | null;
  current_deps: unknown;
  parent_resource_name: string | null;
  raw_template?: RawTemplate;
  prev_raw_template?: RawTemplate | null;
  user_creds?: UserCreds | null;
  tags?: StackTag[];
  resources?: Resource[];
  events?: Event[];
}

export interface StackTag {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  tag: string | null;
  stack_id: string;
  stack?: Stack;
}

export interface StackLock {
  stack_id: string;
  created_at: Date | null;
  updated_at: Date | null;
  engine_id: string | null;
  stack?: Stack;
}

export interface Snapshot {
  id: string;
  stack_id: string;
  name: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  status: string | null;
  status_reason: string | null;
  data: unknown;
  tenant: string;
  stack?: Stack;
}

export function rawTemplateEntity(k: Kit): EntitySchema<RawTemplate> {
  return defineEntity<RawTemplate>(k, {
    name: 'RawTemplate',
    table: 'raw_template',
    columns: { id: k.intPk(), ...timestamps(k), template: k.json(), files: k.json(), environment: k.json() },
  });
}

export function userCredsEntity(k: Kit): EntitySchema<UserCreds> {
  return defineEntity<UserCreds>(k, {
    name: 'UserCreds',
    table: 'user_creds',
    columns: {
      id: k.intPk(),
      ...timestamps(k),
      username: k.str(255),
      password: k.str(255),
      tenant: k.str(1024),
      auth_url: k.text(),
      tenant_id: k.str(256),
      trust_id: k.str(255),
      trustor_user_id: k.str(64),
      decrypt_method: k.str(64),
      region_name: k.str(255),
    },
  });
}

export function stackEntity(k: Kit): EntitySchema<Stack> {
  return defineEntity<Stack>(k, {
    name: 'Stack',
    table: 'stack',
    columns: {
      id: k.str(36, { primary: true }),
      ...timestamps(k),
      deleted_at: k.datetime(),
      name: k.str(255),
      raw_template_id: k.int({ nullable: false }),
      user_creds_id: k.int(),
      username: k.str(256),
      owner_id: k.str(36),
      action: k.str(255),
      status: k.str(255),
      status_reason: k.text(),
      timeout: k.int(),
      tenant: k.str(256),
      disable_rollback: k.bool({ nullable: false }),
      stack_user_project_id: k.str(64),
      backup: k.bool(),
      nested_depth: k.int(),
      convergence: k.bool(),
      prev_raw_template_id: k.int(),
      current_traversal: k.str(36),
      current_deps: k.json(),
      parent_resource_name: k.str(255),
    },
    relations: {
      raw_template: manyToOne(k, 'RawTemplate', 'raw_template_id', { mysql: 'stack_ibfk_1', postgresql: 'stack_raw_template_id_fkey' }),
      user_creds: manyToOne(k, 'UserCreds', 'user_creds_id', { mysql: 'stack_ibfk_2', postgresql: 'stack_user_creds_id_fkey' }),
      prev_raw_template: manyToOne(k, 'RawTemplate', 'prev_raw_template_id', {
        mysql: 'prev_raw_template_ref',
        postgresql: 'prev_raw_template_ref',
        sqlite: 'prev_raw_template_ref',
      }),
      tags: oneToMany('StackTag', 'stack'),
      resources: oneToMany('Resource', 'stack'),
      events: oneToMany('Event', 'stack'),
    },
    // 053 and 071; ix_stack_tenant is `tenant(255)` on MariaDB (a prefix TypeORM cannot declare).
    indices: [
      { name: 'ix_stack_name', columns: ['name'] },
      { name: 'ix_stack_tenant', columns: ['tenant'] },
      { name: 'ix_stack_owner_id', columns: ['owner_id'] },
    ],
    mysqlFkIndexes: [
      ['raw_template_id', 'raw_template_id'],
      ['user_creds_id', 'user_creds_id'],
      ['prev_raw_template_ref', 'prev_raw_template_id'],
    ],
  });
}

export function stackTagEntity(k: Kit): EntitySchema<StackTag> {
  return defineEntity<StackTag>(k, {
    name: 'StackTag',
    table: 'stack_tag',
    columns: { id: k.intPk(), ...timestamps(k), tag: k.str(80), stack_id: k.str(36, { nullable: false }) },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'stack_tag_ibfk_1', postgresql: 'stack_tag_stack_id_fkey' }, 'tags'),
    },
    mysqlFkIndexes: [['stack_id', 'stack_id']],
  });
}

export function stackLockEntity(k: Kit): EntitySchema<StackLock> {
  return defineEntity<StackLock>(k, {
    name: 'StackLock',
    table: 'stack_lock',
    columns: { stack_id: k.str(36, { primary: true }), ...timestamps(k), engine_id: k.str(36) },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'stack_lock_ibfk_1', postgresql: 'stack_lock_stack_id_fkey' }),
    },
  });
}

export function snapshotEntity(k: Kit): EntitySchema<Snapshot> {
  return defineEntity<Snapshot>(k, {
    name: 'Snapshot',
    table: 'snapshot',
    columns: {
      id: k.str(36, { primary: true }),
      stack_id: k.str(36, { nullable: false }),
      name: k.str(255),
      ...timestamps(k),
      status: k.str(255),
      status_reason: k.str(255),
      data: k.json(),
      tenant: k.str(64, { nullable: false }),
    },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'snapshot_ibfk_1', postgresql: 'snapshot_stack_id_fkey' }),
    },
    indices: [{ name: 'ix_snapshot_tenant', columns: ['tenant'] }],
    mysqlFkIndexes: [['stack_id', 'stack_id']],
  });
}
