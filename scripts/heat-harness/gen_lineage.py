#!/usr/bin/python3
"""Catalogs of Heat's schema after 71, from real Heat runs (docs/CATALOG.md, scripts/heat-harness/README.md §3).

usage: gen_lineage.py HEAT600 HEAT13 HEATMASTER OUT_DIR [--dialects mysql,postgresql,sqlite] [--tries 12]

Per backend, one database:
  Heat 6.0.0 db_sync 71 (checked equal to OUT_DIR/<d>/071.tsv),
  Heat 13.0.0 db_sync N for N = 72..86, one process each       -> OUT_DIR/<d>/NNN.tsv
  Heat master db_sync <rev> for each Alembic revision in turn  -> OUT_DIR/<d>/<rev>.tsv
  (the first call stamps c6214ca60943 on the legacy database at 86; then d2db381e3324, ...)
and one empty database:
  Heat master db_sync <rev> for each revision in turn          -> OUT_DIR/<d>/fresh/<rev>.tsv

MariaDB: the databases are created with the server's default charset (utf8mb4), as the 027..071
catalogs were. Real master cannot run 88be64598c0f on an *upgraded* utf8mb4 database (SPEC A5.3:
resource_snapshot takes the database default, snapshot.id is utf8mb3, errno 150). The tool creates
resource_snapshot with snapshot's charset instead; to record that schema from real master's own
DDL, the database default is switched to utf8 (utf8mb3_general_ci) for that one revision and back
to utf8mb4 afterwards (the database default is not part of a catalog). A second MariaDB walk on a
database created `CHARACTER SET utf8` (how the shared targets were made) must give the same
catalogs but for the version tables' table options, which follow the database default.

SQLite: real 6.0.0 sometimes loses or doubles a `stack` FK on the way to 71 (README §1); a walk
whose 071 catalog is not OUT_DIR/sqlite/071.tsv is discarded and started again (--tries).
"""
import argparse
import json
import os
import subprocess
import sys

from dbs import connect, create_db, drop_db, log
import state

HERE = os.path.dirname(os.path.abspath(__file__))
REVISIONS = ['c6214ca60943', 'd2db381e3324', '88be64598c0f', '97b2a986f922']
LEGACY = list(range(72, 87))


def heat(gen, tree, dialect, db, action, arg=None):
    cmd = ['/usr/bin/python3', os.path.join(HERE, 'lineage_run.py'), gen, tree, dialect, db, action] + ([arg] if arg else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = json.loads(p.stdout.strip().split('\n')[-1]) if p.stdout.strip() else {'ok': False, 'error': p.stderr[-2000:]}
    if not out['ok']:
        raise SystemExit('Heat %s %s %s on %s %s failed: %s' % (gen, action, arg, dialect, db, out['error']))
    return out['result']


def cat(dialect, db, label):
    conn = connect(dialect, db)
    try:
        text = state.catalog(dialect, conn, 0)
    finally:
        conn.close()
    return '\n'.join(['#catalog\tv1\t%s\t%s' % (dialect, label)] + text.split('\n')[1:])


def mysql_default(db, charset):
    c = connect('mysql')
    try:
        with c.cursor() as cur:
            cur.execute('ALTER DATABASE `%s` CHARACTER SET %s' % (db, charset))
    finally:
        c.close()


def create(dialect, charset=None):
    db = create_db(dialect)
    if charset:
        mysql_default(db, charset)
    return db


def upgraded_walk(a, dialect, expected71):
    """{label: catalog} of one database 71 -> 86 -> each revision, or None when 6.0.0's 71 is not the catalog."""
    db = create(dialect)
    out = {}
    try:
        heat('6', a.heat600, dialect, db, 'db_sync', '71')
        c71 = cat(dialect, db, '071')
        if c71 != expected71:
            return None
        for n in LEGACY:
            heat('13', a.heat13, dialect, db, 'db_sync', str(n))
            out['%03d' % n] = cat(dialect, db, '%03d' % n)
            log('%s %03d: %d facts' % (dialect, n, len(out['%03d' % n].split('\n')) - 2))
        for rev in REVISIONS:
            flip = dialect == 'mysql' and rev == '88be64598c0f'
            if flip:
                mysql_default(db, 'utf8 COLLATE utf8_general_ci')
            heat('master', a.heatmaster, dialect, db, 'db_sync', rev)
            if flip:
                mysql_default(db, 'utf8mb4 COLLATE utf8mb4_general_ci')
            out[rev] = cat(dialect, db, rev)
            log('%s %s (upgraded): %d facts' % (dialect, rev, len(out[rev].split('\n')) - 2))
    finally:
        drop_db(dialect, db)
    return out


def fresh_walk(a, dialect, charset=None):
    db = create(dialect, charset)
    out = {}
    try:
        for rev in REVISIONS:
            heat('master', a.heatmaster, dialect, db, 'db_sync', rev)
            out[rev] = cat(dialect, db, rev)
            log('%s %s (fresh): %d facts' % (dialect, rev, len(out[rev].split('\n')) - 2))
    finally:
        drop_db(dialect, db)
    return out


def strip_version_tables(text):
    return [l for l in text.split('\n')[1:] if not l.startswith(('table\tmigrate_version\t', 'table\talembic_version\t'))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('heat600')
    ap.add_argument('heat13')
    ap.add_argument('heatmaster')
    ap.add_argument('out_dir')
    ap.add_argument('--dialects', default='mysql,postgresql,sqlite')
    ap.add_argument('--tries', type=int, default=12)
    a = ap.parse_args()
    for dialect in a.dialects.split(','):
        d = os.path.join(a.out_dir, dialect)
        with open(os.path.join(d, '071.tsv')) as f:
            expected71 = f.read()
        up = None
        for i in range(a.tries):
            up = upgraded_walk(a, dialect, expected71)
            if up is not None:
                break
            log('%s walk %d: 6.0.0\'s 71 is not catalog 071 (SQLite FK set, README §1): discarded' % (dialect, i + 1))
        if up is None:
            raise SystemExit('%s: no walk reached catalog 071 in %d tries' % (dialect, a.tries))
        fresh = fresh_walk(a, dialect)
        if dialect == 'mysql':
            # The utf8-database variant (how ../shared/heat-lineage was made) runs every revision unaided.
            db = create(dialect, 'utf8 COLLATE utf8_general_ci')
            try:
                heat('6', a.heat600, dialect, db, 'db_sync', '71')
                heat('13', a.heat13, dialect, db, 'db_sync', '86')
                heat('master', a.heatmaster, dialect, db, 'db_sync')
                head8 = cat(dialect, db, REVISIONS[-1])
            finally:
                drop_db(dialect, db)
            if strip_version_tables(head8) != strip_version_tables(up[REVISIONS[-1]]):
                raise SystemExit('mysql: the utf8 database\'s head differs from the utf8mb4 walk\'s beyond the version tables')
            log('mysql: utf8 database, one call per generation, head == the utf8mb4 walk\'s head (version tables aside)')
        os.makedirs(os.path.join(d, 'fresh'), exist_ok=True)
        for label, text in up.items():
            with open(os.path.join(d, '%s.tsv' % label), 'w') as f:
                f.write(text)
        for label, text in fresh.items():
            with open(os.path.join(d, 'fresh', '%s.tsv' % label), 'w') as f:
                f.write(text)
        log('%s: wrote %d upgraded and %d fresh catalogs to %s' % (dialect, len(up), len(fresh), d))


if __name__ == '__main__':
    sys.exit(main())
