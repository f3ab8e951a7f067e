"""Replays a statement log (capture.py's entries) onto a database, as Heat's connections sent it.

    replay('mysql', db, entries, settings)     # writes and commits/rollbacks, per recorded connection
    upto(entries, k)                            # the entries a kill after write k leaves applied

Each recorded connection gets its own DBAPI connection (not autocommit, like Heat's: psycopg2 opens
a transaction before its first statement, MySQL runs with autocommit=0), the session settings first
(MySQL: SET NAMES, sql_mode). Writes are sent verbatim; reads are not needed for the state and
are skipped; `tx` entries commit or roll back that connection. At the end every connection is rolled
back and closed: what the server does with the open transaction of a client that died.
test/support/heat-takeover.ts replays the same way in CI.
"""
from dbs import connect


def upto(entries, k):
    """Entries through write k and the commit/rollback entries that directly follow it (a kill after
    write k happens before the next statement, after a commit sent right after it)."""
    out = []
    it = iter(entries)
    for e in it:
        out.append(e)
        if e.get('k') == k:
            break
    else:
        raise ValueError('the log has no write %d' % k)
    for e in it:
        if 'tx' not in e:
            break
        out.append(e)
    return out


def open_transactions(entries):
    """Connections with writes not yet committed at the end of `entries`."""
    dirty = set()
    for e in entries:
        if e.get('write') and 'error' not in e:
            dirty.add(e['conn'])
        elif 'tx' in e:
            dirty.discard(e['conn'])
    return dirty


class Replayer:
    """A replay in progress: apply() entries in order, close() rolls back and closes every connection."""

    def __init__(self, dialect, db, settings=()):
        self.dialect, self.db, self.settings = dialect, db, list(settings)
        self.conns = {}
        self.dirty = set()

    def _get(self, n):
        if n not in self.conns:
            c = connect(self.dialect, self.db, autocommit=False)
            self.conns[n] = c
            cur = c.cursor()
            for s in self.settings:
                cur.execute(s)
            cur.close()
        return self.conns[n]

    def apply(self, entries):
        for e in entries:
            if 'tx' in e:
                if e['conn'] in self.conns:
                    c = self.conns[e['conn']]
                    (c.commit if e['tx'] == 'commit' else c.rollback)()
                self.dirty.discard(e['conn'])
                continue
            if not e['write']:
                continue
            cur = self._get(e['conn']).cursor()
            try:
                cur.execute(e['sql'])
                self.dirty.add(e['conn'])
            except Exception as ex:  # noqa: BLE001 - a statement the server refused in Heat's run too
                if 'error' not in e:
                    raise RuntimeError('replay of entry %d failed: %s' % (e['i'], ex)) from ex
            finally:
                cur.close()

    def close(self):
        for c in self.conns.values():
            try:
                c.rollback()
            finally:
                c.close()
        self.conns = {}


def replay(dialect, db, entries, settings=()):
    r = Replayer(dialect, db, settings)
    try:
        r.apply(entries)
    finally:
        r.close()
