#!/usr/bin/python3
"""One real Heat process of any generation: db_sync or db_version, as its heat-manage calls them.

usage: lineage_run.py GEN TREE DIALECT DB db_sync [VERSION]
       lineage_run.py GEN TREE DIALECT DB db_version

GEN is `6` (Heat 6.0.0, sqlalchemy-migrate, INIT_VERSION 27), `13` (Heat 13.0.0 Train,
sqlalchemy-migrate, INIT_VERSION 70) or `master` (Heat master, Alembic). TREE is an extracted tree
(the directory that holds heat/). Prints one JSON line on stdout: {"ok": true, "result": ...} or
{"ok": false, "error": "<exception class>: <text>"} (exit 1), the way heat-manage's `ERROR: ` would.

Each generation runs in its own process: the three trees are all the package `heat`.
What is put around Heat (our code, nothing of Heat's is changed):
- 6 and 13: heat_env.load_heat (the 037 stub; oslo.db engine with heat-manage's [database] defaults).
- master: `heat.db.api` is replaced by a module whose get_engine() returns that same oslo.db engine
  (the real one builds it from oslo.config through enginefacade and imports the whole engine);
  heat/db/migration.py, heat/db/migrations/* and heat/db/models.py are master's own.
"""
import json
import logging
import os
import sys
import types
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from heat_env import load_heat, make_engine, server_url  # noqa: E402


def master_migration(tree, engine):
    warnings.filterwarnings('ignore')
    sys.path.insert(0, os.path.abspath(tree))
    import heat.db  # noqa: F401
    api = types.ModuleType('heat.db.api')
    api.get_engine = lambda: engine
    sys.modules['heat.db.api'] = api
    sys.modules['heat.db'].api = api
    from heat.db import migration
    return migration


def main():
    gen, tree, dialect, db, action = sys.argv[1:6]
    arg = sys.argv[6] if len(sys.argv) > 6 else None
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(name)s %(levelname)s %(message)s')
    engine = make_engine(server_url(dialect, db))
    try:
        if gen == 'master':
            m = master_migration(tree, engine)
            res = m.db_sync(arg, engine) if action == 'db_sync' else m.db_version()
        else:
            heat = load_heat(tree)
            res = heat.db_sync(engine, int(arg) if arg else None) if action == 'db_sync' else heat.db_version(engine)
        print(json.dumps({'ok': True, 'result': res}))
        return 0
    except Exception as e:  # heat-manage prints `ERROR: <text>` and exits 1
        print(json.dumps({'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}))
        return 1
    finally:
        engine.dispose()


if __name__ == '__main__':
    sys.exit(main())
