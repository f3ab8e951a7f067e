/**
 * Heat's schema lineage after Mitaka, as data (../shared/heat-lineage/SPEC.md A1, A4): which
 * legacy versions exist, what the commands of this product are built around, and the Alembic
 * revisions of Heat master that follow the last legacy version. The engine's revision chain
 * (migrate/revisions.ts) runs them; heat/ reads its version constants from here.
 *
 * Adding a legacy step: its script in versions/, its catalogs in schema/<dialect>/NNN.tsv. Adding a
 * revision: one entry below, its script in revisions/, its catalogs schema/<dialect>/<id>.tsv
 * (upgraded) and schema/<dialect>/fresh/<id>.tsv (fresh install).
 */
import type { RevisionChain } from '../../migrate/revisions.js';

export interface HeatLineage extends RevisionChain {
  /** Mitaka (Heat 6.0.0): what `db_sync` without VERSION goes to, the schema the management commands know. */
  readonly mitaka: number;
  /** Train (Heat 13.0.0): the last legacy version; the first revision stands for its schema. */
  readonly train: number;
}

export const HEAT_LINEAGE: HeatLineage = {
  mitaka: 71,
  train: 86,
  legacyVersion: 86,
  table: 'alembic_version',
  revisions: [
    // Stamped on a database at 86 (checked first); on an empty database the fresh install creates its schema.
    { id: 'c6214ca60943', message: 'Initial revision' },
    { id: 'd2db381e3324', down: 'c6214ca60943', message: 'Add extra_data column to sync_point table', script: 'd2db381e3324_add_extra_data_to_sync_point' },
    { id: '88be64598c0f', down: 'd2db381e3324', message: 'Add resource_snapshot table', script: '88be64598c0f_add_resource_snapshot_table' },
    { id: '97b2a986f922', down: '88be64598c0f', message: 'make snapshot state aware', script: '97b2a986f922_make_snapshot_state_aware' },
  ],
};
