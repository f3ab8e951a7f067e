/**
 * 037 — HOT templates: parameter schema key `Type` becomes `type`, and a title-case type that is not
 * one of HOT's types (`String`, `Number`, `Json`, `Boolean`) is lower-cased (MIGRATIONS.md §3, 037).
 * Only templates with both `heat_template_version` and `parameters` are looked at; a changed
 * template is written once, re-encoded like Python's json.dumps.
 */
import type { MigrateEngine } from '../../migrate/script/contract.js';
import { istitle, lower } from '../lib/py.js';
import { dumps } from '../lib/pyjson.js';
import { expectObject, parseTemplate, pyIn, rewriteTemplates, TemplateProblem } from '../lib/templates.js';

/** heat.engine.hot.parameters.HOTParamSchema.TYPES */
const HOT_TYPES: readonly string[] = ['string', 'number', 'comma_delimited_list', 'json', 'boolean'];

export function migrateTemplate(text: string | null): string | null {
  const template = parseTemplate(text);
  if (!(pyIn(template, 'heat_template_version', 'the template') && pyIn(template, 'parameters', 'the template'))) {
    return null;
  }
  const tpl = expectObject(template, 'the template', 'TypeError');
  const parameters = expectObject(tpl.get('parameters'), "'parameters'", 'AttributeError');
  let changed = false;
  for (const [name, value] of parameters) {
    const schema = expectObject(value, `parameter '${name}'`, 'TypeError');
    if (schema.has('Type')) {
      schema.set('type', schema.get('Type')!);
      schema.delete('Type');
      changed = true;
    }
    if (!schema.has('type')) throw new TemplateProblem(`parameter '${name}' has no type (Heat fails with KeyError: 'type')`);
    const type = schema.get('type');
    if (typeof type === 'string' && HOT_TYPES.includes(type)) continue;
    if (typeof type !== 'string') {
      throw new TemplateProblem(`parameter '${name}' has a type that is not a string (Heat fails with AttributeError)`);
    }
    if (istitle(type)) {
      schema.set('type', lower(type));
      changed = true;
    }
  }
  return changed ? dumps(tpl) : null;
}

export async function upgrade(migrate_engine: MigrateEngine): Promise<void> {
  await rewriteTemplates(migrate_engine, '037', migrateTemplate);
}
