/**
 * The golden dataset for Heat's data migrations (MIGRATIONS.md §2.3, §2.5, §2.6 and 029-065).
 *
 *   await insertHeatDataset28(db)   // db (test/support/db.ts) must be at version 28
 *   await insertHeatDataset34(db)   // ... and later at version 34
 *   heatDatasetJson()               // the whole dataset as JSON (input of the fixture derivation)
 *   await insertRows(db, 28, 'stack', [...])   // any rows, checked against the columns at 28/34
 *
 * Rows are written through the raw connection of TestDatabase (`?` placeholders), with exactly the
 * columns each table has at version 28 or 34 (MIGRATIONS.md 028-034). Cells are strings, numbers,
 * NULL or Buffers (PickleType); booleans are written 0/1 (true/false on PostgreSQL); datetimes are
 * 'YYYY-MM-DD HH:MM:SS' (on SQLite with SQLAlchemy's '.000000' suffix, as Heat stored them).
 *
 * The expected rows after 71 are NOT computed here: test/fixtures/heat-data/derive-expected.py
 * derives them from heatDatasetJson() with Python's json module, following MIGRATIONS.md (see the
 * README next to it). Every row below says which rule or edge case it exercises.
 */
import type { TestDatabase } from './db.js';

export type Cell = string | number | null | Buffer;
export type Row = Record<string, Cell>;
export interface TableRows {
  readonly table: string;
  readonly rows: readonly Row[];
}

/** Columns of each table at version 28 (028_havana), in CREATE TABLE order. */
export const COLUMNS_28: Readonly<Record<string, readonly string[]>> = {
  raw_template: ['id', 'created_at', 'updated_at', 'template'],
  user_creds: ['id', 'created_at', 'updated_at', 'username', 'password', 'tenant', 'auth_url', 'tenant_id', 'trust_id', 'trustor_user_id'],
  stack: [
    'id', 'created_at', 'updated_at', 'deleted_at', 'name', 'raw_template_id', 'user_creds_id', 'username', 'owner_id',
    'action', 'status', 'status_reason', 'parameters', 'timeout', 'tenant', 'disable_rollback',
  ],
  resource: ['id', 'nova_instance', 'name', 'created_at', 'updated_at', 'action', 'status', 'status_reason', 'stack_id', 'rsrc_metadata'],
  resource_data: ['id', 'created_at', 'updated_at', 'key', 'value', 'redact', 'resource_id'],
  event: [
    'id', 'stack_id', 'created_at', 'updated_at', 'resource_action', 'resource_status', 'resource_name',
    'physical_resource_id', 'resource_status_reason', 'resource_type', 'resource_properties',
  ],
  watch_rule: ['id', 'created_at', 'updated_at', 'name', 'state', 'rule', 'last_evaluated', 'stack_id'],
  watch_data: ['id', 'created_at', 'updated_at', 'data', 'watch_rule_id'],
};

/** Columns at version 34: 029 (event.id a string), 031, 032, 033, 034 applied. */
export const COLUMNS_34: Readonly<Record<string, readonly string[]>> = {
  ...COLUMNS_28,
  raw_template: [...COLUMNS_28.raw_template!, 'files'],
  user_creds: [...COLUMNS_28.user_creds!, 'decrypt_method'],
  resource_data: [...COLUMNS_28.resource_data!, 'decrypt_method'],
  stack_lock: ['stack_id', 'created_at', 'updated_at', 'engine_id'],
  software_config: ['id', 'created_at', 'updated_at', 'name', 'group', 'config', 'io', 'tenant'],
  software_deployment: [
    'id', 'created_at', 'updated_at', 'server_id', 'config_id', 'input_values', 'output_values', 'signal_id',
    'action', 'status', 'status_reason', 'tenant',
  ],
};

/** Boolean columns at 28/34 (written as true/false on PostgreSQL). */
const BOOLEAN_COLUMNS = new Set(['stack.disable_rollback', 'resource_data.redact']);
const DATETIME_COLUMNS = new Set(['created_at', 'updated_at', 'deleted_at', 'last_evaluated']);

// ------------------------------------------------------------------------------------------------
// ids

/** Stack ids: S(1) = 'b0000000-0000-4000-a000-000000000001'. */
export const S = (n: number): string => `b0000000-0000-4000-a000-${String(n).padStart(12, '0')}`;
/** Resource ids (uuid strings at 28/34). */
export const R = (n: number): string => `c0000000-0000-4000-a000-${String(n).padStart(12, '0')}`;
/** Event ids written at 34 (uuid strings; at 28 they are integers). */
export const E = (n: number): string => `e0000000-0000-4000-a000-${String(n).padStart(12, '0')}`;
/** The owner id of the orphan stack: no stack has it. */
export const MISSING_OWNER = 'deadbeef-0000-4000-a000-000000000000';

const TENANT = '3a1b2c4d5e6f47a8b9c0d1e2f3a4b5c6';

// ------------------------------------------------------------------------------------------------
// templates (raw_template.template). Raw strings: JSON escapes stay as written.

/** HOT 2013-05-23, compact without spaces: 037 (Type->type, title case lowered, CommaDelimitedList and STRING kept,
 *  string kept), 041 (the spec's resource key order example, outputs), 043 (re-serialised); raw é, floats. */
