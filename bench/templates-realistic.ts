/**
 * Heat templates shaped like real ones, generated from a seed: HOT and CFN, sizes from 1 KB to 64 KB
 * (or one given size for the big ones), written as Python's `json.dumps` text, as compact text with
 * raw UTF-8, or indented; nested parameter groups and constraints, lists of maps, non-ASCII text,
 * escapes (`\u00e9`, `\n`, `\"`) and every JSON number form (`1`, `1.0`, `1e5`, `-0.0`, `2.5E-3`,
 * 20-digit integers). Each template decides, by its own draw, whether 037, 041 and 043 rewrite it.
 *
 *   const rnd = rng(42);
 *   const t = realisticTemplate(rnd, { marker: '@@ROW@@' });   // t.text, t.kind, t.changes
 *
 * See bench/README.md ("The realistic dataset") for the distribution.
 */

/** mulberry32: a small, fast, seeded PRNG (deterministic across platforms). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rnd = () => number;
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rnd, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const chance = (r: Rnd, p: number): boolean => r() < p;

/** A JSON number kept as the text it was written with. */
class Num {
  constructor(readonly text: string) {}
}
/** A JSON object as ordered entries (the text keeps the order). */
class Obj {
  constructor(readonly entries: Array<[string, J]>) {}
}
type J = null | boolean | string | Num | Obj | J[];
const obj = (...entries: Array<[string, J]>): Obj => new Obj(entries);

const WORDS = [
  'server', 'network', 'volume', 'flavor', 'image', 'subnet', 'port', 'router', 'key', 'pool', 'member',
  'listener', 'monitor', 'database', 'cluster', 'node', 'worker', 'master', 'front', 'back', 'cache',
  'queue', 'stack', 'group', 'policy', 'alarm', 'scale', 'config', 'deployment', 'secret',
];
const TEXTS = [
  'Déploiement de la pile applicative',
  'Größe des Datenträgers in GB',
  'Серверная группа для балансировки',
  '日本語の説明文：サーバーの数',
  'Ελληνικά: διακομιστής βάσης δεδομένων',
  'naïve café résumé — “quoted” ‘text’',
  'plain ASCII description of the resource',
  'tab\tand newline\nin one "description" with a \\backslash',
  'emoji-free BMP symbols: ★ ☂ ✓ € ©',
];
const NUMBERS = ['1', '0', '-7', '1.0', '0.5', '-0.0', '1e5', '2.5E-3', '1e+22', '12345678901234567890', '-98765432109876543210', '3.141592653589793', '100', '65535'];
const HOT_DATES_OLD = ['2013-05-23'];
const HOT_DATES_NEW = ['2014-10-16', '2015-04-30', '2015-10-15', '2016-04-08', '2016-10-14'];
const RESOURCE_TYPES = [
  'OS::Nova::Server', 'OS::Neutron::Port', 'OS::Neutron::Net', 'OS::Neutron::Subnet', 'OS::Cinder::Volume',
  'OS::Heat::SoftwareConfig', 'OS::Heat::SoftwareDeployment', 'OS::Heat::AutoScalingGroup', 'OS::Heat::RandomString',
];

function text(r: Rnd): string {
  return pick(r, TEXTS);
}
function name(r: Rnd, i: number): string {
  return `${pick(r, WORDS)}_${pick(r, WORDS)}_${i}`;
}
function num(r: Rnd): Num {
  return new Num(pick(r, NUMBERS));
}

function constraints(r: Rnd): J[] {
  const out: J[] = [];
  if (chance(r, 0.5)) out.push(obj(['range', obj(['min', num(r)], ['max', num(r)])], ['description', text(r)]));
  if (chance(r, 0.4)) out.push(obj(['allowed_values', Array.from({ length: int(r, 2, 6) }, (_, k) => `${pick(r, WORDS)}.${k}`)]));
  if (chance(r, 0.3)) out.push(obj(['allowed_pattern', '[a-z][a-z0-9-]*\\d{0,3}'], ['description', 'must match "[a-z]…"']));
  if (chance(r, 0.2)) out.push(obj(['length', obj(['min', new Num('1')], ['max', new Num('255')])]));
  return out;
}

