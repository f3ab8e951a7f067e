#!/usr/bin/python3
"""Real Heat on databases OUR heat-manage made (issue 17 point 2): the recorded outcome is a fixture
the suite replays without Python (test/unit/heat-lineage-cross.test.ts).

usage: cross_check.py HEAT13 HEATMASTER OUT_JSON [--dialects mysql,postgresql,sqlite]

Per backend, on a new database (MariaDB: the server default, utf8mb4): ours
`node dist/bin/heat-manage.js db_sync head` (from empty: version control at 27, 028..086, the stamp,
the three revisions), then, each in its own process:
  real master `db_version`, real master `db_sync` (no VERSION, i.e. head), real master `db_sync head`,
  real 13.0.0 `db_version`, real 13.0.0 `db_sync` (its default, 86),
with our catalog of the database (state.py) before and after each; and the same with ours at 86
(`db_sync 86`) then real master `db_sync` (it stamps and runs its revisions on our 86) and ours
`db_check`. Recorded: each call's JSON result (lineage_run.py) and whether the catalog changed.
"""
import argparse
import json
import os
import subprocess
import sys

from dbs import connect, create_db, drop_db, log
import state

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVERS = {'mysql': 'mysql://root@127.0.0.1:3306/', 'postgresql': 'postgresql://postgres@127.0.0.1:5432/'}


def our_url(dialect, db):
    return 'sqlite:///%s' % db if dialect == 'sqlite' else SERVERS[dialect] + db


def ours(dialect, db, *args):
    env = dict(os.environ, OS_DATABASE__CONNECTION=our_url(dialect, db))
    p = subprocess.run(['node', os.path.join(ROOT, 'dist/bin/heat-manage.js')] + list(args), capture_output=True, text=True, env=env, timeout=900)
    return {'code': p.returncode, 'stdout': p.stdout}


def real(gen, tree, dialect, db, action, arg=None):
    cmd = ['/usr/bin/python3', os.path.join(HERE, 'lineage_run.py'), gen, tree, dialect, db, action] + ([arg] if arg else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return json.loads(p.stdout.strip().split('\n')[-1])


def cat(dialect, db):
    c = connect(dialect, db)
    try:
        return state.catalog(dialect, c, 0)
    finally:
        c.close()


def versions(dialect, db):
    c = connect(dialect, db)
    out = {}
    try:
        cur = c.cursor()
        for t, col in (('migrate_version', 'version'), ('alembic_version', 'version_num')):
            try:
                cur.execute('SELECT %s FROM %s' % (col, t))
                out[t] = [str(r[0]) for r in cur.fetchall()]
            except Exception:
                out[t] = None
                if dialect == 'postgresql':
                    c.rollback()
    finally:
        c.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('heat13')
    ap.add_argument('heatmaster')
    ap.add_argument('out_json')
    ap.add_argument('--dialects', default='mysql,postgresql,sqlite')
    a = ap.parse_args()
    result = {}
    for dialect in a.dialects.split(','):
        rec = {}
        db = create_db(dialect)
        try:
            rec['ours db_sync head'] = ours(dialect, db, 'db_sync', 'head')
            calls = [('master', a.heatmaster, 'db_version', None), ('master', a.heatmaster, 'db_sync', None),
                     ('master', a.heatmaster, 'db_sync', 'head'), ('13', a.heat13, 'db_version', None), ('13', a.heat13, 'db_sync', None)]
            for gen, tree, action, arg in calls:
                before = cat(dialect, db)
                out = real(gen, tree, dialect, db, action, arg)
                label = 'real %s %s%s on our head' % (gen, action, ' ' + arg if arg else '')
                rec[label] = {'result': out, 'schema unchanged': cat(dialect, db) == before, 'versions': versions(dialect, db)}
                log('%s %s: %s' % (dialect, label, json.dumps(rec[label])[:200]))
        finally:
            drop_db(dialect, db)
        db = create_db(dialect)
        try:
            rec['ours db_sync 86'] = ours(dialect, db, 'db_sync', '86')
            out = real('master', a.heatmaster, dialect, db, 'db_sync')
            rec['real master db_sync on our 86'] = {'result': out, 'versions': versions(dialect, db)}
            rec['ours db_check after it'] = ours(dialect, db, 'db_check')
            log('%s real master on our 86: %s; ours db_check: %s' % (dialect, json.dumps(out), rec['ours db_check after it']))
        finally:
            drop_db(dialect, db)
        result[dialect] = rec
    with open(a.out_json, 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    sys.exit(main())
