"""What a database IS, as text: its schema catalog (docs/CATALOG.md) and its canonical rows.

    catalog(dialect, conn, version)  -> text: '#catalog\\tv1\\t<dialect>\\t<NNN>' then kind-prefixed facts,
                                        the rows of ../shared/heat-schema/dumpers/ (same queries, same
                                        cells), sorted by code point
    rows(dialect, conn)              -> text: the canonical rows (format below)
    snapshot(dialect, conn)          -> catalog facts + canonical rows (`state.py DIALECT DB` prints it)

Both leave out the engine's own tables (`migrate_*` other than `migrate_version`).

Canonical rows, format v1 (test/support/heat-rows.ts writes the same text for the same database; the
suite checks that):
    #rows<TAB>v1<TAB><dialect>
    columns<TAB><table><TAB><column>...        the table's columns in ordinal order
    row<TAB><table><TAB><cell>...              one line per row, cells in that order
    autoincrement<TAB><table><TAB><n>          MySQL: information_schema.TABLES.AUTO_INCREMENT (not NULL)
    sequence<TAB><name><TAB><last_value><TAB><is_called: true|false>   PostgreSQL: every sequence
  every line after the header sorted by code point. A cell is `\\N` for NULL; binary values
  (MySQL *blob/*binary, PostgreSQL bytea, SQLite blob values) are `\\x` + lower-case hex; every other
  value is the text the database itself gives for it (MySQL CAST(c AS CHAR), PostgreSQL c::text,
  SQLite CAST(c AS TEXT)) with `\\` `\\t` `\\n` `\\r` escaped as `\\\\` `\\t` `\\n` `\\r`, and the address in
  `<function uuid4 at 0x...>` (035/057's transient back-fill) written as ADDRESS.
  `migrate_version.repository_path` (machine-specific) is left out.
"""
import re


def cell(v):
    """The shared dumpers' cell(): NULL -> \\N; backslash, tab, newline escaped."""
    if v is None:
        return '\\N'
    return str(v).replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n')


# 035 and 057 back-fill every row with the repr of Python's uuid4 function (MIGRATIONS.md §2.3),
# which holds a memory address that changes from run to run; the step overwrites it. The address is
# left out of the canonical text.
UUID4_REPR = re.compile(r'<function uuid4 at 0x[0-9a-f]+>')


def row_cell(v):
    if v is None:
        return '\\N'
    v = UUID4_REPR.sub('<function uuid4 at ADDRESS>', v)
    return v.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')


def is_engine_table(name):
    return name.startswith('migrate_') and name != 'migrate_version'


def _q(conn, sql, params=None):
    cur = conn.cursor()
    if params is None:
        cur.execute(sql)
    else:
        cur.execute(sql, params)
    out = cur.fetchall()
    cur.close()
    return out


def _current_db(dialect, conn):
    return _q(conn, 'SELECT DATABASE()' if dialect == 'mysql' else 'SELECT current_database()')[0][0]


# ---------------------------------------------------------------------------------------------------
# catalogs

def _mysql_facts(conn):
    db = _current_db('mysql', conn)
    keep = lambda rows, i: [r for r in rows if not is_engine_table(r[i])]  # noqa: E731
    facts = []
    for r in keep(_q(conn, 'SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s', (db,)), 0):
        facts.append(('table',) + tuple(r))
    for r in keep(_q(conn, 'SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, COLUMN_DEFAULT, EXTRA '
                           'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s', (db,)), 0):
        facts.append(('column',) + tuple(r))
    for r in keep(_q(conn, 'SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, NULLABLE, INDEX_TYPE '
                           'FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s', (db,)), 0):
        facts.append(('index',) + tuple(r))
    for r in keep(_q(conn, 'SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION, k.REFERENCED_TABLE_NAME, '
                           'k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE '
                           'FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r '
                           'ON r.CONSTRAINT_SCHEMA=k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME=k.CONSTRAINT_NAME AND r.TABLE_NAME=k.TABLE_NAME '
                           'WHERE k.TABLE_SCHEMA=%s AND k.REFERENCED_TABLE_NAME IS NOT NULL', (db,)), 1):
        facts.append(('fk',) + tuple(r))
    return ['\t'.join(cell(c) for c in f) for f in facts]


PG_KEEP = "(%s.relname NOT LIKE 'migrate\\_%%' OR %s.relname = 'migrate_version')"

