/**
 * Heat's software-config models at schema version 71: SoftwareConfig, SoftwareDeployment.
 */
import type { EntitySchema } from 'typeorm';
import { defineEntity, manyToOne, timestamps, type Kit } from './kit.js';

export interface SoftwareConfig {
  id: string;
  created_at: Date | null;
  updated_at: Date | null;
  name: string | null;
  group: string | null;
  config: unknown;
  tenant: string;
}

export interface SoftwareDeployment {
  id: string;
  created_at: Date | null;
  updated_at: Date | null;
  server_id: string;
  config_id: string;
  input_values: unknown;
  output_values: unknown;
  action: string | null;
  status: string | null;
  status_reason: string | null;
  tenant: string;
  stack_user_project_id: string | null;
  config?: SoftwareConfig;
}

export function softwareConfigEntity(k: Kit): EntitySchema<SoftwareConfig> {
  return defineEntity<SoftwareConfig>(k, {
    name: 'SoftwareConfig',
    table: 'software_config',
    columns: {
      id: k.str(36, { primary: true }),
      ...timestamps(k),
      name: k.str(255),
      group: k.str(255),
      config: k.json(),
      tenant: k.str(64, { nullable: false }),
    },
    indices: [{ name: 'ix_software_config_tenant', columns: ['tenant'] }],
  });
}

export function softwareDeploymentEntity(k: Kit): EntitySchema<SoftwareDeployment> {
  return defineEntity<SoftwareDeployment>(k, {
    name: 'SoftwareDeployment',
    table: 'software_deployment',
    columns: {
      id: k.str(36, { primary: true }),
      ...timestamps(k),
      server_id: k.str(36, { nullable: false }),
      config_id: k.str(36, { nullable: false }),
      input_values: k.json(),
      output_values: k.json(),
      action: k.str(255),
      status: k.str(255),
      status_reason: k.text(),
      tenant: k.str(64, { nullable: false }),
      stack_user_project_id: k.str(64),
    },
    relations: {
      config: manyToOne(k, 'SoftwareConfig', 'config_id', {
        mysql: 'software_deployment_ibfk_1',
        postgresql: 'software_deployment_config_id_fkey',
      }),
    },
    indices: [
      { name: 'ix_software_deployment_created_at', columns: ['created_at'] },
      { name: 'ix_software_deployment_server_id', columns: ['server_id'] },
      { name: 'ix_software_deployment_tenant', columns: ['tenant'] },
    ],
    mysqlFkIndexes: [['config_id', 'config_id']],
  });
}