interface Shape {
  /** 037 rewrites: parameters use `Type`, or a title-case type. */
  cfnParamType: boolean;
  /** 041 rewrites: resources/outputs use CFN keys. */
  cfnResourceKeys: boolean;
}

function parameter(r: Rnd, s: Shape): Obj {
  const e: Array<[string, J]> = [];
  // HOT types; a title-case one ('String', 'Json') is one that 037 lower-cases.
  const type = s.cfnParamType && chance(r, 0.5) ? pick(r, ['String', 'Json', 'Number', 'Boolean']) : pick(r, ['string', 'number', 'json', 'comma_delimited_list', 'boolean']);
  e.push([s.cfnParamType && chance(r, 0.7) ? 'Type' : 'type', type]);
  e.push(['description', text(r)]);
  if (chance(r, 0.6)) e.push(['default', chance(r, 0.5) ? num(r) : `${pick(r, WORDS)}-${int(r, 1, 999)}`]);
  if (chance(r, 0.3)) e.push(['label', text(r)]);
  if (chance(r, 0.2)) e.push(['hidden', chance(r, 0.5)]);
  const c = constraints(r);
  if (c.length) e.push(['constraints', c]);
  return new Obj(e);
}

function resource(r: Rnd, s: Shape, i: number, others: string[]): Obj {
  const k = (hot: string, cfn: string) => (s.cfnResourceKeys ? cfn : hot);
  const props: Array<[string, J]> = [
    ['name', `${pick(r, WORDS)}-${i}`],
    ['image', obj(['get_param', 'image'])],
    ['flavor', pick(r, ['m1.small', 'm1.medium', 'm1.large'])],
    ['networks', Array.from({ length: int(r, 1, 3) }, (_, n) => obj(['network', `net-${n}`], ['fixed_ip', `10.0.${n}.${int(r, 2, 250)}`], ['port_security_enabled', chance(r, 0.5)]))],
    ['metadata', obj(['weight', num(r)], ['tier', text(r)], ['scale', num(r)], ['ratio', num(r)])],
  ];
  if (chance(r, 0.5)) {
    props.push([
      'user_data',
      `#!/bin/bash\necho "${text(r)}" > /etc/motd\nexport COUNT=${int(r, 1, 99)}\ncat <<'EOF' > /etc/app.conf\n[app]\nname = "${pick(r, WORDS)}"\nEOF\n`,
    ]);
  }
  if (chance(r, 0.3)) props.push(['block_device_mapping', [obj(['device_name', 'vda'], ['volume_size', num(r)], ['delete_on_termination', false])]]);
  const e: Array<[string, J]> = [
    [k('type', 'Type'), pick(r, RESOURCE_TYPES)],
    [k('properties', 'Properties'), new Obj(props)],
  ];
  if (others.length && chance(r, 0.5)) e.push([k('depends_on', 'DependsOn'), chance(r, 0.5) ? pick(r, others) : [pick(r, others), pick(r, others)]]);
  if (chance(r, 0.3)) e.push([k('metadata', 'Metadata'), obj(['AWS::CloudFormation::Init', obj(['config', obj(['files', obj(['/tmp/x', obj(['content', text(r)])])])])])]);
  if (chance(r, 0.1)) e.push([k('deletion_policy', 'DeletionPolicy'), 'Retain']);
  if (chance(r, 0.1)) e.push([k('update_policy', 'UpdatePolicy'), obj(['rolling_update', obj(['max_batch_size', new Num('1')], ['pause_time', new Num('1.5')])])]);
  return new Obj(e);
}

export type TemplateKind = 'hot' | 'hot-modern' | 'cfn';
export type TextStyle = 'dumps' | 'compact' | 'indent2' | 'indent4';

