/**
 * A generated Heat dataset at schema version 34, made inside the database with set-based SQL (so
 * that N = 100 000 loads in seconds): N stacks (owner chains up to 10 deep, every 7th soft-deleted,
 * every 50th a backup named `...*`), N raw_templates of a few KB that 037/041/043 rewrite, 10N
 * resources, 2N resource_data, 20N events, N user_creds, N/10 software configs and deployments.
 * created_at values are distinct and not in id order, so 035/057 really renumber.
 */
import type { Backend } from './lib.js';

/** SQL spellings a dataset's content needs on each backend. */
export interface SqlHelpers {
  backend: Backend;
  concat(parts: string[]): string;
  /** A number expression as text. */
  text(expr: string): string;
  mod(a: string, m: number): string;
}

/** A HOT template (~3 KB) that 037 (parameter `Type`), 041 (CFN-style keys) and 043 (an old date) all rewrite. */
function templateSql(idExpr: string, concat: (parts: string[]) => string): string {
  const params = Array.from({ length: 6 }, (_, i) => `"p${i}": {"Type": "String", "Default": "value ${i} é", "Description": "parameter number ${i} of the benchmark template"}`).join(', ');
  const resources = Array.from(
    { length: 12 },
    (_, i) =>
      `"server_${i}": {"Type": "OS::Nova::Server", "DependsOn": "net", "Properties": {"image": "cirros-0.3.${i}", "flavor": "m1.small", "networks": [{"network": "private"}], "user_data": "echo ${i}"}, "Metadata": {"n": ${i}, "weight": 0.5}}`,
  ).join(', ');
  const head = `{"heat_template_version": "2013-05-23", "description": "benchmark stack `;
  const tail = `", "parameters": {${params}}, "resources": {"net": {"Type": "OS::Neutron::Net"}, ${resources}}, "outputs": {"ip": {"Description": "address", "Value": {"get_attr": ["server_0", "first_address"]}}}}`;
  return concat([`'${head}'`, idExpr, `'${tail}'`]);
}

/**
 * What a dataset puts in the text columns, as SQL expressions of the row number `n` (the realistic
 * dataset joins pools of generated texts; see dataset-realistic.ts). `prelude` statements run first
 * (after the numbers table exists), `cleanup` last.
 */
export interface DatasetContent {
  prelude: string[];
  /** FROM-clause additions (`JOIN pool p ON ...`) per table, and the column expressions. */
  templateJoin: string;
  template: string;
  resourceJoin: string;
  metadata: string;
  eventJoin: string;
  properties: string;
  stackJoin: string;
  parameters: string;
  cleanup: string[];
}