const T_HOT_FULL = String.raw`{"heat_template_version":"2013-05-23","description":"Serveur café","parameters":{"key_name":{"Type":"String","Description":"Nova keypair"},"count":{"description":"how many","Type":"Number","default":10.0},"meta":{"type":"Json","default":{"a":0.5}},"nets":{"type":"CommaDelimitedList"},"shout":{"type":"STRING"},"plain":{"type":"string"},"flag":{"Type":"Boolean","Default":false}},"resources":{"server":{"Type":"OS::Nova::Server","DependsOn":"volume","Properties":{"key_name":{"get_param":"key_name"},"image":"F17-x86_64"},"Metadata":{"AWS::CloudFormation::Init":{}},"UpdatePolicy":{"PauseTime":"PT1M"},"DeletionPolicy":"Retain"},"volume":{"type":"OS::Cinder::Volume","properties":{"size":1}}},"outputs":{"ip":{"Description":"The IP","Value":{"get_attr":["server","first_address"]}},"ok":{"description":"fine","value":"yes"}}}`;

/** HOT 2014-10-16, pretty-printed, nothing to change anywhere: byte-identical after 71. */
const T_HOT_CLEAN_PRETTY = `{
  "heat_template_version": "2014-10-16",
  "description": "nothing to migrate",
  "parameters": {
    "flavor": {
      "type": "string",
      "default": "m1.small"
    },
    "size": {
      "type": "number",
      "default": 10.0
    }
  },
  "resources": {
    "vol": {
      "type": "OS::Cinder::Volume",
      "properties": {
        "size": { "get_param": "size" }
      }
    }
  },
  "outputs": {
    "vol_id": {
      "description": "id",
      "value": { "get_resource": "vol" }
    }
  }
}
`;

/** HOT 2015-04-30 with tabs: 037 only — 'Type' overwrites an existing 'type' in place and is title-case lowered;
 *  'Comma_Delimited_List'.istitle() is true (Python) so it is lowered; raw 中. 043 leaves the date. */
const T_HOT_TYPE_WINS = `{
\t"heat_template_version": "2015-04-30",
\t"parameters": {
\t\t"port": {"type": "string", "label": "端口", "Type": "Number", "default": 8080},
\t\t"zones": {"Type": "Comma_Delimited_List"},
\t\t"name": {"type": "String"}
\t},
\t"resources": {}
}`;

/** HOT 2014-04-24 (the patch date itself: not before it, 043 keeps it): 041 only. A resource with both 'Type' and
 *  'type' (overwritten in place), one with 'Properties' and 'properties', DependsOn list; outputs mixed. */
const T_HOT_041_ONLY = String.raw`{"heat_template_version": "2014-04-24",
 "resources": {
  "a": {"type": "OS::Heat::None", "Type": "OS::Heat::RandomString", "Properties": {"length": 8}},
  "b": {"properties": {"old": true}, "DependsOn": ["a"], "Properties": {"new": null}, "DeletionPolicy": "Delete"},
  "c": {"type": "OS::Heat::None"}
 },
 "outputs": {"r": {"value": {"get_attr": ["a", "value"]}, "Description": "random"}}
}`;

/** CFN, pretty-printed: 043 re-serialises it (2010-09-09 is before the patch date) but keeps CFN keys and 'String';
 *  float 10.0 kept, '\/' becomes '/'. */
const T_CFN_PRETTY = String.raw`{
    "AWSTemplateFormatVersion" : "2010-09-09",
    "Description" : "WordPress \/ single instance",
    "Parameters" : {
        "KeyName" : { "Type" : "String", "Description" : "ssh key" },
        "Ratio" : { "Type" : "Number", "Default" : 10.0 }
    },
    "Resources" : {
        "WebServer" : {
            "Type" : "AWS::EC2::Instance",
            "Properties" : { "ImageId" : "F17-x86_64-cfntools", "UserData" : "#!\/bin\/bash\n" }
        }
    },
    "Outputs" : {
        "URL" : { "Value" : "http:\/\/example.com\/wp", "Description" : "site" }
    }
}
`;

/** HeatTemplateFormatVersion 2012-12-12: re-serialised by 043 with the same value. Lower-case 'parameters' and
 *  'resources' without heat_template_version: 037 and 041 leave their 'Type' keys alone. */
const T_HEAT_CFN = String.raw`{"HeatTemplateFormatVersion":"2012-12-12","Parameters":{"Flavor":{"Type":"String"}},"parameters":{"x":{"Type":"String"}},"Resources":{"R":{"Type":"OS::Heat::None"}},"resources":{"r":{"Type":"OS::Heat::None"}}}`;

/** HOT 2013-05-23 of deleted stacks: 037 processes templates of deleted stacks too. */
const T_HOT_DELETED = String.raw`{"heat_template_version": "2013-05-23", "parameters": {"db_password": {"Type": "String", "hidden": true}}, "resources": {}}`;

/** heat_template_version "" (unparseable): 043 replaces it with 2013-05-23; empty parameters: 037 changes nothing. */
const T_HOT_EMPTY_VERSION = String.raw`{"heat_template_version": "", "parameters": {}, "resources": {"x": {"type": "OS::Heat::None"}}}`;

/** heat_template_version as the number 20130523: TypeError in strptime, replaced. */
const T_HOT_NUMBER_VERSION = String.raw`{"heat_template_version": 20130523, "resources": {}}`;

