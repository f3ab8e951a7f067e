#!/usr/bin/python3
"""One real-Heat process, recorded (run by takeover.py as a child; our code).

usage: heat_run.py HEAT_TREE DIALECT DB LOG seed REPO_ROOT    build the seed (seed.py), recording it
       heat_run.py HEAT_TREE DIALECT DB LOG sync KILL_AT       Heat's db_sync to 71, recording it;
                                                              KILL_AT > 0: SIGKILL after that write
The first line of LOG is a header {"header": {...}} with the session settings a replay must apply.
takeover.py runs it with PYTHONHASHSEED=0 and address-space randomisation off (setarch -R), so that
the text of a statement is the same from run to run: 035/057 back-fill every row with the repr of
Python's uuid4 *function*, which holds its memory address (MIGRATIONS.md §2.3).
"""
import json
import sys

from capture import Recorder, session_settings, track_steps
from heat_env import load_heat, make_engine, server_url


def main(argv):
    tree, dialect, db, log_path, mode = argv[:5]
    heat = load_heat(tree)
    engine = make_engine(server_url(dialect, db))
    settings = session_settings(dialect, engine)
    with open(log_path, 'w') as out:
        out.write(json.dumps({'header': {'dialect': dialect, 'mode': mode, 'session': settings}}) + '\n')
        kill_at = int(argv[5]) or None if mode == 'sync' else None
        rec = Recorder(engine, dialect, out, kill_at=kill_at)
        track_steps(rec)
        if mode == 'seed':
            from seed import build_seed, dataset_json
            build_seed(heat, dialect, engine, dataset_json(argv[5]))
        else:
            heat.db_sync(engine)
        rec.finish()
    engine.dispose()


if __name__ == '__main__':
    main(sys.argv[1:])
