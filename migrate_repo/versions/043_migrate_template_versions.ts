/**
 * 043 — template version dates before 2014-04-24 (or unparseable) are replaced by the canonical
 * date of their key (MIGRATIONS.md §3, 043). For each key present, in the order below, Heat writes a
 * copy of the *original* template with that key fixed, so the last such write wins, and a template
 * with an old date is re-serialised even when the value is already the canonical one.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { strptimeYmd } from '../lib/py.js';
import { dumps, loads } from '../lib/pyjson.js';
import { expectObject, parseTemplate, pyIn, rewriteTemplates } from '../lib/templates.js';

const VERSION_MAP: ReadonlyArray<[string, string]> = [
  ['heat_template_version', '2013-05-23'],
  ['AWSTemplateFormatVersion', '2010-09-09'],
  ['HeatTemplateFormatVersion', '2012-12-12'],
];
/** 2014-04-24, the Icehouse release. */
const PATCH = [2014, 4, 24] as const;

function beforePatch(d: { year: number; month: number; day: number }): boolean {
  if (d.year !== PATCH[0]) return d.year < PATCH[0];
  if (d.month !== PATCH[1]) return d.month < PATCH[1];
  return d.day < PATCH[2];
}

export function migrateTemplate(text: string | null): string | null {
  const original = parseTemplate(text);
  let result: string | null = null;
  for (const [key, date] of VERSION_MAP) {
    if (!pyIn(original, key, 'the template')) continue;
    const version = expectObject(original, 'the template', 'TypeError').get(key);
    const dt = strptimeYmd(version);
    if (dt === null || beforePatch(dt)) {
      // Heat edits a deep copy of the original each time: re-parse the original text.
      const copy = expectObject(loads(text!), 'the template', 'TypeError');
      copy.set(key, date);
      result = dumps(copy);
    }
  }
  return result;
}

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await rewriteTemplates(migrate_engine, '043', migrateTemplate);
}
