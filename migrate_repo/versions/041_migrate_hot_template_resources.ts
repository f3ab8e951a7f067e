/**
 * 041 — HOT templates that still use CFN keys: in `resources`, Type/Properties/Metadata/DependsOn/
 * DeletionPolicy/UpdatePolicy become type/properties/metadata/depends_on/deletion_policy/
 * update_policy; in `outputs`, Description/Value become description/value (MIGRATIONS.md §3, 041).
 * A renamed key takes the new name's place if that existed, else goes last.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { dumps, type PyJson, type PyObject } from '../lib/pyjson.js';
import { expectObject, parseTemplate, pyIn, rewriteTemplates } from '../lib/templates.js';

const RESOURCE_KEYS: ReadonlyArray<[string, string]> = [
  ['Type', 'type'],
  ['Properties', 'properties'],
  ['Metadata', 'metadata'],
  ['DependsOn', 'depends_on'],
  ['DeletionPolicy', 'deletion_policy'],
  ['UpdatePolicy', 'update_policy'],
];
const OUTPUT_KEYS: ReadonlyArray<[string, string]> = [
  ['Description', 'description'],
  ['Value', 'value'],
];

function translate(section: PyJson | undefined, sectionName: string, keys: ReadonlyArray<[string, string]>): boolean {
  const entries = expectObject(section, `'${sectionName}'`, 'AttributeError');
  let changed = false;
  for (const [name, details] of entries) {
    for (const [oldKey, newKey] of keys) {
      if (!pyIn(details, oldKey, `${sectionName} entry '${name}'`)) continue;
      const d: PyObject = expectObject(details, `${sectionName} entry '${name}'`, 'TypeError');
      d.set(newKey, d.get(oldKey)!);
      d.delete(oldKey);
      changed = true;
    }
  }
  return changed;
}

export function migrateTemplate(text: string | null): string | null {
  const template = parseTemplate(text);
  if (!pyIn(template, 'heat_template_version', 'the template')) return null;
  const tpl = expectObject(template, 'the template', 'AttributeError');
  let changed = translate(tpl.has('resources') ? tpl.get('resources') : new Map(), 'resources', RESOURCE_KEYS);
  if (translate(tpl.has('outputs') ? tpl.get('outputs') : new Map(), 'outputs', OUTPUT_KEYS)) changed = true;
  return changed ? dumps(tpl) : null;
}

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await rewriteTemplates(migrate_engine, '041', migrateTemplate);
}
