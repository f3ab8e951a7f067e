#!/usr/bin/python3
"""Per-version schema catalogs 027..071 from real Heat 6.0.0 (docs/CATALOG.md).

usage: gen_catalogs.py HEAT_TREE OUT_DIR [--dialects mysql,postgresql,sqlite] [--check 28,35,56,71]
                       [--sqlite-runs 8] [--dumpers /work/shared/heat-schema/dumpers]

For each dialect: an empty database (MariaDB: CREATE DATABASE with the server's default charset),
then Heat's db_sync(engine, N) for N = 27, 28, ..., 71 in turn, the catalog dumped after each call
into OUT_DIR/<dialect>/NNN.tsv. --check: at those N, a fresh database taken straight to N must give
the same catalog (one db_sync call against N calls). --dumpers: at the --check versions, the shared
dumper scripts run on the same database and their TSV rows must be exactly the catalog's rows.

SQLite (MIGRATIONS.md §2.7): real Heat's SQLite FK sets vary from run to run. --sqlite-runs full
runs are made; a run is kept when `stack` has exactly its expected foreign keys at every version
(raw_template_id, user_creds_id; + prev_raw_template_id from 055) with no duplicated clause. The
kept runs must agree with each other at every version; the first kept run is written. What every
run looked like is printed (and goes into the README).
"""
import argparse
import os
import subprocess
import sys
import tempfile

from dbs import connect, create_db, drop_db, log
from heat_env import load_heat, make_engine, server_url
import state

FIRST, LAST = 27, 71


def walk(heat, dialect, versions):
    """{N: catalog text} from one database taken through db_sync N for N in `versions` in turn."""
    db = create_db(dialect)
    engine = make_engine(server_url(dialect, db))
    out = {}
    try:
        for n in versions:
            heat.db_sync(engine, n)
            conn = connect(dialect, db)
            try:
                out[n] = state.catalog(dialect, conn, n)
            finally:
                conn.close()
    finally:
        engine.dispose()
        drop_db(dialect, db)
    return out


def dumper_rows(dialect, dumpers, db):
    """Kind-prefixed rows of the shared dumpers' TSVs for database `db`."""
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, 'x')
        if dialect == 'mysql':
            subprocess.check_call(['/usr/bin/python3', os.path.join(dumpers, 'dump_mysql.py'), db, prefix])
            files = {'column': '-columns.tsv', 'index': '-indexes-ext.tsv', 'fk': '-fks.tsv'}
        elif dialect == 'postgresql':
            subprocess.check_call(['bash', os.path.join(dumpers, 'dump_pg.sh'), db, prefix])
            files = {'': '-catalog.tsv'}
        else:
            subprocess.check_call(['/usr/bin/python3', os.path.join(dumpers, 'dump_sqlite.py'), db, prefix])
            files = {'': '-catalog.tsv'}
        rows = []
        for kind, suffix in files.items():
            with open(prefix + suffix) as f:
                lines = f.read().split('\n')[1:-1]
            rows += [(kind + '\t' + l) if kind else l for l in lines]
        return sorted(rows)


def check_dumpers(heat, dialect, dumpers, n):
    """Our catalog port and the shared dumpers, on one database at n, must give the same rows."""
    db = create_db(dialect)
    engine = make_engine(server_url(dialect, db))
    try:
        heat.db_sync(engine, n)
        engine.dispose()
        want = dumper_rows(dialect, dumpers, db)
        conn = connect(dialect, db)
        try:
            cat = state.catalog(dialect, conn, n)
        finally:
            conn.close()
    finally:
        engine.dispose()
        drop_db(dialect, db)
    got = [l for l in cat.split('\n')[1:-1] if not l.startswith(('table\t', 'named\t'))]
    if got != want:
        missing = [l for l in want if l not in got][:5]
        extra = [l for l in got if l not in want][:5]
        raise SystemExit('%s %03d: catalog rows differ from the shared dumpers: missing %r extra %r' % (dialect, n, missing, extra))
    log('%s %03d: catalog rows == shared dumpers\' rows (%d rows)' % (dialect, n, len(want)))


def stack_fks(cat):
    return sorted(l.split('\t')[2] for l in cat.split('\n') if l.startswith('fk\tstack\t'))


def expected_stack_fks(n):
    if n < 28:
        return []
    return sorted(['raw_template_id', 'user_creds_id'] + (['prev_raw_template_id'] if n >= 55 else []))


def sqlite_runs(heat, runs, versions):
    kept = []
    for i in range(runs):
        cats = walk(heat, 'sqlite', versions)
        bad = [(n, stack_fks(c)) for n, c in cats.items() if stack_fks(c) != expected_stack_fks(n)]
        if bad:
            log('sqlite run %d: stack FKs not the expected set at %d version(s): %s' % (
                i + 1, len(bad), '; '.join('%03d %s' % (n, ','.join(f)) for n, f in bad[:6])))
        else:
            log('sqlite run %d: stack FKs complete at every version' % (i + 1))
            kept.append(cats)
    if not kept:
        raise SystemExit('no SQLite run had the complete stack FK set at every version: run again with more --sqlite-runs')
    for j, other in enumerate(kept[1:], 2):
        diff = [n for n in versions if other[n] != kept[0][n]]
        if diff:
            raise SystemExit('kept SQLite runs 1 and %d disagree at %s' % (j, diff))
    log('sqlite: %d of %d runs kept; the kept runs agree at every version' % (len(kept), runs))
    return kept[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('heat_tree')
    ap.add_argument('out_dir')
    ap.add_argument('--dialects', default='mysql,postgresql,sqlite')
    ap.add_argument('--check', default='27,28,35,44,56,57,64,71')
    ap.add_argument('--sqlite-runs', type=int, default=8)
    ap.add_argument('--dumpers')
    a = ap.parse_args()
    heat = load_heat(a.heat_tree)
    versions = list(range(FIRST, LAST + 1))
    checks = [int(x) for x in a.check.split(',') if x]
    for dialect in a.dialects.split(','):
        cats = sqlite_runs(heat, a.sqlite_runs, versions) if dialect == 'sqlite' else walk(heat, dialect, versions)
        for n in checks:
            single = walk(heat, dialect, [n])[n]
            if dialect == 'sqlite' and stack_fks(single) != expected_stack_fks(n):
                log('sqlite %03d: the run straight to %d lost or doubled a stack FK (%s): not compared' % (n, n, ','.join(stack_fks(single))))
            elif single != cats[n]:
                raise SystemExit('%s %03d: a run straight to %d differs from the stepwise run' % (dialect, n, n))
            else:
                log('%s %03d: straight run == stepwise run' % (dialect, n))
            if a.dumpers:
                check_dumpers(heat, dialect, a.dumpers, n)
        d = os.path.join(a.out_dir, dialect)
        os.makedirs(d, exist_ok=True)
        for n, text in cats.items():
            with open(os.path.join(d, '%03d.tsv' % n), 'w') as f:
                f.write(text)
        log('%s: wrote %d catalogs to %s' % (dialect, len(cats), d))


if __name__ == '__main__':
    sys.exit(main())
