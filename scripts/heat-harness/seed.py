"""The takeover seed: a database brought to 34 by real Heat, holding realistic data.

    build_seed(heat, dialect, engine, dataset)
      Heat db_sync 28 -> the golden dataset's v28 rows -> Heat db_sync 34 -> its v34 rows -> EXTRA_34

The golden dataset is test/support/heat-dataset.ts (`heatDatasetJson()`): it was designed to exercise
every data rule of 029-065 (its comments say which row exercises what). EXTRA_34 adds what it lacks
for a crash harness: sizes (a 40 KB HOT template that 037, 041 and 043 all rewrite, a 12 KB stack
parameters text that 056 copies, a 20 KB resource metadata, an 8 KB resource_data value, a 4 KB
binary event property holding every byte value) on a stack of its own. Snapshots cannot be seeded:
the table is created by 044, after the seed's version 34.
"""
import json
import subprocess

import sqlalchemy

PG_BOOLEANS = {('stack', 'disable_rollback'), ('resource_data', 'redact')}


def dataset_json(repo_root):
    """heatDatasetJson() of the built checkout (npm run build first)."""
    code = "import('./dist/test/support/heat-dataset.js').then(m => process.stdout.write(m.heatDatasetJson()))"
    return json.loads(subprocess.check_output(['node', '-e', code], cwd=repo_root))


def _value(dialect, table, column, v):
    if isinstance(v, dict) and '$hex' in v:
        return bytes.fromhex(v['$hex'])
    if dialect == 'postgresql' and (table, column) in PG_BOOLEANS and v is not None:
        return bool(v)
    return v


def insert(engine, dialect, tables, columns):
    q = '`%s`' if dialect == 'mysql' else '"%s"'
    with engine.begin() as conn:
        for t in tables:
            cols = columns[t['table']]
            sql = 'INSERT INTO %s (%s) VALUES (%s)' % (q % t['table'], ', '.join(q % c for c in cols), ', '.join(':p%d' % i for i in range(len(cols))))
            for row in t['rows']:
                if sorted(row) != sorted(cols):
                    raise ValueError('row of %s has columns %s, expected %s' % (t['table'], sorted(row), sorted(cols)))
                conn.execute(sqlalchemy.text(sql), {'p%d' % i: _value(dialect, t['table'], c, row[c]) for i, c in enumerate(cols)})


def _big_template():
    params = {'p%03d' % i: {'type': 'string', 'default': 'valeur numéro %d' % i, 'description': 'x' * 60} for i in range(150)}
    params['flavor'] = {'Type': 'String', 'default': 'm1.small'}  # 037: one parameter to change
    resources = {'srv%03d' % i: {'type': 'OS::Nova::Server', 'properties': {'flavor': {'get_param': 'flavor'}, 'name': 'srv-%d-中' % i}}
                 for i in range(120)}
    resources['legacy'] = {'Type': 'OS::Heat::None', 'Properties': {'k': 'v'}, 'DependsOn': ['srv000']}  # 041
    return json.dumps({'heat_template_version': '2013-05-23', 'description': 'big: ' + 'é' * 100,
                       'parameters': params, 'resources': resources}, ensure_ascii=False, separators=(',', ':'))


def extra_34():
    sid, rid = 'b0000000-0000-4000-a000-000000000040', 'c0000000-0000-4000-a000-000000000040'
    params = json.dumps({'parameters': {'k%03d' % i: 'v-%d-ü' % i for i in range(600)}}, ensure_ascii=False)
    return [
        {'table': 'raw_template', 'rows': [{'id': 40, 'created_at': '2014-03-02 09:00:00', 'updated_at': None,
                                             'template': _big_template(), 'files': '{"big.yaml": "' + 'a' * 2000 + '"}'}]},
        {'table': 'stack', 'rows': [{'id': sid, 'created_at': '2014-03-02 10:00:00', 'updated_at': None, 'deleted_at': None,
                                     'name': 'big', 'raw_template_id': 40, 'user_creds_id': 4, 'username': 'demo', 'owner_id': None,
                                     'action': 'CREATE', 'status': 'COMPLETE', 'status_reason': 'r' * 255, 'parameters': params,
                                     'timeout': 60, 'tenant': 'big-tenant', 'disable_rollback': 1}]},
        {'table': 'resource', 'rows': [{'id': rid, 'nova_instance': None, 'name': 'big', 'created_at': '2014-03-02 11:00:00',
                                        'updated_at': None, 'action': 'CREATE', 'status': 'COMPLETE', 'status_reason': None,
                                        'stack_id': sid, 'rsrc_metadata': json.dumps({'m': 'ñ' * 10000}, ensure_ascii=False)}]},
        {'table': 'resource_data', 'rows': [{'id': 20, 'created_at': '2014-03-02 12:00:00', 'updated_at': None, 'key': 'big',
                                             'value': 'Zm9v' * 2048, 'redact': 1, 'resource_id': rid, 'decrypt_method': 'oslo_decrypt_v1'}]},
        {'table': 'event', 'rows': [{'id': 'e0000000-0000-4000-a000-000000000040', 'stack_id': sid, 'created_at': '2014-03-02 13:00:00',
                                     'updated_at': None, 'resource_action': 'CREATE', 'resource_status': 'COMPLETE',
                                     'resource_name': 'big', 'physical_resource_id': None, 'resource_status_reason': 'state changed',
                                     'resource_type': 'OS::Nova::Server', 'resource_properties': {'$hex': bytes(range(256)).hex() * 16}}]},
    ]


def build_seed(heat, dialect, engine, dataset):
    heat.db_sync(engine, 28)
    insert(engine, dialect, dataset['v28'], dataset['columns28'])
    heat.db_sync(engine, 34)
    insert(engine, dialect, dataset['v34'], dataset['columns34'])
    insert(engine, dialect, extra_34(), dataset['columns34'])