PG_QUERIES = [
    """select 'column', c.relname, a.attname, (row_number() over (partition by c.relname order by a.attnum))::text, format_type(a.atttypid, a.atttypmod),
        case when a.attnotnull then 'NOT NULL' else 'NULL' end, coalesce(pg_get_expr(d.adbin, d.adrelid), '\\N')
   from pg_attribute a join pg_class c on c.oid=a.attrelid join pg_namespace n on n.oid=c.relnamespace
   left join pg_attrdef d on d.adrelid=a.attrelid and d.adnum=a.attnum
  where n.nspname='public' and c.relkind='r' and a.attnum>0 and not a.attisdropped and """ + PG_KEEP % ('c', 'c'),
    """select 'constraint', c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
        case con.confdeltype when 'a' then 'ON DELETE NO ACTION' when 'r' then 'ON DELETE RESTRICT' when 'c' then 'ON DELETE CASCADE' when 'n' then 'ON DELETE SET NULL' when 'd' then 'ON DELETE SET DEFAULT' else '' end, ''
   from pg_constraint con join pg_class c on c.oid=con.conrelid join pg_namespace n on n.oid=c.relnamespace
  where n.nspname='public' and """ + PG_KEEP % ('c', 'c'),
    """select 'index', c.relname, i.relname, case when x.indisunique then 'unique' else 'non_unique' end, pg_get_indexdef(i.oid),
        case when x.indisprimary then 'primary' else '' end, ''
   from pg_index x join pg_class i on i.oid=x.indexrelid join pg_class c on c.oid=x.indrelid join pg_namespace n on n.oid=c.relnamespace
  where n.nspname='public' and """ + PG_KEEP % ('c', 'c'),
    """select 'sequence', coalesce(tc.relname,''), s.relname, '', coalesce('owned by '||tc.relname||'.'||ta.attname,'not owned'), '', ''
   from pg_class s join pg_namespace n on n.oid=s.relnamespace
   left join pg_depend dep on dep.objid=s.oid and dep.classid='pg_class'::regclass and dep.deptype='a'
   left join pg_class tc on tc.oid=dep.refobjid left join pg_attribute ta on ta.attrelid=dep.refobjid and ta.attnum=dep.refobjsubid
  where n.nspname='public' and s.relkind='S' and (tc.relname is null or """ + PG_KEEP % ('tc', 'tc') + ')',
]


def _pg_facts(conn):
    # dump_pg.sh prints through `psql -A -t`: NULL as an empty string, no escaping
    return ['\t'.join('' if v is None else str(v) for v in r) for sql in PG_QUERIES for r in _q(conn, sql)]


NAMED_TABLE = re.compile(r'CONSTRAINT\s+("?)(\w+)\1\s+(FOREIGN KEY|UNIQUE|PRIMARY KEY|CHECK)\s*\(([^)]*)\)', re.I)
NAMED_COLUMN = re.compile(r'CONSTRAINT\s+("?)(\w+)\1\s+(REFERENCES|UNIQUE|PRIMARY KEY|CHECK)\b', re.I)


def _definitions(sql):
    """The comma-separated items between the outer parentheses of a CREATE TABLE text."""
    start = sql.index('(') + 1
    items, depth, cur = [], 0, ''
    for ch in sql[start:sql.rindex(')')]:
        if ch == ',' and depth == 0:
            items.append(cur.strip())
            cur = ''
            continue
        depth += (ch == '(') - (ch == ')')
        cur += ch
    return items + [cur.strip()]


def named_constraints(table, sql):
    """`named` facts: constraints with a name in a CREATE TABLE text, table-level
    (CONSTRAINT n FOREIGN KEY(c) ...) or on a column (c INTEGER CONSTRAINT n REFERENCES ...)."""
    out = []
    for item in _definitions(sql) if sql and '(' in sql else []:
        m = NAMED_TABLE.match(item)
        if m:
            cols = ','.join(c.strip().strip('"') for c in m.group(4).split(','))
            out.append(('named', table, m.group(2), '', m.group(3).upper(), cols, ''))
            continue
        m = NAMED_COLUMN.search(item)
        if m and not item.upper().startswith('CONSTRAINT'):
            kind = m.group(3).upper()
            out.append(('named', table, m.group(2), '', 'FOREIGN KEY' if kind == 'REFERENCES' else kind, item.split()[0].strip('"'), ''))
    return out


def _sqlite_tables(conn):
    return sorted(r[0] for r in _q(conn, "select name from sqlite_master where type='table'") if not is_engine_table(r[0]))


def _sqlite_facts(conn):
    rows = []
    tables = _sqlite_tables(conn)
    for t in tables:  # dump_sqlite.py, row for row
        for cid, name, typ, notnull, dflt, pk in _q(conn, 'pragma table_info("%s")' % t):
            rows.append(('column', t, name, cid + 1, typ, 'NOT NULL' if notnull else 'NULL', 'pk=%d default=%s' % (pk, cell(dflt))))
    for t in tables:
        for seq, name, unique, origin, partial in sorted(_q(conn, 'pragma index_list("%s")' % t), key=lambda r: r[1]):
            cols = ','.join(r[2] for r in _q(conn, 'pragma index_info("%s")' % name))
            rows.append(('index', t, name, 'unique' if unique else 'non_unique', cols, 'origin=' + origin, ''))
    for t in tables:
        fks = {}
        for id_, seq, rt, frm, to, onupd, ondel, match in _q(conn, 'pragma foreign_key_list("%s")' % t):
            fks.setdefault(id_, []).append((seq, rt, frm, to, ondel))
        lst = sorted((','.join(x[2] for x in sorted(v)), v[0][1], ','.join(str(x[3]) for x in sorted(v)), v[0][4]) for v in fks.values())
        for frm, rt, to, ondel in lst:
            rows.append(('fk', t, frm, '', '%s(%s)' % (rt, to), 'ON DELETE ' + ondel, ''))
    for t, sql in _q(conn, "select name, sql from sqlite_master where type='table'"):
        if is_engine_table(t):
            continue
        rows += named_constraints(t, sql)
    return ['\t'.join(cell(x) for x in r) for r in rows]