/** The spec's observed two-key example (§043): only the last write (from the original text) survives. */
const T_TWO_KEYS = String.raw`{"heat_template_version": "2012-01-01", "AWSTemplateFormatVersion": "2009-01-01"}`;

/** Two keys, only the first needs a change: heat_template_version 2014-01-01 -> 2013-05-23; AWS date kept. */
const T_TWO_KEYS_FIRST = String.raw`{"AWSTemplateFormatVersion": "2015-01-01", "heat_template_version": "2014-01-01", "resources": {}}`;

/** Three keys: HOT fine (no write); AWS "" written from the original; then Heat 2011-01-01 written from the
 *  original again, so AWS stays "" in the result. */
const T_THREE_KEYS = String.raw`{"HeatTemplateFormatVersion": "2011-01-01", "heat_template_version": "2016-10-14", "AWSTemplateFormatVersion": ""}`;

/** No version key at top level (only nested ones), pretty-printed: nobody touches it. */
const T_NO_VERSION = `{
  "description": "no version key",
  "Resources": {
    "R": { "Type": "AWS::EC2::Instance", "Metadata": { "heat_template_version": "2013-05-23", "parameters": { "p": { "Type": "String" } } } }
  }
}`;

/** HOT 2016-10-14 compact without spaces and nothing to change: byte-identical. */
const T_HOT_COMPACT_CLEAN = String.raw`{"heat_template_version":"2016-10-14","resources":{"a":{"type":"OS::Heat::None"}}}`;

/** CFN with raw non-ASCII and upper-case escapes (é, 中, an emoji as a surrogate pair): re-serialised by 043 to
 *  lower-case \uXXXX escapes. (Raw 4-byte characters cannot be stored in MariaDB's utf8mb3 tables.) */
const T_CFN_UNICODE = String.raw`{"AWSTemplateFormatVersion": "2010-09-09", "Description": "é 中 \uD83D\uDE00 \u00E9", "Resources": {"Ünïcode": {"Type": "AWS::EC2::Instance", "Properties": {"UserData": "línea\n"}}}}`;

/** HOT 2015-04-30 with raw non-ASCII and upper-case escapes but nothing to change: byte-identical. */
const T_HOT_UNICODE_CLEAN = String.raw`{"heat_template_version": "2015-04-30", "description": "naïve 中文 \uD83D\uDE00 \u00E9 \/", "resources": {}}`;

/** HOT 2013-05-23 full of numbers: floats keep Python's repr, big integers stay exact. Python's json also reads and
 *  writes NaN/Infinity (a YAML template's .nan/.inf was stored that way); 1e400 reads as inf. */
const T_HOT_NUMBERS = String.raw`{"heat_template_version": "2013-05-23",
  "parameters": {"n": {"type": "number", "default": 1E15, "constraints": [{"range": {"min": 0.5, "max": 1e16}}]}},
  "resources": {"r": {"type": "OS::Heat::None", "properties": {
    "floats": [10.0, 0.5, 1e16, 1.0e2, 1.5e-7, 0.00001, -0.0, 3.14159265358979323846, 123456789012345678.0, 1E2, 2.50],
    "ints": [0, -0, -5, 12345678901234567890, -12345678901234567890, 9007199254740993, 100000000000000000000],
    "more": [0e0, 5e-324, 1.7976931348623157e308, 1E+2, 1e21, 123.456e-2, 1.00],
    "special": [NaN, Infinity, -Infinity, 1e400]
  }}}}`;

/** heat_template_version "2015-4-30": time.strptime accepts one-digit months, the date is after the patch date,
 *  so it is untouched (byte-identical). */
const T_HOT_SHORT_MONTH = `{
  "heat_template_version": "2015-4-30",
  "resources": {}
}`;

/** heat_template_version "2016-02-30": strptime raises ValueError (day out of range) -> replaced. */
const T_HOT_BAD_DAY = String.raw`{"heat_template_version": "2016-02-30", "resources": {}}`;

/** HeatTemplateFormatVersion null: TypeError -> replaced with 2012-12-12. */
const T_HEAT_NULL_VERSION = String.raw`{"HeatTemplateFormatVersion": null, "Resources": {}}`;

/** HOT 2014-04-23 (one day before the patch date) -> 2013-05-23. */
const T_HOT_DAY_BEFORE = String.raw`{"heat_template_version": "2014-04-23", "resources": {}}`;

/** HOT with outputs only (no resources key): 041 renames Value/Description. */
const T_HOT_OUTPUTS_ONLY = String.raw`{"heat_template_version": "2016-04-08", "outputs": {"o": {"Value": "v", "Description": "d"}, "p": {"value": 1}}}`;

/** HOT 2015-04-30: 037 renames 'Type': 'STRING' (kept upper) and lowers 'Json'; escapes of every kind. */
const T_HOT_ESCAPES = String.raw`{"heat_template_version": "2015-04-30", "parameters": {"s": {"Type": "STRING"}, "j": {"type": "Json", "default": {"k": [true, false, null]}}},
"resources": {"r": {"type": "OS::Heat::None", "properties": {"text": "q\"b\\n\nt\tb\bf\fr\rc\u0001d\u007fls\u2028/ \/ é"}}}}`;