export interface GeneratedTemplate {
  text: string;
  kind: TemplateKind;
  style: TextStyle;
  /** Whether 037 / 041 / 043 rewrite this template (by construction; 037/041 run first). */
  changes: { '037': boolean; '041': boolean; '043': boolean };
}

/** A size in bytes: 4 % 1-2 KB, 70 % 2-8 KB, 20 % 8-32 KB, 6 % 32-64 KB (log-uniform in each band). */
export function templateSize(r: Rnd): number {
  const u = r();
  const [lo, hi] = u < 0.04 ? [1024, 2048] : u < 0.74 ? [2048, 8192] : u < 0.94 ? [8192, 32768] : [32768, 65536];
  return Math.round(lo * Math.pow(hi / lo, r()));
}

/**
 * One template of about `size` bytes (from {@link templateSize} when not given). `marker` is put
 * in the description so that a SQL REPLACE makes each row's text unique.
 */
export function realisticTemplate(r: Rnd, o: { marker?: string; size?: number; style?: TextStyle } = {}): GeneratedTemplate {
  const size = o.size ?? templateSize(r);
  const u = r();
  const kind: TemplateKind = u < 0.7 ? 'hot' : u < 0.8 ? 'hot-modern' : 'cfn';
  // CFN templates always use CFN keys (041 ignores them: no heat_template_version).
  const s: Shape = { cfnParamType: kind === 'hot' && chance(r, 0.5), cfnResourceKeys: kind === 'cfn' || (kind === 'hot' && chance(r, 0.5)) };
  const oldDate = kind === 'hot' && chance(r, 0.5);
  const v = r();
  const style: TextStyle = o.style ?? (v < 0.45 ? 'dumps' : v < 0.6 ? 'compact' : v < 0.85 ? 'indent2' : 'indent4');
  const marker = o.marker ?? '';
  const params: Array<[string, J]> = [];
  const resources: Array<[string, J]> = [];
  const outputs: Array<[string, J]> = [];
  const nParams = Math.max(1, Math.min(int(r, 2, 8), Math.floor(size / 900)));
  for (let i = 0; i < nParams; i++) params.push([`param_${i}`, parameter(r, s)]);
  const build = (): Obj => {
    if (kind === 'cfn') {
      return obj(
        ['AWSTemplateFormatVersion', '2010-09-09'],
        ['Description', `Stack ${marker} — ${text(r)}`],
        ['Parameters', new Obj(params.map(([n, p]) => [n, new Obj((p as Obj).entries.map(([k, x]) => [k === 'type' ? 'Type' : k, x === 'json' ? 'Json' : x]))]))],
        ['Resources', new Obj(resources)],
        ['Outputs', new Obj(outputs)],
      );
    }
    const e: Array<[string, J]> = [
      ['heat_template_version', kind === 'hot' && oldDate ? pick(r, HOT_DATES_OLD) : pick(r, HOT_DATES_NEW)],
      ['description', `Stack ${marker} — ${text(r)}`],
    ];
    if (chance(r, 0.5)) {
      e.push(['parameter_groups', [obj(['label', 'Main'], ['description', text(r)], ['parameters', params.slice(0, 2).map(([n]) => n)]), obj(['label', 'Other'], ['parameters', params.slice(2).map(([n]) => n)])]]);
    }
    e.push(['parameters', new Obj(params)], ['resources', new Obj(resources)], ['outputs', new Obj(outputs)]);
    return new Obj(e);
  };
  // Grow resources (and an output per few) until the text reaches the size.
  let t = '';
  let perResource = 0;
  for (let i = 0; ; i++) {
    const names = resources.map(([n]) => n);
    resources.push([name(r, i), resource(r, s, i, names)]);
    if (i % 3 === 0) {
      const k = s.cfnResourceKeys ? ['Description', 'Value'] : ['description', 'value'];
      outputs.push([`out_${i}`, obj([k[0]!, text(r)], [k[1]!, obj(['get_attr', [resources[i]![0], 'first_address']])])]);
    }
    // Cheap estimate first (bytes per resource measured on the last real text); the real text is
    // built only near the size.
    // (A short text updates the estimate, so the next build is again only near the size.)
    const rough = perResource * resources.length;
    if (perResource > 0 && rough < size) continue;
    t = write(build(), style);
    perResource = t.length / resources.length;
    if (t.length >= size) break;
  }
  return {
    text: t,
    kind,
    style,
    changes: {
      '037': kind === 'hot' && s.cfnParamType,
      '041': kind === 'hot' && s.cfnResourceKeys,
      // 043: an old HOT date, any CFN date; and every template 037/041 re-encoded with an old date.
      '043': kind === 'cfn' || (kind === 'hot' && oldDate),
    },
  };
}