def catalog(dialect, conn, version):
    facts = {'mysql': _mysql_facts, 'postgresql': _pg_facts, 'sqlite': _sqlite_facts}[dialect](conn)
    header = '#catalog\tv1\t%s\t%03d' % (dialect, version)
    return '\n'.join([header] + sorted(facts)) + '\n'


# ---------------------------------------------------------------------------------------------------
# canonical rows

MYSQL_BINARY = {'blob', 'tinyblob', 'mediumblob', 'longblob', 'binary', 'varbinary'}


def _columns(dialect, conn):
    """{table: [(column, is_binary)]} in ordinal order."""
    out = {}
    if dialect == 'sqlite':
        for t in _sqlite_tables(conn):
            out[t] = [(r[1], None) for r in _q(conn, 'pragma table_info("%s")' % t)]
        return out
    if dialect == 'mysql':
        rs = _q(conn, "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
                      "ON t.TABLE_SCHEMA=c.TABLE_SCHEMA AND t.TABLE_NAME=c.TABLE_NAME "
                      "WHERE c.TABLE_SCHEMA=DATABASE() AND t.TABLE_TYPE='BASE TABLE' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION")
        binary = lambda ty: ty in MYSQL_BINARY  # noqa: E731
    else:
        rs = _q(conn, "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c JOIN information_schema.tables t "
                      "ON t.table_schema=c.table_schema AND t.table_name=c.table_name "
                      "WHERE c.table_schema='public' AND t.table_type='BASE TABLE' ORDER BY c.table_name, c.ordinal_position")
        binary = lambda ty: ty == 'bytea'  # noqa: E731
    for t, c, ty in rs:
        if not is_engine_table(t):
            out.setdefault(t, []).append((c, binary(ty)))
    return out


def _select_list(dialect, cols):
    out = []
    for c, binary in cols:
        if dialect == 'mysql':
            out.append('LOWER(HEX(`%s`))' % c if binary else 'CAST(`%s` AS CHAR)' % c)
        elif dialect == 'postgresql':
            out.append('encode("%s", \'hex\')' % c if binary else '"%s"::text' % c)
        else:
            out.append("CASE WHEN typeof(\"%s\")='blob' THEN 'x' || lower(hex(\"%s\")) ELSE 't' || CAST(\"%s\" AS TEXT) END" % (c, c, c))
    return ', '.join(out)


def _render(dialect, cols, values):
    cells = []
    for (c, binary), v in zip(cols, values):
        if v is None:
            cells.append('\\N')
        elif dialect == 'sqlite':
            cells.append('\\x' + v[1:] if v[0] == 'x' else row_cell(v[1:]))
        elif binary:
            cells.append('\\x' + v)
        else:
            cells.append(row_cell(v))
    return cells


def rows(dialect, conn):
    lines = []
    q = '`' if dialect == 'mysql' else '"'
    for t, cols in _columns(dialect, conn).items():
        if t == 'migrate_version':
            cols = [c for c in cols if c[0] != 'repository_path']
        lines.append('\t'.join(['columns', t] + [c for c, _ in cols]))
        for values in _q(conn, 'SELECT %s FROM %s%s%s' % (_select_list(dialect, cols), q, t, q)):
            lines.append('\t'.join(['row', t] + _render(dialect, cols, values)))
    if dialect == 'mysql':
        for t, n in _q(conn, "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
                             "WHERE TABLE_SCHEMA=DATABASE() AND AUTO_INCREMENT IS NOT NULL"):
            if not is_engine_table(t):
                lines.append('autoincrement\t%s\t%d' % (t, n))
    elif dialect == 'postgresql':
        for (s,) in _q(conn, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace "
                             "WHERE n.nspname='public' AND c.relkind='S'"):
            if is_engine_table(s):
                continue
            last, called = _q(conn, 'SELECT last_value, is_called FROM "%s"' % s)[0]
            lines.append('sequence\t%s\t%d\t%s' % (s, last, 'true' if called else 'false'))
    return '#rows\tv1\t%s\n' % dialect + ''.join(l + '\n' for l in sorted(lines))


def snapshot(dialect, conn):
    """What a database is, as one text: its catalog facts (no header) followed by its canonical rows.
    test/support/heat-takeover.ts `snapshot` writes the same text."""
    return catalog(dialect, conn, 0).split('\n', 1)[1] + rows(dialect, conn)


if __name__ == '__main__':
    # usage: state.py DIALECT DB     prints snapshot() of database DB (a file for sqlite)
    import sys
    from dbs import connect
    c = connect(sys.argv[1], sys.argv[2])
    try:
        sys.stdout.write(snapshot(sys.argv[1], c))
    finally:
        c.close()