/** HOT 2013-05-23 with nesting, empty containers and literals: re-serialised by 043 only. Integer-like keys keep
 *  their document order (a plain JS object would sort them first), '__proto__' is an ordinary key, \u0000 stays. */
const T_HOT_NESTED = String.raw`{ "heat_template_version" : "2013-05-23" , "resources" : { "deep" : { "type" : "OS::Heat::None" , "properties" : { "a" : { "b" : { "c" : [ [ ] , { } , [ 1 , [ 2 , { "d" : null } ] ] ] } } , "t" : true , "f" : false , "ports" : { "8080" : "alt" , "80" : "http" , "b" : 1 , "1" : 0 } , "__proto__" : { "x" : 1 } , "nul" : "a\u0000b" } } } }`;

/** HOT 2015-10-15 with a parameter that has no 'Type' but already a lower-case 'type', and a title-case type
 *  behind a 'Type' key of another parameter (edited in place, order kept). */
const T_HOT_PARAM_ORDER = String.raw`{"parameters": {"b": {"default": "x", "Type": "String", "label": "B"}, "a": {"type": "Boolean", "default": true}}, "heat_template_version": "2015-10-15"}`;

// v34 templates (raw_template.files exists)

/** HOT 2013-05-23 written at 34 with files: 037+043 rewrite the template, files stay byte-identical. */
const T34_HOT = String.raw`{"heat_template_version": "2013-05-23", "parameters": {"script": {"Type": "String"}}, "resources": {"cfg": {"Type": "OS::Heat::SoftwareConfig", "Properties": {"config": {"get_file": "setup.sh"}}}}}`;
const F34_HOT = String.raw`{"setup.sh":"#!/bin/sh\necho h\u00e9llo"}`;

/** HOT 2016-04-08 at 34, untouched; files not normalised JSON, untouched. */
const T34_CLEAN = `{"heat_template_version": "2016-04-08",
 "resources": {"a": {"type": "nested.yaml"}}}`;
const F34_CLEAN = String.raw`{"nested.yaml":"heat_template_version: 2016-04-08\nresources: {}\n"}`;

/** CFN at 34, shared by a live stack and a later deleted one (056). */
const T34_CFN = String.raw`{"AWSTemplateFormatVersion":"2010-09-09","Resources":{}}`;

// ------------------------------------------------------------------------------------------------
// stack.parameters texts (056 copies them verbatim: no JSON re-encoding)

const P_PROD = '{"parameters": {"key_name": "heat_key", "count": "2"}, "resource_registry": {"resources": {}}}';
const P_RAW_UNICODE = '{"parameters":{"label":"café 中"}}';
const P_PRETTY = '{\n  "parameters": {\n    "flavor": "m1.tiny"\n  }\n}';
const P_NUMBERS = '{"parameters": {"n": 10.0, "big": 12345678901234567890, "url": "http:\\/\\/x\\/y"}}';
const P_EMPTY = '{}';
const P_DELETED = '{"parameters": {"deleted": "yes"}}';
const P_V34 = '{"parameters": {"v34": "live"}, "encrypted_param_names": []}';

// ------------------------------------------------------------------------------------------------
// pickles (event.resource_properties, PickleType) made with Python's pickle

const PICKLE_P2 = Buffer.from(
  '80027d710028580c000000496e7374616e636554797065710158080000006d312e736d616c6c71025807000000496d61676549647103580a0000004631372d7838365f36347104752e',
  'hex',
);
/** protocol 0, contains byte 0xe9 (not UTF-8). */
const PICKLE_P0 = Buffer.from('286470300a5653697a650a70310a4931300a73564e616d650a70320a56636166e90a70330a732e', 'hex');
const PICKLE_LIST = Buffer.from('80025d710028473ff80000000000004e88652e', 'hex');

// ------------------------------------------------------------------------------------------------
// the v28 dataset

function stack(
  n: number,
  o: {
    created: string;
    name: string | null;
    tmpl: number;
    creds?: number;
    owner?: string | null;
    deleted?: string | null;
    params?: string | null;
    action?: string;
    status?: string;
    reason?: string | null;
    timeout?: number | null;
    rollback?: 0 | 1;
  },
): Row {
  return {
    id: S(n),
    created_at: o.created,
    updated_at: o.deleted ?? null,
    deleted_at: o.deleted ?? null,
    name: o.name,
    raw_template_id: o.tmpl,
    user_creds_id: o.creds ?? 1,
    username: 'demo',
    owner_id: o.owner ?? null,
    action: o.action ?? (o.deleted ? 'DELETE' : 'CREATE'),
    status: o.status ?? 'COMPLETE',
    status_reason: o.reason === undefined ? 'Stack CREATE completed successfully' : o.reason,
    parameters: o.params ?? null,
    timeout: o.timeout === undefined ? 60 : o.timeout,
    tenant: TENANT,
    disable_rollback: o.rollback ?? 1,
  };
}

