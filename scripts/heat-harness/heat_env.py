"""Real Heat 6.0.0's db_sync, made runnable with Debian's python3 (our code; Heat's is never copied here).

    heat = load_heat('/tmp/heat600')          # an extracted Heat tree (the directory that holds heat/)
    engine = make_engine(server_url('mysql', 'hh_1'))
    heat.db_sync(engine, 34)                  # heat/db/sqlalchemy/migration.py db_sync, unmodified

What is put around Heat, and why:
- `heat.engine.hot.parameters` is replaced by a stub module holding only HOTParamSchema.TYPES (script
  037 imports it to read that tuple; the real module pulls in the whole engine). The same shim made
  ../shared/heat-schema (MIGRATIONS.md, header).
- The engine is oslo.db's `engines.create_engine`, as heat-manage's EngineFacade builds it from the
  [database] defaults: MySQL `sql_mode=TRADITIONAL` and the URL's `charset=utf8`, SQLite without
  foreign-key enforcement (`sqlite_fk=False`).
Everything else (sqlalchemy-migrate 0.13, SQLAlchemy 1.4.46, oslo.db 12.1, PyMySQL, psycopg2) is
Debian's, unmodified.
"""
import os
import sys
import types
import warnings

MYSQL_HOST = os.environ.get('HARNESS_MYSQL_HOST', '127.0.0.1')
MYSQL_PORT = int(os.environ.get('HARNESS_MYSQL_PORT', '3306'))
PG_HOST = os.environ.get('HARNESS_PG_HOST', '127.0.0.1')
PG_PORT = int(os.environ.get('HARNESS_PG_PORT', '5432'))

HOT_TYPES = ('string', 'number', 'comma_delimited_list', 'json', 'boolean')


class HeatTree:
    """Heat's migration entry points from an extracted tree."""

    def __init__(self, migration, repo_path):
        self.migration = migration
        self.repo_path = repo_path

    def db_sync(self, engine, version=None):
        return self.migration.db_sync(engine, version)

    def db_version(self, engine):
        return self.migration.db_version(engine)


def load_heat(tree):
    tree = os.path.abspath(tree)
    repo = os.path.join(tree, 'heat', 'db', 'sqlalchemy', 'migrate_repo')
    if not os.path.isfile(os.path.join(repo, 'migrate.cfg')):
        raise SystemExit('%s is not an extracted Heat tree (no heat/db/sqlalchemy/migrate_repo/migrate.cfg): '
                         'extract it with `git --git-dir=.../openstack+heat/repo archive 6.0.0 heat | tar x -C DIR`' % tree)
    warnings.filterwarnings('ignore')  # oslo.db's "removed in 8.3.0" and SQLAlchemy 2.0 deprecation warnings
    sys.path.insert(0, tree)
    import heat.engine.hot  # noqa: F401  (empty packages)
    stub = types.ModuleType('heat.engine.hot.parameters')
    stub.HOTParamSchema = type('HOTParamSchema', (), {'TYPES': HOT_TYPES})
    sys.modules['heat.engine.hot.parameters'] = stub
    sys.modules['heat.engine.hot'].parameters = stub
    from heat.db.sqlalchemy import migration
    return HeatTree(migration, repo)


def server_url(dialect, db):
    """SQLAlchemy URL of database `db` (a file path for sqlite)."""
    if dialect == 'mysql':
        return 'mysql+pymysql://root@%s:%d/%s?charset=utf8' % (MYSQL_HOST, MYSQL_PORT, db)
    if dialect == 'postgresql':
        return 'postgresql+psycopg2://postgres@%s:%d/%s' % (PG_HOST, PG_PORT, db)
    return 'sqlite:///%s' % os.path.abspath(db)


def make_engine(url):
    from oslo_db.sqlalchemy import engines
    return engines.create_engine(url, mysql_sql_mode='TRADITIONAL', sqlite_fk=False, max_retries=1)


def versions_of(heat):
    """The script versions of the repository (28..71)."""
    names = os.listdir(os.path.join(heat.repo_path, 'versions'))
    return sorted(int(n[:3]) for n in names if n[:3].isdigit())
