"""The statement recorder installed in a process that runs Heat (our code).

    rec = Recorder(engine, dialect, out=open('log.jsonl', 'w'), kill_at=None)
    rec.step = None          # set by the runchange hook: the version a statement's step goes to
    heat.db_sync(engine)     # every statement Heat sends is written as one JSON line

Entries (JSON lines), numbered i = 1, 2, ... in the order the database received them:
    {"i", "step", "conn", "write": true, "k", "sql"}     a statement that changes schema or rows
                                                          (k = 1, 2, ... counts writes)
    {"i", "step", "conn", "write": false, "sql"}         a read (SELECT, SHOW, reflection)
    {"i", "step", "conn", "tx": "commit" | "rollback"}   the DBAPI commit / rollback of a connection
                                                          that has uncommitted writes
    {"i", "step", "conn", "write": ..., "sql", "error"}  a statement the server refused
`sql` is the statement as the DBAPI sends it, parameters inlined by the driver's own escaping
(pymysql / psycopg2 `mogrify`); bytes are inlined as hex literals (X'..' / '\\x..'::bytea), which is
what those bytes are, so that the text stays UTF-8. `conn` numbers the DBAPI connections (1, 2, ...).
`step` is the version the running migration step goes to (the version bump belongs to its step),
or null outside a step.

kill_at=k: after the k-th write has returned, the process SIGKILLs itself at the first of: the next
statement about to be sent, a rollback about to be sent, right after a commit completes, or the end
of the run. So a COMMIT SQLAlchemy sends right after write k is included, nothing after it is.
"""
import json
import os
import re
import signal

from sqlalchemy import event

READ = re.compile(r'^\s*(SELECT|SHOW|DESCRIBE|DESC|EXPLAIN|PRAGMA\s+(table_info|index_list|index_info|foreign_key_list|table_xinfo|database_list))\b', re.I)
WRITE_SELECT = re.compile(r'\b(nextval|setval|FOR\s+UPDATE|GET_LOCK|pg_advisory)', re.I)


def is_write(sql):
    return not READ.match(sql) or bool(WRITE_SELECT.search(sql))


class Recorder:
    def __init__(self, engine, dialect, out, kill_at=None):
        self.dialect = dialect
        self.out = out
        self.kill_at = kill_at
        self.step = None
        self.i = 0
        self.k = 0
        self.conns = {}
        self.dirty = set()
        self.pending_kill = False
        self.current = None
        event.listen(engine, 'before_cursor_execute', self._before)
        event.listen(engine, 'after_cursor_execute', self._after)
        event.listen(engine, 'handle_error', self._error)
        d = engine.dialect
        orig_commit, orig_rollback = d.do_commit, d.do_rollback

        def do_commit(dbapi_conn):
            self._tx(dbapi_conn, 'commit')
            orig_commit(dbapi_conn)
            self.dirty.discard(id(self._raw(dbapi_conn)))
            self._maybe_kill()

        def do_rollback(dbapi_conn):
            self._maybe_kill()
            self._tx(dbapi_conn, 'rollback')
            orig_rollback(dbapi_conn)
            self.dirty.discard(id(self._raw(dbapi_conn)))

        d.do_commit, d.do_rollback = do_commit, do_rollback

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _raw(conn):
        """The DBAPI connection behind SQLAlchemy's pool proxy (do_commit is given the proxy)."""
        return getattr(conn, 'dbapi_connection', None) or conn

    def _conn(self, dbapi_conn):
        return self.conns.setdefault(id(self._raw(dbapi_conn)), len(self.conns) + 1)

    def _emit(self, entry):
        self.i += 1
        self.out.write(json.dumps(dict({'i': self.i, 'step': self.step}, **entry), ensure_ascii=False) + '\n')
        self.out.flush()

    def _maybe_kill(self):
        if self.pending_kill:
            self.out.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def _tx(self, dbapi_conn, what):
        if id(self._raw(dbapi_conn)) in self.dirty:
            self._emit({'conn': self._conn(dbapi_conn), 'tx': what})

    def render(self, cursor, statement, parameters, context):
        if context is not None and context.no_parameters and not parameters:
            return statement
        blobs = []

        def sub(v):
            if isinstance(v, (bytes, bytearray, memoryview)):
                blobs.append(bytes(v))
                return 'HARNESS_BLOB_%d_' % (len(blobs) - 1)
            return v
        if isinstance(parameters, dict):
            params = {k: sub(v) for k, v in parameters.items()}
        else:
            params = tuple(sub(v) for v in parameters)
        text = cursor.mogrify(statement, params)
        if isinstance(text, bytes):
            text = text.decode('utf-8')
        for n, b in enumerate(blobs):
            lit = "X'%s'" % b.hex() if self.dialect == 'mysql' else "'\\x%s'::bytea" % b.hex()
            text = text.replace("'HARNESS_BLOB_%d_'" % n, lit)
        return text

    # -- events -----------------------------------------------------------------------------------
    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._maybe_kill()
        if executemany:
            raise RuntimeError('executemany is not recorded (one entry per statement): %s' % statement[:200])
        sql = self.render(cursor, statement, parameters, context)
        self.current = {'conn': self._conn(cursor.connection), 'write': is_write(sql), 'sql': sql}

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        entry, self.current = self.current, None
        if entry['write']:
            self.k += 1
            entry = dict(entry, k=self.k)
            self.dirty.add(id(cursor.connection))
        self._emit(entry)
        if entry['write'] and self.k == self.kill_at:
            self.pending_kill = True

    def _error(self, ctx):
        if self.current is not None:
            self._emit(dict(self.current, error=str(ctx.original_exception).split('\n')[0][:300]))
            self.current = None

    def finish(self):
        """The run is over: a kill still pending happens now."""
        self._maybe_kill()


def track_steps(rec):
    """Sets rec.step while sqlalchemy-migrate runs a step (script + version bump)."""
    from migrate.versioning import schema
    orig = schema.ControlledSchema.runchange

    def runchange(self, ver, change, step):
        rec.step = int(ver) + step
        try:
            return orig(self, ver, change, step)
        finally:
            rec.step = None
    schema.ControlledSchema.runchange = runchange


def session_settings(dialect, engine):
    """What a replay connection must set to be the session Heat's statements ran in."""
    if dialect != 'mysql':
        return []
    with engine.connect() as c:
        mode, cs = c.exec_driver_sql('SELECT @@SESSION.sql_mode, @@SESSION.character_set_client').fetchone()
    return ["SET NAMES %s" % cs, "SET SESSION sql_mode = '%s'" % mode]
