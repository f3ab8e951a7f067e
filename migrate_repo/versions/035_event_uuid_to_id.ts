/**
 * 035 — event gets an integer id again; the old string id moves to the new unique column `uuid`.
 * New ids are 1..N in `created_at` order (the backend's NULL ordering; ties broken by the old id).
 *
 * MySQL/PostgreSQL append `uuid` and `id` as the last two columns (MIGRATIONS.md §3, 035); on
 * PostgreSQL `id` keeps the default `nextval('evt')` of an unowned sequence left at N, and the old
 * owned `event_id_seq` goes with the old column. SQLite rebuilds the table as
 * id, stack_id, uuid, ..., created_at, updated_at, keeping every value (the real tool's SQLite branch
 * lost created_at and re-pickled resource_properties; we keep the same data as MariaDB).
 * Heat's transient back-fill of `uuid` with a function repr is overwritten at once, so it is skipped.
 *
 * Any state a run of this step stopped in on MySQL/PostgreSQL — ours, or real Heat's, which sends
 * each ALTER and each row's UPDATE on its own — is finished from what the catalog and the rows show
 * (`assess` says which): while the old string ids are there the renumbering is redone in full; once
 * they are gone they live on in `uuid`, so only the unique key, the rename, the primary key and
 * AUTO_INCREMENT are still to do. A state whose old ids went before every row had its uuid and new
 * id is refused (restore from a backup).
 */
import type { Catalog, MigrateEngine, StepState } from '../../migrate/script/contract.js';
import { assessBetween, count, type LooseFact } from '../lib/assess.js';
import { rows } from '../lib/progress.js';
import { rebuildTable } from '../lib/sqlite-rebuild.js';
import { withKeyedTemp } from '../lib/mysql-join.js';

const RENUMBER = 'SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM event';

/**
 * The forms in which a run of this step (ours, or real Heat's, statement by statement) leaves the
 * event columns it moves (loose fact cells after the name: type, nullability, default[, extra]);
 * the keys on them and PostgreSQL's sequences may be there or not. Any other form is not a state of
 * this step.
 */
const COLUMN_FORMS: Record<'mysql' | 'postgresql', Readonly<Record<string, readonly RegExp[]>>> = {
  mysql: {
    uuid: [/^varchar\(36\)\tYES\tNULL\t$/],
    tmp_id: [/^int\(11\)\tYES\tNULL\t$/],
    id: [/^int\(11\)\tYES\tNULL\t$/, /^int\(11\)\tNO\t\\N\t(auto_increment)?$/],
  },
  postgresql: {
    uuid: [/^character varying\(36\)\tNULL\t\\N$/],
    tmp_id: [/^integer\tNULL\tnextval\('evt'::regclass\)$/],
    id: [/^integer\t(NOT )?NULL\tnextval\('evt'::regclass\)$/],
  },
};
const MOVING_KEYS = ['PRIMARY', 'event_pkey', 'event_uuid_key'];
const MOVING_SEQUENCES = ['evt', 'event_id_seq'];

function moving(dialect: 'mysql' | 'postgresql'): (f: LooseFact) => boolean {
  return (f) => {
    if (f.kind === 'sequence') return MOVING_SEQUENCES.includes(f.name);
    if (f.table !== 'event') return false;
    if (f.kind === 'index' || f.kind === 'constraint') return MOVING_KEYS.includes(f.name);
    if (f.kind !== 'column') return false;
    const rest = f.text.split('\t').slice(3).join('\t');
    return (COLUMN_FORMS[dialect][f.name] ?? []).some((form) => form.test(rest));
  };
}

const isString = (col: Readonly<Record<string, unknown>> | undefined) => col !== undefined && /char/i.test(String(col.type));

export async function assess(s: StepState) {
  // SQLite runs the step in one transaction: no state of it is ever left half done.
  if (s.dialect === 'sqlite') return { state: 'unknown' as const, note: 'step 035 leaves no partial state on SQLite' };
  const id = s.live.find('column', 'event', 'id');
  const newId = s.live.hasColumn('event', 'tmp_id') ? 'tmp_id' : id && !isString(id) ? 'id' : undefined;
  if (!isString(id) && !newId) return { state: 'unknown' as const, note: 'not a state of step 035: event has neither its old string id nor a new integer id' };
  return assessBetween(s, {
    temporary: moving(s.dialect),
    data: async () => {
      if (isString(id)) return 'event ids not yet renumbered';
      const uuid = s.live.hasColumn('event', 'uuid');
      const missing = uuid
        ? await count(s, `SELECT COUNT(*) FROM event WHERE ${newId} IS NULL OR uuid IS NULL OR uuid LIKE '<function%'`)
        : await count(s, 'SELECT COUNT(*) FROM event');
      if (missing > 0) {
        return {
          state: 'refuse' as const,
          reason: `event.id (the old string ids) was dropped before ${missing} events got their uuid and new integer id; restore the database from a backup taken before step 035`,
        };
      }
      return 'event ids renumbered; the new id not yet the primary key';
    },
  });
}

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  const e = migrate_engine;
  if (e.dialect === 'mysql') {
    await mysql(e, await e.schema(['event']));
  } else if (e.dialect === 'postgresql') {
    await postgresql(e, await e.schema(['event', '']));
  } else {
    const rest = [
      'resource_action', 'resource_status', 'resource_name', 'physical_resource_id', 'resource_status_reason',
      'resource_type', 'resource_properties', 'created_at', 'updated_at',
    ];
    await rebuildTable(e, {
      table: 'event',
      body:
        'id INTEGER NOT NULL, stack_id VARCHAR(36) NOT NULL, uuid VARCHAR(36), resource_action VARCHAR(255), ' +
        'resource_status VARCHAR(255), resource_name VARCHAR(255), physical_resource_id VARCHAR(255), ' +
        'resource_status_reason VARCHAR(255), resource_type VARCHAR(255), resource_properties BLOB, ' +
        'created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id), FOREIGN KEY (stack_id) REFERENCES stack (id), ' +
        'UNIQUE (uuid)',
      columns: ['id', 'stack_id', 'uuid', ...rest],
      select: ['ROW_NUMBER() OVER (ORDER BY created_at, id)', 'stack_id', 'id', ...rest],
    });
  }
}