/** Template rows at 28: id, created_at, template. Ids have a gap (13 is unused). */
const TEMPLATES_28: Array<[number, string, string | null]> = [
  [1, '2013-11-05 09:00:00', T_HOT_FULL],
  [2, '2013-11-05 09:00:01', T_HOT_CLEAN_PRETTY],
  [3, '2013-11-05 09:00:02', T_HOT_TYPE_WINS],
  [4, '2013-11-05 09:00:03', T_HOT_041_ONLY],
  [5, '2013-11-05 09:00:04', T_HOT_FULL], // the backup stack's copy
  [6, '2013-11-05 09:00:05', T_CFN_PRETTY],
  [7, '2013-11-05 09:00:06', T_HEAT_CFN],
  [8, '2013-11-05 09:00:07', T_HOT_DELETED],
  [9, '2013-11-05 09:00:08', T_HOT_EMPTY_VERSION],
  [10, '2013-11-05 09:00:09', T_HOT_NUMBER_VERSION],
  [11, '2013-11-05 09:00:10', T_TWO_KEYS],
  [12, '2013-11-05 09:00:11', T_TWO_KEYS_FIRST],
  [14, '2013-11-05 09:00:12', T_THREE_KEYS],
  [15, '2013-11-05 09:00:13', T_NO_VERSION],
  [16, '2013-11-05 09:00:14', T_HOT_COMPACT_CLEAN],
  [17, '2013-11-05 09:00:15', T_CFN_UNICODE],
  [18, '2013-11-05 09:00:16', T_HOT_UNICODE_CLEAN],
  [19, '2013-11-05 09:00:17', T_HOT_NUMBERS],
  [20, '2013-11-05 09:00:18', T_HOT_SHORT_MONTH],
  [21, '2013-11-05 09:00:19', T_HOT_BAD_DAY],
  [22, '2013-11-05 09:00:20', T_HEAT_NULL_VERSION],
  [23, '2013-11-05 09:00:21', T_HOT_DAY_BEFORE],
  [24, '2013-11-05 09:00:22', T_HOT_OUTPUTS_ONLY],
  [25, '2013-11-05 09:00:23', T_HOT_ESCAPES],
  [26, '2013-11-05 09:00:24', T_HOT_NESTED],
  [27, '2013-11-05 09:00:25', T_HOT_PARAM_ORDER],
];