/** Python's `ensure_ascii` escaping of every non-ASCII unit (and DEL) as `\uXXXX`. */
function asciiEscape(s: string): string {
  return s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes `v` in a style: `json.dumps` (", " / ": ", ASCII), compact raw UTF-8, or indented. */
export function write(v: J, style: TextStyle): string {
  const ascii = style === 'dumps' || style === 'indent4';
  const str = (s: string) => (ascii ? asciiEscape(JSON.stringify(s)) : JSON.stringify(s));
  const [comma, colon] = style === 'compact' ? [',', ':'] : [', ', ': '];
  const indent = style === 'indent2' ? 2 : style === 'indent4' ? 4 : 0;
  const out: string[] = [];
  const go = (x: J, depth: number): void => {
    if (x === null) out.push('null');
    else if (typeof x === 'boolean') out.push(x ? 'true' : 'false');
    else if (typeof x === 'string') out.push(str(x));
    else if (x instanceof Num) out.push(x.text);
    else {
      const isArr = Array.isArray(x);
      const items: Array<[string | null, J]> = isArr ? x.map((y) => [null, y]) : x.entries;
      if (items.length === 0) {
        out.push(isArr ? '[]' : '{}');
        return;
      }
      out.push(isArr ? '[' : '{');
      const pad = indent ? '\n' + ' '.repeat(indent * (depth + 1)) : '';
      items.forEach(([k, y], i) => {
        if (i > 0) out.push(indent ? ',' : comma);
        out.push(pad);
        if (k !== null) out.push(str(k), colon);
        go(y, depth + 1);
      });
      if (indent) out.push('\n' + ' '.repeat(indent * depth));
      out.push(isArr ? ']' : '}');
    }
  };
  go(v, 0);
  return out.join('');
}

/** Resource metadata text: `{}` for most, a few KB of nested JSON for one in five. */
export function resourceMetadata(r: Rnd): string {
  if (!chance(r, 0.2)) return chance(r, 0.5) ? '{}' : write(obj(['status', 'ok'], ['weight', num(r)]), 'dumps');
  const size = int(r, 1000, 6000);
  const items: J[] = [];
  let t = '';
  while (t.length < size) {
    items.push(obj(['name', `${pick(r, WORDS)}-${items.length}`], ['value', text(r)], ['count', num(r)], ['tags', [pick(r, WORDS), pick(r, WORDS)]]));
    t = write(obj(['AWS::CloudFormation::Init', obj(['config', obj(['items', items])])], ['scaling', obj(['cooldown', num(r)])]), 'dumps');
  }
  return t;
}

/**
 * `resource_properties` as Heat's PickleType wrote it: a pickle (protocol 2) of a dict of str to
 * str, a few hundred bytes.
 */
export function pickledProperties(r: Rnd): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28])]; // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
  const unicode = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    parts.push(h, b);
  };
  for (let i = int(r, 2, 10); i > 0; i--) {
    unicode(`${pick(r, WORDS)}_${i}`);
    unicode(chance(r, 0.5) ? text(r) : `${pick(r, WORDS)}-${int(r, 1, 99999)}`);
  }
  parts.push(Buffer.from([0x75, 0x2e])); // SETITEMS, STOP
  return Buffer.concat(parts);
}
