#!/usr/bin/python3
"""Crash-point fixtures: real Heat 6.0.0's 34 -> 71 db_sync, every write statement, and the proof that
replaying its statements is the same as killing it (test/fixtures/heat-takeover/README.md).

usage: takeover.py HEAT_TREE OUT_DIR [--dialects mysql,postgresql] [--points all|none|K,K..] [--jobs 2]

Per dialect, into OUT_DIR/<dialect>/:
  seed.jsonl   the statements that built the seed (Heat 27 -> 28, golden v28 rows, Heat 28 -> 34,
               v34 rows + seed.py's extra rows), recorded by capture.py
  log.jsonl    every statement of Heat's uninterrupted db_sync from the seed to 71
  end-71.tsv   the canonical rows (state.py) after that run: real Heat's own result
  kills.tsv    per write k: its step, the sha256 of the state a SIGKILL after it left (catalog facts +
               canonical rows) and whether replaying seed + statements 1..k gave the same state
Checks on the way (each stops the run with a message): the seed replayed from seed.jsonl equals the
database Heat and the inserts built; the catalog at 71 equals migrate_repo/schema/<d>/071.tsv; a
killed run sent exactly the statements of log.jsonl up to its kill point.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import dbs
from dbs import connect, create_db, drop_db, log, wait_idle
from replay import Replayer, open_transactions, replay, upto
import state

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))


def run_heat(tree, dialect, db, log_path, mode, arg):
    """heat_run.py as a child. Every argument has the same length from run to run (the kill point as
    6 digits, the log in a fresh directory under a fixed name, database names of fixed length): with
    address randomisation off, Python's heap then lays out alike, and the uuid4 repr that 035/057
    write (it holds an address) is the same text in every run."""
    with tempfile.TemporaryDirectory(prefix='heat-run-') as d:
        tmp_log = os.path.join(d, 'run.jsonl')
        cmd = ['setarch', os.uname().machine, '-R', '/usr/bin/python3', os.path.join(HERE, 'heat_run.py'),
               tree, dialect, db, tmp_log, mode, arg if mode == 'seed' else '%06d' % arg]
        env = dict(os.environ, PYTHONHASHSEED='0')
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        if os.path.exists(tmp_log):
            os.replace(tmp_log, log_path)
    return p.returncode, p.stderr.decode(errors='replace')[-2000:]


def read_log(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f]
    return lines[0]['header'], lines[1:]


def write_log(path, header, entries):
    with open(path, 'w') as f:
        f.write(json.dumps({'header': header}, ensure_ascii=False) + '\n')
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False) + '\n')


def snapshot(dialect, db):
    conn = connect(dialect, db)
    try:
        return state.snapshot(dialect, conn)
    finally:
        conn.close()


def sha(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def first_difference(a, b):
    la, lb = a.split('\n'), b.split('\n')
    only_a = [l for l in la if l not in set(lb)][:3]
    only_b = [l for l in lb if l not in set(la)][:3]
    return 'killed run only: %r; replay only: %r' % ([l[:160] for l in only_a], [l[:160] for l in only_b])


class Seeds:
    """Fresh databases in the seed state: a PostgreSQL template copied, or the seed log replayed."""

    def __init__(self, dialect, header, entries):
        self.dialect, self.header, self.entries = dialect, header, entries
        self.template = None
        self.lock = threading.Lock()

    def make(self):
        if self.dialect == 'postgresql' and self.template:
            with self.lock:  # CREATE DATABASE ... TEMPLATE: one copy at a time
                return dbs.clone_pg(self.template)
        db = create_db(self.dialect)
        replay(self.dialect, db, self.entries, self.header['session'])
        return db


def capture(tree, dialect, out):
    db = create_db(dialect)
    try:
        code, err = run_heat(tree, dialect, db, os.path.join(out, 'seed.jsonl'), 'seed', REPO_ROOT)
        if code != 0:
            raise SystemExit('%s: building the seed failed (exit %s):\n%s' % (dialect, code, err))
        seed_state = snapshot(dialect, db)
        code, err = run_heat(tree, dialect, db, os.path.join(out, 'log.jsonl'), 'sync', 0)
        if code != 0:
            raise SystemExit('%s: Heat db_sync from the seed failed (exit %s):\n%s' % (dialect, code, err))
        conn = connect(dialect, db)
        try:
            end_catalog = state.catalog(dialect, conn, 71)
            with open(os.path.join(out, 'end-71.tsv'), 'w') as f:
                f.write(state.rows(dialect, conn))
        finally:
            conn.close()
        with open(os.path.join(REPO_ROOT, 'migrate_repo', 'schema', dialect, '071.tsv')) as f:
            if f.read() != end_catalog:
                raise SystemExit('%s: the schema after Heat\'s run from the seed is not catalog 071' % dialect)
        log('%s: seed and 34 -> 71 run captured; schema at the end == catalog 071' % dialect)
        return seed_state
    finally:
        drop_db(dialect, db)


def walk(dialect, seeds, header, entries, points, tmp):
    """Replays the log once, dumping the state at every point (a fresh prefix replay where a
    transaction is open at the point). Returns {k: state text}."""
    out = {}
    db = seeds.make()
    r = Replayer(dialect, db, header['session'])
    done = 0
    try:
        for k in points:
            pre = upto(entries, k)
            r.apply(pre[done:])
            done = len(pre)
            if open_transactions(pre):
                fresh = seeds.make()
                try:
                    replay(dialect, fresh, pre, header['session'])
                    out[k] = snapshot(dialect, fresh)
                finally:
                    drop_db(dialect, fresh)
            else:
                out[k] = snapshot(dialect, db)
    finally:
        r.close()
        drop_db(dialect, db)
    return out


def kill_once(tree, dialect, seeds, k, tmp):
    """Heat from a fresh seed, SIGKILLed after write k: (state it left, its own log) or (None, problem)."""
    db = seeds.make()
    path = os.path.join(tmp, 'kill-%d.jsonl' % k)
    try:
        code, err = run_heat(tree, dialect, db, path, 'sync', k)
        if code != -9:
            return None, 'the run was not killed (exit %s): %s' % (code, err[-300:])
        wait_idle(dialect, db)
        return snapshot(dialect, db), read_log(path)[1]
    finally:
        drop_db(dialect, db)
        if os.path.exists(path):
            os.unlink(path)


def applied(entries):
    """What a log changed, in order: writes and commits/rollbacks (reads name the database)."""
    return [(e['conn'], state.UUID4_REPR.sub('ADDRESS', e.get('sql') or ''), e.get('tx')) for e in entries if e.get('write') or 'tx' in e]


def kill_point(tree, dialect, seeds, header, entries, k, expected, tmp, attempts=3):
    """(state, same_order, problem) for write k; `expected` = the replay of the capture's 1..k.
    A run whose state is not `expected` is repeated (up to `attempts`) while it sent other statements
    than the capture: on PostgreSQL the order of rows a SELECT without ORDER BY returns (037, 041,
    043, 057's loops) can change from run to run. A run that kept another order is still checked: its
    own statements 1..k, replayed, must give the state it left."""
    want = applied(upto(entries, k))
    for _ in range(attempts):
        killed, got = kill_once(tree, dialect, seeds, k, tmp)
        if killed is None:
            return None, False, got
        same_order = applied(got) == want
        if killed == expected or same_order:
            return killed, same_order, None
    db = seeds.make()
    try:
        replay(dialect, db, got, header['session'])
        mine = snapshot(dialect, db)
    finally:
        drop_db(dialect, db)
    if mine != killed:
        return killed, False, 'another order than the capture, and its own statements replayed differ: ' + first_difference(killed, mine)
    return killed, False, 'another row order than the capture in %d runs; its own statements 1..k replayed give its state' % attempts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('heat_tree')
    ap.add_argument('out_dir')
    ap.add_argument('--dialects', default='mysql,postgresql')
    ap.add_argument('--points', default='all')
    ap.add_argument('--jobs', type=int, default=2)
    a = ap.parse_args()
    for dialect in a.dialects.split(','):
        out = os.path.join(a.out_dir, dialect)
        os.makedirs(out, exist_ok=True)
        seed_state = capture(a.heat_tree, dialect, out)
        sh, seed_entries = read_log(os.path.join(out, 'seed.jsonl'))
        header, entries = read_log(os.path.join(out, 'log.jsonl'))
        seeds = Seeds(dialect, sh, seed_entries)
        check = seeds.make()
        if snapshot(dialect, check) != seed_state:
            raise SystemExit('%s: replaying seed.jsonl does not give the seed Heat built' % dialect)
        if dialect == 'postgresql':
            seeds.template = check
        else:
            drop_db(dialect, check)
        log('%s: seed.jsonl replays to the seed Heat built' % dialect)
        writes = [e['k'] for e in entries if e.get('write') and 'error' not in e]
        points = writes if a.points == 'all' else [] if a.points == 'none' else [int(x) for x in a.points.split(',')]
        with tempfile.TemporaryDirectory() as tmp:
            replayed = walk(dialect, seeds, header, entries, points, tmp)
            log('%s: replay states of %d points dumped' % (dialect, len(points)))
            with ThreadPoolExecutor(a.jobs) as pool:
                results = dict(zip(points, pool.map(lambda k: kill_point(a.heat_tree, dialect, seeds, header, entries, k, replayed[k], tmp), points)))
        step_of = {e['k']: e['step'] for e in entries if 'k' in e}
        lines, bad, other = [], 0, 0
        for k in points:
            killed, same_order, problem = results[k]
            if killed is not None and killed == replayed[k]:
                verdict, note = 'same', '' if same_order else 'the killed runs sent another row order, but reached the same state'
            elif same_order:
                verdict, note = 'DIFFERENT', first_difference(killed, replayed[k])
            else:
                verdict, note = ('other-order' if problem and problem.startswith('another row order') else 'DIFFERENT'), problem
            bad += verdict == 'DIFFERENT'
            other += verdict == 'other-order'
            lines.append('%d\t%s\t%s\t%s\t%s\n' % (k, step_of[k], sha(killed) if verdict == 'same' else '-', verdict, note))
        lines.insert(0, '0\t34\t%s\tsame\tthe seed: Heat at 34 with the data (seed.jsonl replayed == the database Heat built)\n' % sha(seed_state))
        with open(os.path.join(out, 'kills.tsv'), 'w') as f:
            f.write('#k\tstep\tsha256 of the state the killed Heat left (when it is the replayed state)\treplay 1..k\tnote\n' + ''.join(lines))
        if seeds.template:
            drop_db(dialect, seeds.template)
        log('%s: %d points killed; %d equal to the replay of the capture, %d in another row order (equal to the replay of their own '
            'statements), %d different' % (dialect, len(points), len(points) - bad - other, other, bad))


if __name__ == '__main__':
    sys.exit(main())