const DATASET_28: readonly TableRows[] = [
  {
    table: 'raw_template',
    rows: TEMPLATES_28.map(([id, created, template]) => ({ id, created_at: created, updated_at: null, template })),
  },
  {
    table: 'user_creds',
    rows: [
      // shared by most stacks
      { id: 1, created_at: '2013-11-05 08:00:00', updated_at: null, username: 'demo', password: 'gAAAAABk-encrypted==', tenant: 'demo', auth_url: 'http://keystone:5000/v2.0', tenant_id: TENANT, trust_id: null, trustor_user_id: null },
      { id: 2, created_at: '2013-11-05 08:00:01', updated_at: null, username: null, password: null, tenant: 'demo', auth_url: 'http://keystone:5000/v3', tenant_id: TENANT, trust_id: 'f1e2d3c4b5a6', trustor_user_id: 'a9b8c7d6e5f4' },
      { id: 3, created_at: '2013-11-05 08:00:02', updated_at: '2013-11-06 08:00:00', username: 'admin', password: 'x', tenant: 'admin', auth_url: null, tenant_id: 'admin-tenant', trust_id: null, trustor_user_id: null },
    ],
  },
  {
    table: 'stack',
    rows: [
      // owner chain 3 deep: 1 <- 2 <- 3 <- 4 (and 19 <- 4 at 34: depth 4)
      stack(1, { created: '2013-11-05 10:00:00', name: 'prod', tmpl: 1, params: P_PROD, rollback: 0 }),
      stack(2, { created: '2013-11-05 10:00:10', name: 'prod-child', tmpl: 2, owner: S(1), params: null }),
      stack(3, { created: '2013-11-05 10:00:20', name: 'prod-gchild', tmpl: 3, owner: S(2), params: P_RAW_UNICODE, creds: 2 }),
      stack(4, { created: '2013-11-05 10:00:30', name: 'prod-ggchild', tmpl: 4, owner: S(3), params: P_PRETTY, timeout: null }),
      // backup stack of 'prod' (live, name ends with '*'): backup=1, depth stays 0, root 'prod'
      stack(5, { created: '2013-11-05 10:00:40', name: 'prod*', tmpl: 5, owner: S(1), params: P_PROD, action: 'UPDATE' }),
      // descendants of the backup stack: never reached by 047 (depth 0), root 'prod'
      stack(6, { created: '2013-11-05 10:00:50', name: 'prod*-nested', tmpl: 6, owner: S(5), params: null }),
      stack(7, { created: '2013-11-05 10:01:00', name: 'prod*-nested-inner', tmpl: 7, owner: S(6), params: null, creds: 3 }),
      // deleted 'x*': not a backup (045 looks at live stacks only): depth 1; its deleted child depth 2
      stack(8, { created: '2013-11-05 10:01:10', name: 'x*', tmpl: 8, owner: S(1), deleted: '2013-11-07 10:00:00', params: P_DELETED }),
      stack(9, { created: '2013-11-05 10:01:20', name: 'x*-child', tmpl: 8, owner: S(8), deleted: '2013-11-07 10:00:01', params: P_DELETED }),
      // a deleted top-level stack with a deleted child; its template is shared with the live stack 16 (056)
      stack(10, { created: '2013-11-05 10:01:30', name: 'old', tmpl: 9, deleted: '2013-11-07 11:00:00', params: P_DELETED, action: 'DELETE', status: 'COMPLETE' }),
      stack(11, { created: '2013-11-05 10:01:40', name: 'old-child', tmpl: 10, owner: S(10), deleted: '2013-11-07 11:00:01', params: null }),
      // orphan whose owner does not exist (047: 0; 065: root = the missing id), and its child
      stack(12, { created: '2013-11-05 10:01:50', name: 'orphan', tmpl: 11, owner: MISSING_OWNER, params: P_EMPTY, creds: 2 }),
      stack(13, { created: '2013-11-05 10:02:00', name: 'orphan-child', tmpl: 12, owner: S(12), params: null, status: 'FAILED', reason: 'Resource CREATE failed: é' }),
      // owner_id '' (not NULL): not top-level for 047 (depth 0), its own root for 065
      stack(14, { created: '2013-11-05 10:02:10', name: 'empty-owner', tmpl: 18, owner: '', params: null }),
      // deleted, NULL name: 045 only reads live stacks, so no failure
      stack(15, { created: '2013-11-05 10:02:20', name: null, tmpl: 15, deleted: '2013-11-07 12:00:00', params: P_DELETED, reason: null }),
      // '*' not at the end: not a backup; shares template 9 with the deleted stack 10 (056: this one's parameters)
      stack(16, { created: '2013-11-05 10:02:30', name: 'a*b', tmpl: 9, params: P_NUMBERS }),
      // top-level live backup-named stack: backup=1, depth 0, root itself
      stack(17, { created: '2013-11-05 10:02:40', name: 'solo*', tmpl: 16, params: null, creds: 3 }),
      // a CFN stack
      stack(18, { created: '2013-11-05 10:02:50', name: 'legacy', tmpl: 17, params: P_PROD }),
    ],
  },
  {
    table: 'resource',
    // created_at order differs from id order (057 renumbers by created_at): new ids in the comments
    rows: [
      res(1, '2013-11-05 11:00:05', 1, 'server', { nova: '9f8e7d6c-0000-4000-a000-000000000001', meta: '{"AWS::CloudFormation::Init": {}}' }), // new id 3
      res(2, '2013-11-05 11:00:01', 1, 'volume', { meta: null }), // new id 1
      res(3, '2013-11-05 11:00:09', 2, 'vol', { status: 'FAILED', reason: 'Volume quota exceeded: é 中' }), // new id 5
      res(4, '2013-11-05 11:00:03', 3, 'port', {}), // new id 2
      res(5, '2013-11-05 11:00:07', 4, 'a', { meta: '{}' }), // new id 4
      res(6, '2013-11-05 11:00:13', 5, 'server', { action: 'UPDATE' }), // new id 7
      res(7, '2013-11-05 11:00:11', 6, 'nested', {}), // new id 6
      res(8, '2013-11-05 11:00:17', 8, 'gone', { action: 'DELETE' }), // new id 9
      res(9, '2013-11-05 11:00:15', 12, 'lost', {}), // new id 8
      res(10, '2013-11-05 11:00:21', 13, 'lost-child', {}), // new id 11
      res(11, '2013-11-05 11:00:19', 14, 'empty', {}), // new id 10
      res(12, '2013-11-05 11:00:23', 10, 'old-res', { action: 'DELETE' }), // new id 12
      res(13, '2013-11-05 11:00:25', 7, 'inner', {}), // new id 14
    ],
  },
  {
    table: 'resource_data',
    rows: [
      rdata(1, '2013-11-05 12:00:04', R(1), 'password', 'c2VjcmV0', 1),
      rdata(2, '2013-11-05 12:00:01', R(1), 'handle', 'https://heat-cfn/v1/waitcondition', 0),
      rdata(4, '2013-11-05 12:00:03', R(3), 'volume_id', '0b1d-é', null),
      rdata(5, '2013-11-05 12:00:02', R(6), 'password', 'YmFja3Vw', 1),
      rdata(7, '2013-11-05 12:00:06', R(9), 'k', '', 0),
      rdata(8, '2013-11-05 12:00:05', R(12), 'k', null, 0),
    ],
  },
  {
    table: 'event',
    // integer ids (028): 029 turns them into '1', '2', ...; 035 renumbers by created_at (v34 events interleave)
    rows: [
      ev(1, '2013-11-05 13:00:30', S(1), 'server', 'CREATE', 'IN_PROGRESS', { props: PICKLE_P2 }),
      ev(2, '2013-11-05 13:00:10', S(1), 'volume', 'CREATE', 'COMPLETE', { props: null }),
      ev(3, '2013-11-05 13:00:50', S(2), 'vol', 'CREATE', 'FAILED', { props: PICKLE_P0, reason: 'Volume quota exceeded: é 中' }),
      ev(7, '2013-11-05 13:00:00', S(5), 'server', 'UPDATE', 'COMPLETE', { props: PICKLE_LIST }),
      ev(9, '2013-11-05 13:01:10', S(8), 'gone', 'DELETE', 'COMPLETE', { props: null }),
      ev(10, '2013-11-05 13:00:20', S(12), 'lost', 'CREATE', 'COMPLETE', { props: PICKLE_P2 }),
      ev(11, '2013-11-05 13:01:30', S(15), 'x', 'DELETE', 'COMPLETE', { props: null, updated: '2013-11-07 12:00:00' }),
    ],
  },
  {
    table: 'watch_rule',
    rows: [
      { id: 1, created_at: '2013-11-05 14:00:00', updated_at: null, name: 'prod-cpu-high', state: 'NORMAL', rule: '{"MetricName": "CPUUtilization", "Threshold": "50.0"}', last_evaluated: '2013-11-05 14:05:00', stack_id: S(1) },
      { id: 3, created_at: '2013-11-05 14:00:01', updated_at: '2013-11-05 14:10:00', name: 'orphan-alarm', state: 'ALARM', rule: '{}', last_evaluated: null, stack_id: S(12) },
    ],
  },
  {
    table: 'watch_data',
    rows: [
      { id: 1, created_at: '2013-11-05 14:01:00', updated_at: null, data: '{"CPUUtilization": {"Value": 77.5, "Unit": "Percent"}}', watch_rule_id: 1 },
      { id: 2, created_at: '2013-11-05 14:02:00', updated_at: null, data: '{"CPUUtilization": {"Value": 12.0, "Unit": "Percent"}}', watch_rule_id: 1 },
      { id: 5, created_at: '2013-11-05 14:03:00', updated_at: null, data: null, watch_rule_id: 3 },
    ],
  },
];

