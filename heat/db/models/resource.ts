/**
 * Heat's resource-side models at schema version 71: Resource, ResourceData, Event, SyncPoint.
 * Property names are the column names (as in Heat's SQLAlchemy models).
 */
import type { EntitySchema } from 'typeorm';
import { defineEntity, manyToOne, oneToMany, timestamps, type Kit } from './kit.js';
import type { RawTemplate, Stack } from './stack.js';

export interface Resource {
  id: number;
  uuid: string | null;
  nova_instance: string | null;
  name: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  action: string | null;
  status: string | null;
  status_reason: string | null;
  stack_id: string;
  rsrc_metadata: unknown;
  properties_data: unknown;
  engine_id: string | null;
  atomic_key: number | null;
  needed_by: unknown;
  requires: unknown;
  replaces: number | null;
  replaced_by: number | null;
  current_template_id: number | null;
  properties_data_encrypted: boolean | null;
  root_stack_id: string | null;
  stack?: Stack;
  current_template?: RawTemplate | null;
  data?: ResourceData[];
}

export interface ResourceData {
  id: number;
  created_at: Date | null;
  updated_at: Date | null;
  key: string | null;
  value: string | null;
  redact: boolean | null;
  decrypt_method: string | null;
  resource_id: number;
  resource?: Resource;
}

export interface Event {
  id: number;
  uuid: string | null;
  stack_id: string;
  created_at: Date | null;
  updated_at: Date | null;
  resource_action: string | null;
  resource_status: string | null;
  resource_name: string | null;
  physical_resource_id: string | null;
  resource_status_reason: string | null;
  resource_type: string | null;
  /** Python pickle bytes (PickleType). */
  resource_properties: Buffer | null;
  stack?: Stack;
}

export interface SyncPoint {
  entity_id: string;
  traversal_id: string;
  is_update: boolean;
  atomic_key: number;
  stack_id: string;
  input_data: unknown;
  created_at: Date | null;
  updated_at: Date | null;
  stack?: Stack;
}

export function resourceEntity(k: Kit): EntitySchema<Resource> {
  return defineEntity<Resource>(k, {
    name: 'Resource',
    table: 'resource',
    columns: {
      id: k.intPk(),
      uuid: k.str(36),
      nova_instance: k.str(255),
      name: k.str(255),
      ...timestamps(k),
      action: k.str(255),
      status: k.str(255),
      status_reason: k.text(),
      stack_id: k.str(36, { nullable: false }),
      rsrc_metadata: k.json(),
      properties_data: k.json(),
      engine_id: k.str(36),
      atomic_key: k.int(),
      needed_by: k.json(),
      requires: k.json(),
      replaces: k.int(),
      replaced_by: k.int(),
      current_template_id: k.int(),
      properties_data_encrypted: k.bool(),
      root_stack_id: k.str(36),
    },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'resource_ibfk_1', postgresql: 'resource_stack_id_fkey' }, 'resources'),
      current_template: manyToOne(k, 'RawTemplate', 'current_template_id', {
        mysql: 'current_template_fkey_ref',
        postgresql: 'current_template_fkey_ref',
        sqlite: 'current_template_fkey_ref',
      }),
      data: oneToMany('ResourceData', 'resource'),
    },
    uniques: [{ name: k.pick({ mysql: 'resource_uuid_key', postgresql: 'resource_uuid_key' }), columns: ['uuid'] }],
    indices: [{ name: 'ix_resource_root_stack_id', columns: ['root_stack_id'] }],
    mysqlFkIndexes: [
      ['stack_id', 'stack_id'],
      ['current_template_fkey_ref', 'current_template_id'],
    ],
  });
}

export function resourceDataEntity(k: Kit): EntitySchema<ResourceData> {
  return defineEntity<ResourceData>(k, {
    name: 'ResourceData',
    table: 'resource_data',
    columns: {
      id: k.intPk(),
      ...timestamps(k),
      key: k.str(255),
      value: k.text(),
      redact: k.bool(),
      decrypt_method: k.str(64),
      resource_id: k.int({ nullable: false }),
    },
    relations: {
      // Re-created by 057 through sqlalchemy-migrate: the same name on MariaDB and PostgreSQL.
      resource: manyToOne(
        k,
        'Resource',
        'resource_id',
        { mysql: 'resource_data_resource_id_fkey', postgresql: 'resource_data_resource_id_fkey' },
        'data',
      ),
    },
    mysqlFkIndexes: [['resource_data_resource_id_fkey', 'resource_id']],
  });
}

export function eventEntity(k: Kit): EntitySchema<Event> {
  return defineEntity<Event>(k, {
    name: 'Event',
    table: 'event',
    columns: {
      id: k.intPk(),
      uuid: k.str(36),
      stack_id: k.str(36, { nullable: false }),
      ...timestamps(k),
      resource_action: k.str(255),
      resource_status: k.str(255),
      resource_name: k.str(255),
      physical_resource_id: k.str(255),
      resource_status_reason: k.str(255),
      resource_type: k.str(255),
      resource_properties: k.blob(),
    },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'event_ibfk_1', postgresql: 'event_stack_id_fkey' }, 'events'),
    },
    uniques: [{ name: k.pick({ mysql: 'event_uuid_key', postgresql: 'event_uuid_key' }), columns: ['uuid'] }],
    mysqlFkIndexes: [['stack_id', 'stack_id']],
  });
}

export function syncPointEntity(k: Kit): EntitySchema<SyncPoint> {
  return defineEntity<SyncPoint>(k, {
    name: 'SyncPoint',
    table: 'sync_point',
    columns: {
      entity_id: k.str(36, { primary: true }),
      traversal_id: k.str(36, { primary: true }),
      is_update: k.bool({ primary: true }),
      atomic_key: k.int({ nullable: false }),
      stack_id: k.str(36, { nullable: false }),
      input_data: k.json(),
      ...timestamps(k),
    },
    relations: {
      stack: manyToOne(k, 'Stack', 'stack_id', { mysql: 'fk_stack_id', postgresql: 'fk_stack_id', sqlite: 'fk_stack_id' }),
    },
    mysqlFkIndexes: [['fk_stack_id', 'stack_id']],
  });
}