export function datasetSql(backend: Backend, n: number, content?: (h: SqlHelpers) => DatasetContent): string[] {
  // A 36-character id: prefix + the number zero-padded to 34 digits.
  const pad = (expr: string, prefix: string) =>
    backend === 'mysql'
      ? `CONCAT('${prefix}', LPAD(${expr}, 34, '0'))`
      : backend === 'postgresql'
        ? `'${prefix}' || LPAD(CAST(${expr} AS TEXT), 34, '0')`
        : `'${prefix}' || substr('${'0'.repeat(34)}' || (${expr}), -34)`;
  const div = (a: string, b: number) => (backend === 'mysql' ? `(${a}) DIV ${b}` : `(${a}) / ${b}`);
  const concat = (parts: string[]) => (backend === 'mysql' ? `CONCAT(${parts.join(', ')})` : parts.join(' || '));
  const ts = (secondsExpr: string) =>
    backend === 'mysql'
      ? `TIMESTAMPADD(SECOND, ${secondsExpr}, '2015-01-01 00:00:00')`
      : backend === 'postgresql'
        ? `TIMESTAMP '2015-01-01 00:00:00' + (${secondsExpr}) * INTERVAL '1 second'`
        : `datetime('2015-01-01 00:00:00', '+' || (${secondsExpr}) || ' seconds')`;
  const bool = (e: string) => (backend === 'postgresql' ? `(${e})` : `CASE WHEN ${e} THEN 1 ELSE 0 END`);
  // A numbers table 1..k, made once and reused.
  const nums = (k: number) =>
    backend === 'postgresql'
      ? `SELECT g AS n FROM generate_series(1, ${k}) g`
      : `SELECT n FROM bench_seq WHERE n <= ${k}`;
  const text = (e: string) => (backend === 'mysql' ? `CAST(${e} AS CHAR)` : `CAST(${e} AS TEXT)`);
  const c = content?.({ backend, concat, text, mod: (a, m) => `((${a}) % ${m})` }) ?? {
    prelude: [],
    templateJoin: '',
    template: templateSql(backend === 'mysql' ? 'n' : 'CAST(n AS TEXT)', concat),
    resourceJoin: '',
    metadata: "'{}'",
    eventJoin: '',
    properties: 'NULL',
    stackJoin: '',
    parameters: `'{"parameters": {"p0": "x"}, "resource_registry": {}}'`,
    cleanup: [],
  };
  const stmts: string[] = [];
  const max = 20 * n;
  if (backend === 'mysql') {
    stmts.push('SET SESSION max_recursive_iterations = 100000000');
    stmts.push(`CREATE TABLE bench_seq (n INT PRIMARY KEY) ENGINE=InnoDB`);
    stmts.push(`INSERT INTO bench_seq WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${max}) SELECT n FROM s`);
  } else if (backend === 'sqlite') {
    stmts.push(`CREATE TABLE bench_seq (n INTEGER PRIMARY KEY)`);
    stmts.push(`INSERT INTO bench_seq WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${max}) SELECT n FROM s`);
  }
  // Pseudo-random but distinct created_at: a multiplicative permutation of 1..M (M prime-free).
  const shuffled = (expr: string, m: number) => `(CAST(${expr} AS ${backend === "mysql" ? "SIGNED" : "BIGINT"}) * 7919) % ${m + 1}`;
  stmts.push(...c.prelude);
  stmts.push(
    `INSERT INTO raw_template (id, created_at, updated_at, template, files) SELECT n, ${ts(shuffled('n', n))}, NULL, ${c.template}, '{}' FROM (${nums(n)}) q${c.templateJoin}`,
  );
  stmts.push(
    `INSERT INTO user_creds (id, created_at, username, password, tenant, auth_url, tenant_id, decrypt_method) SELECT n, ${ts('n')}, 'demo', 'encrypted-pw', 'demo', 'http://keystone:5000/v3', 'tenant-id', 'heat_decrypt' FROM (${nums(n)}) q`,
  );
  stmts.push(
    `INSERT INTO stack (id, created_at, updated_at, deleted_at, name, raw_template_id, user_creds_id, username, owner_id, action, status, status_reason, parameters, timeout, tenant, disable_rollback)
     SELECT ${pad('n', 's-')}, ${ts(shuffled('n', n))}, NULL, CASE WHEN n % 7 = 0 THEN ${ts('n + 1000000')} ELSE NULL END,
            ${concat(["'stack-'", backend === 'mysql' ? 'n' : 'CAST(n AS TEXT)', "CASE WHEN n % 50 = 0 THEN '*' ELSE '' END"])},
            n, n, 'demo', CASE WHEN n % 10 = 1 THEN NULL ELSE ${pad('n - 1', 's-')} END,
            'CREATE', 'COMPLETE', 'Stack CREATE completed successfully',
            ${c.parameters}, 60, 'demo', ${bool('n % 3 = 0')}
       FROM (${nums(n)}) q${c.stackJoin}`,
  );
  stmts.push(
    `INSERT INTO resource (id, nova_instance, name, created_at, updated_at, action, status, status_reason, stack_id, rsrc_metadata)
     SELECT ${pad('n', 'r-')}, NULL, 'server', ${ts(shuffled('n', 10 * n))}, NULL, 'CREATE', 'COMPLETE', 'state changed',
            ${pad(div('n + 9', 10), 's-')}, ${c.metadata}
       FROM (${nums(10 * n)}) q${c.resourceJoin}`,
  );
  stmts.push(
    `INSERT INTO resource_data (id, created_at, updated_at, ${backend === 'mysql' ? '`key`' : '"key"'}, value, redact, resource_id, decrypt_method)
     SELECT n, ${ts(shuffled('n', 2 * n))}, NULL, 'password', 'secret-value', ${bool('n % 2 = 0')}, ${pad('n * 5', 'r-')}, 'heat_decrypt'
       FROM (${nums(2 * n)}) q`,
  );
  stmts.push(
    `INSERT INTO event (id, stack_id, created_at, updated_at, resource_action, resource_status, resource_name, physical_resource_id, resource_status_reason, resource_type, resource_properties)
     SELECT ${pad('n', 'e-')}, ${pad(div('n + 19', 20), 's-')}, ${ts(shuffled('n', 20 * n))}, NULL, 'CREATE', 'COMPLETE', 'server',
            'phys-id', 'state changed', 'OS::Nova::Server', ${c.properties}
       FROM (${nums(20 * n)}) q${c.eventJoin}`,
  );
  const configs = Math.max(1, Math.floor(n / 10));
  stmts.push(
    `INSERT INTO software_config (id, created_at, name, ${backend === 'mysql' ? '`group`' : '"group"'}, config, io, tenant)
     SELECT ${pad('n', 'c-')}, ${ts('n')}, 'config', 'script', '{"config": "#!/bin/sh"}', '{}', 'demo' FROM (${nums(configs)}) q`,
  );
  stmts.push(
    `INSERT INTO software_deployment (id, created_at, server_id, config_id, input_values, output_values, signal_id, action, status, status_reason, tenant)
     SELECT ${pad('n', 'd-')}, ${ts('n')}, 'server-id', ${pad('n', 'c-')}, '{}', '{}', NULL, 'CREATE', 'COMPLETE', 'ok', 'demo' FROM (${nums(configs)}) q`,
  );
  stmts.push(...c.cleanup);
  if (backend === 'postgresql') {
    for (const t of ['raw_template', 'user_creds', 'resource_data']) {
      stmts.push(`SELECT setval('${t}_id_seq', (SELECT MAX(id) FROM ${t}))`);
    }
  } else {
    stmts.push('DROP TABLE bench_seq');
  }
  return stmts;
}
