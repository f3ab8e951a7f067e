/**
 * TypeORM models of Heat's 16 tables at schema version 71 (Heat 6.0.0 "Mitaka"), as EntitySchemas
 * (no decorators). Entity names are Heat's model class names, property names the column names:
 *
 *   new DataSource({ type: 'postgres', ..., entities: heatEntitiesFor('postgresql') })
 *   ds.getRepository<Stack>('Stack').findOne({ where: { id }, relations: { raw_template: true } })
 *
 * - `heatEntitiesFor(dialect)`: exact for that backend's schema at 71 — column types (LONGTEXT on
 *   MySQL, BYTEA on PostgreSQL...), lengths, nullability, primary keys, generated ids, index names,
 *   and each foreign key's name as that backend has it (`event_ibfk_1` on MariaDB,
 *   `event_stack_id_fkey` on PostgreSQL, unnamed on SQLite), plus MariaDB's FK-backing indexes.
 *   This is what the ModelsMigrationsSync comparison (./models/sync.ts) checks against a database.
 * - `heatEntities`: one portable set that every driver accepts (types TEXT for LongText and for
 *   the PickleType column, PostgreSQL's constraint names, no MariaDB-only indexes) — enough for the
 *   repository API on any backend, not an exact schema description.
 *
 * Heat's `Json` columns carry a JSON transformer; `created_at`/`updated_at` have no server default
 * (Heat sets them in Python): callers set them.
 */
import type { EntitySchema } from 'typeorm';
import { kit, type HeatDialect, type ModelFlavour } from './models/kit.js';
import { eventEntity, resourceDataEntity, resourceEntity, syncPointEntity } from './models/resource.js';
import { migrateVersionEntity, serviceEntity, watchDataEntity, watchRuleEntity } from './models/service.js';
import { softwareConfigEntity, softwareDeploymentEntity } from './models/software.js';
import { rawTemplateEntity, snapshotEntity, stackEntity, stackLockEntity, stackTagEntity, userCredsEntity } from './models/stack.js';

export type { HeatDialect, ModelFlavour } from './models/kit.js';
export { HEAT_DIALECTS, jsonTransformer } from './models/kit.js';
export type { RawTemplate, Snapshot, Stack, StackLock, StackTag, UserCreds } from './models/stack.js';
export type { Event, Resource, ResourceData, SyncPoint } from './models/resource.js';
export type { SoftwareConfig, SoftwareDeployment } from './models/software.js';
export type { MigrateVersion, Service, WatchData, WatchRule } from './models/service.js';

/** The 16 table names at version 71, sorted. */
export const HEAT_TABLES: readonly string[] = [
  'event',
  'migrate_version',
  'raw_template',
  'resource',
  'resource_data',
  'service',
  'snapshot',
  'software_config',
  'software_deployment',
  'stack',
  'stack_lock',
  'stack_tag',
  'sync_point',
  'user_creds',
  'watch_data',
  'watch_rule',
];

type AnySchema = EntitySchema<any>;

function build(flavour: ModelFlavour): AnySchema[] {
  const k = kit(flavour);
  return [
    rawTemplateEntity(k),
    userCredsEntity(k),
    stackEntity(k),
    stackTagEntity(k),
    stackLockEntity(k),
    snapshotEntity(k),
    resourceEntity(k),
    resourceDataEntity(k),
    eventEntity(k),
    syncPointEntity(k),
    softwareConfigEntity(k),
    softwareDeploymentEntity(k),
    serviceEntity(k),
    watchRuleEntity(k),
    watchDataEntity(k),
    migrateVersionEntity(k),
  ];
}

const cache = new Map<ModelFlavour, readonly AnySchema[]>();

/**
 * The entity schemas for one backend (or `portable`). The same array is returned on every call;
 * it must not be modified (build altered copies with the per-table factories in ./models/).
 */
export function heatEntitiesFor(flavour: ModelFlavour): AnySchema[] {
  let e = cache.get(flavour);
  if (!e) cache.set(flavour, (e = Object.freeze(build(flavour))));
  return e as AnySchema[];
}

/** The portable entity set (see the module doc); exact types need {@link heatEntitiesFor}. */
export const heatEntities: AnySchema[] = heatEntitiesFor('portable');

/** Fresh, unshared entity schemas (for tests that alter one). */
export function buildHeatEntities(flavour: ModelFlavour): AnySchema[] {
  return build(flavour);
}
