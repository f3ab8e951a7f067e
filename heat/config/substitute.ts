/**
 * oslo.config's `$` substitution, applied to every value it reads (from files and environment):
 * `$name` / `${name}` is the value of option `name` of the same group (else of `[DEFAULT]`),
 * `${group.name}` of another group; `$$` and `\$` are a literal `$`; a `$` that starts no name
 * stays as it is. Kolla writes `log_file = $log_dir/heat-api.log`; a password containing `$` must
 * be written `$$` for Python's heat-manage, so it must be read the same way here.
 *
 * oslo.config fails on a name that is not a registered option; we cannot know all of Heat's, so a
 * name counts as known when any source sets it (or it is one of ours, see `options.ts`).
 */

/** The value of option `key` of `group` ('' for a known option with no value), undefined if unknown. */
export type OptionLookup = (group: string, key: string) => string | undefined;

/** A `$name` that names no known option, or a loop of references. */
export class SubstitutionError extends Error {
  constructor(
    /** The name as written after `$` (may be part of a password: quote it only for non-secrets). */
    readonly reference: string,
    readonly loop: boolean,
  ) {
    super(loop ? `reference loop through $${reference}` : `unknown option $${reference}`);
  }
}

// Python's string.Template with oslo's idpattern `[_a-z][\._a-z0-9]*`, case-insensitive.
const TEMPLATE = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})/gi;
const MAX_DEPTH = 20;

export function substitute(value: string, group: string, lookup: OptionLookup, depth = 0): string {
  if (!value.includes('$')) return value;
  const text = value.split('\\$').join('$$');
  return text.replace(TEMPLATE, (_whole, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (escaped) return '$';
    const ref = (named ?? braced)!;
    if (depth >= MAX_DEPTH) throw new SubstitutionError(ref, true);
    let found: { group: string; value: string } | undefined;
    const dot = ref.indexOf('.');
    if (dot >= 0) {
      const g = ref.slice(0, dot);
      const v = lookup(g === 'DEFAULT' ? g : g.toLowerCase(), ref.slice(dot + 1));
      if (v !== undefined) found = { group: g, value: v };
    } else {
      const v = lookup(group, ref);
      if (v !== undefined) found = { group, value: v };
    }
    if (!found) {
      const v = lookup('DEFAULT', ref);
      if (v !== undefined) found = { group: 'DEFAULT', value: v };
    }
    if (!found) throw new SubstitutionError(ref, false);
    return substitute(found.value, found.group, lookup, depth + 1);
  });
}