function res(
  n: number,
  created: string,
  stackN: number,
  name: string,
  o: { nova?: string; action?: string; status?: string; reason?: string; meta?: string | null },
): Row {
  return {
    id: R(n),
    nova_instance: o.nova ?? null,
    name,
    created_at: created,
    updated_at: null,
    action: o.action ?? 'CREATE',
    status: o.status ?? 'COMPLETE',
    status_reason: o.reason ?? 'state changed',
    stack_id: S(stackN),
    rsrc_metadata: o.meta === undefined ? '{"note": "naïve"}' : o.meta,
  };
}

function rdata(id: number, created: string, resource: string, key: string, value: string | null, redact: 0 | 1 | null): Row {
  return { id, created_at: created, updated_at: null, key, value, redact, resource_id: resource };
}

function ev(
  id: number | string,
  created: string,
  stackId: string,
  resName: string,
  action: string,
  status: string,
  o: { props: Buffer | null; reason?: string; updated?: string },
): Row {
  return {
    id,
    stack_id: stackId,
    created_at: created,
    updated_at: o.updated ?? null,
    resource_action: action,
    resource_status: status,
    resource_name: resName,
    physical_resource_id: `phys-${resName}`,
    resource_status_reason: o.reason ?? 'state changed',
    resource_type: 'OS::Heat::None',
    resource_properties: o.props,
  };
}

// ------------------------------------------------------------------------------------------------
// the v34 additions

const DATASET_34: readonly TableRows[] = [
  {
    table: 'raw_template',
    rows: [
      { id: 30, created_at: '2014-03-01 09:00:00', updated_at: null, template: T34_HOT, files: F34_HOT },
      { id: 31, created_at: '2014-03-01 09:00:01', updated_at: null, template: T34_CLEAN, files: F34_CLEAN },
      { id: 32, created_at: '2014-03-01 09:00:02', updated_at: null, template: T34_CFN, files: '{}' },
    ],
  },
  {
    table: 'user_creds',
    rows: [
      { id: 4, created_at: '2014-03-01 08:00:00', updated_at: null, username: 'v34', password: 'p', tenant: 'demo', auth_url: 'http://keystone:5000/v3', tenant_id: TENANT, trust_id: null, trustor_user_id: null, decrypt_method: 'oslo_decrypt_v1' },
    ],
  },
  {
    table: 'stack',
    rows: [
      // extends the chain: depth 4, root 'prod'
      stack(19, { created: '2014-03-01 10:00:00', name: 'prod-gggchild', tmpl: 30, owner: S(4), params: null, creds: 4 }),
      // live stack, and a later deleted stack sharing its template: 056 takes the live one's parameters
      stack(20, { created: '2014-03-01 10:00:10', name: 'v34-live', tmpl: 32, params: P_V34, creds: 4 }),
      stack(21, { created: '2014-03-01 10:00:20', name: 'v34-deleted', tmpl: 32, deleted: '2014-03-02 10:00:00', params: P_DELETED, creds: 4 }),
    ],
  },
  {
    table: 'resource',
    rows: [
      res(20, '2014-03-01 11:00:02', 19, 'deep', {}), // new id 16
      res(21, '2013-11-05 11:00:24', 1, 'late-but-early', { meta: '{"a": 1}' }), // created between R12 and R13: new id 13, R13 gets 14
      res(22, '2014-03-01 11:00:01', 20, 'v34', {}), // new id 15
    ],
  },
  {
    table: 'resource_data',
    rows: [
      { id: 9, created_at: '2014-03-01 12:00:00', updated_at: null, key: 'password', value: 'djM0', redact: 1, resource_id: R(20), decrypt_method: 'heat_decrypt' },
      { id: 10, created_at: '2014-03-01 12:00:01', updated_at: null, key: 'k', value: 'v', redact: 0, resource_id: R(1), decrypt_method: 'oslo_decrypt_v1' },
    ],
  },
  {
    table: 'event',
    rows: [
      ev(E(1), '2014-03-01 13:00:00', S(19), 'deep', 'CREATE', 'COMPLETE', { props: PICKLE_P2 }),
      // created before some v28 events: 035 interleaves them
      ev(E(2), '2013-11-05 13:00:40', S(1), 'late', 'CREATE', 'IN_PROGRESS', { props: null }),
      ev(E(3), '2014-03-01 13:00:01', S(21), 'v34', 'DELETE', 'COMPLETE', { props: PICKLE_LIST }),
    ],
  },
  {
    table: 'stack_lock',
    rows: [{ stack_id: S(20), created_at: '2014-03-01 14:00:00', updated_at: null, engine_id: 'a7a7a7a7-0000-4000-a000-000000000001' }],
  },
  {
    table: 'software_config',
    rows: [
      // config is not re-encoded by 038 (raw é, no spaces); io is dropped
      { id: 'd0000000-0000-4000-a000-000000000001', created_at: '2014-03-01 15:00:00', updated_at: null, name: 'deploy', group: 'script', config: '#!/bin/sh\necho "héllo"\n', io: '{"inputs": [{"name": "foo"}], "outputs": []}', tenant: TENANT },
      { id: 'd0000000-0000-4000-a000-000000000002', created_at: '2014-03-01 15:00:01', updated_at: null, name: null, group: 'Heat::Ungrouped', config: '{"a":1.0}', io: null, tenant: TENANT },
    ],
  },
  {
    table: 'software_deployment',
    rows: [
      // signal_id is dropped by 040; status_reason becomes TEXT (061), kept
      { id: 'd1000000-0000-4000-a000-000000000001', created_at: '2014-03-01 16:00:00', updated_at: null, server_id: '9f8e7d6c-0000-4000-a000-000000000001', config_id: 'd0000000-0000-4000-a000-000000000001', input_values: '{"foo": "bar"}', output_values: null, signal_id: 'http://heat-cfn:8000/v1/signal/x', action: 'CREATE', status: 'IN_PROGRESS', status_reason: 'Deploy data available', tenant: TENANT },
      { id: 'd1000000-0000-4000-a000-000000000002', created_at: '2014-03-01 16:00:01', updated_at: '2014-03-01 16:05:00', server_id: '9f8e7d6c-0000-4000-a000-000000000001', config_id: 'd0000000-0000-4000-a000-000000000002', input_values: null, output_values: '{"deploy_stdout": "ok\\n", "deploy_status_code": 0}', signal_id: null, action: 'CREATE', status: 'COMPLETE', status_reason: 'Outputs received', tenant: TENANT },
    ],
  },
];