/** The string ids renumbered 1..N into `tmp_id` and copied into `uuid` (every row, whatever an earlier run did). */
async function renumber(e: MigrateEngine): Promise<void> {
  const changed =
    e.dialect === 'mysql'
      ? await withKeyedTemp(e, { name: 'tmp_event_rn', key: 'id', select: RENUMBER }, () =>
          e.execute('UPDATE event e JOIN tmp_event_rn r ON r.id = e.id SET e.tmp_id = r.rn, e.uuid = e.id'),
        )
      : await e.execute(`UPDATE event SET tmp_id = r.rn, uuid = event.id FROM (${RENUMBER}) r WHERE r.id = event.id`);
  rows(e, '035', 'event ids renumbered by created_at', changed);
}

async function mysql(e: MigrateEngine, c: Catalog): Promise<void> {
  const stringIds = isString(c.find('column', 'event', 'id'));
  const tmp = c.hasColumn('event', 'tmp_id');
  if (stringIds) {
    const add = [
      ...(c.hasColumn('event', 'uuid') ? [] : ['ADD COLUMN uuid VARCHAR(36)']),
      ...(tmp ? [] : ['ADD COLUMN tmp_id INTEGER']),
    ];
    if (add.length) await e.query(`ALTER TABLE event ${add.join(', ')}`);
    await renumber(e);
  }
  const parts: string[] = [];
  if (!c.find('index', 'event', 'event_uuid_key')) parts.push('ADD CONSTRAINT event_uuid_key UNIQUE (uuid)');
  if (stringIds) parts.push('DROP COLUMN id');
  if (stringIds || tmp) parts.push('CHANGE COLUMN tmp_id id INTEGER NOT NULL AUTO_INCREMENT', 'ADD PRIMARY KEY (id)');
  else {
    // Real Heat renames tmp_id, then adds the key, then AUTO_INCREMENT: finish what is missing.
    if (!/auto_increment/i.test(String(c.find('column', 'event', 'id')?.extra ?? ''))) parts.push('MODIFY id INTEGER NOT NULL AUTO_INCREMENT');
    if (!c.find('index', 'event', 'PRIMARY')) parts.push('ADD PRIMARY KEY (id)');
  }
  if (parts.length) await e.query(`ALTER TABLE event ${parts.join(', ')}`);
}

async function postgresql(e: MigrateEngine, c: Catalog): Promise<void> {
  const stringIds = isString(c.find('column', 'event', 'id'));
  if (stringIds) {
    const add: string[] = [];
    if (!c.hasColumn('event', 'uuid')) add.push('ADD COLUMN uuid VARCHAR(36)');
    if (!c.hasColumn('event', 'tmp_id')) {
      if (!c.find('sequence', '', 'evt')) await e.query('CREATE SEQUENCE evt START WITH 1');
      // The volatile default numbers the existing rows 1..N and leaves evt at N, as Heat does.
      add.push("ADD COLUMN tmp_id INTEGER DEFAULT nextval('evt')");
    }
    if (add.length) await e.query(`ALTER TABLE event ${add.join(', ')}`);
    await renumber(e);
  }
  const parts: string[] = [];
  if (!c.find('constraint', 'event', 'event_uuid_key')) parts.push('ADD CONSTRAINT event_uuid_key UNIQUE (uuid)');
  if (stringIds) parts.push('DROP COLUMN id');
  if (parts.length) await e.query(`ALTER TABLE event ${parts.join(', ')}`);
  if (stringIds || c.hasColumn('event', 'tmp_id')) await e.query('ALTER TABLE event RENAME COLUMN tmp_id TO id');
  // Version 34's event_pkey (on the string id) goes with that column.
  if (stringIds || !c.find('constraint', 'event', 'event_pkey')) await e.query('ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (id)');
}