// ------------------------------------------------------------------------------------------------
// insertion

function quote(db: TestDatabase, ident: string): string {
  return db.dialect === 'mysql' ? `\`${ident}\`` : `"${ident}"`;
}

function cellFor(db: TestDatabase, table: string, column: string, v: Cell): unknown {
  if (v === null) return null;
  if (db.dialect === 'postgresql' && BOOLEAN_COLUMNS.has(`${table}.${column}`)) return v === 1 || v === '1';
  if (db.dialect === 'sqlite' && DATETIME_COLUMNS.has(column) && typeof v === 'string' && v.length === 19) {
    return `${v}.000000`; // SQLAlchemy's SQLite storage format
  }
  return v;
}

/**
 * Inserts rows into `table` of a database at version `at` (28 or 34). Every row must have exactly
 * the table's columns at that version (throws otherwise: the dataset cannot drift from the spec).
 */
export async function insertRows(db: TestDatabase, at: 28 | 34, table: string, rows: readonly Row[]): Promise<void> {
  const columns = (at === 28 ? COLUMNS_28 : COLUMNS_34)[table];
  if (!columns) throw new Error(`table ${table} does not exist at version ${at}`);
  for (const row of rows) {
    const keys = Object.keys(row);
    if (keys.length !== columns.length || !columns.every((c) => c in row)) {
      throw new Error(`row of ${table} at ${at} has columns [${keys.join(', ')}], expected [${columns.join(', ')}]`);
    }
    const sql = `INSERT INTO ${quote(db, table)} (${columns.map((c) => quote(db, c)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    await db.query(sql, columns.map((c) => cellFor(db, table, c, row[c]!)));
  }
}

async function insertAll(db: TestDatabase, at: 28 | 34, data: readonly TableRows[]): Promise<void> {
  for (const { table, rows } of data) await insertRows(db, at, table, rows);
}

/** Inserts the v28 dataset; `db` must be at version 28. */
export function insertHeatDataset28(db: TestDatabase): Promise<void> {
  return insertAll(db, 28, DATASET_28);
}

/** Inserts the v34 additions; `db` must be at version 34 with the v28 dataset in it. */
export function insertHeatDataset34(db: TestDatabase): Promise<void> {
  return insertAll(db, 34, DATASET_34);
}

/**
 * The dataset as JSON (Buffers as {"$hex": ...}), the input of derive-expected.py. The fixture
 * records the sha256 of this exact text, so the test notices when the fixture is stale.
 */
export function heatDatasetJson(): string {
  const enc = (data: readonly TableRows[]) =>
    data.map(({ table, rows }) => ({
      table,
      rows: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? { $hex: v.toString('hex') } : v]))),
    }));
  return JSON.stringify({ v28: enc(DATASET_28), v34: enc(DATASET_34), columns28: COLUMNS_28, columns34: COLUMNS_34 });
}
