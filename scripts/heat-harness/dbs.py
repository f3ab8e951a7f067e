"""Scratch databases on the shared servers (MariaDB root@127.0.0.1, PostgreSQL postgres@127.0.0.1) and
SQLite files: uniquely named, dropped by the caller. Raw DBAPI connections for dumps and replays.

    name = create_db('mysql')       # CREATE DATABASE with the server's default charset (utf8mb4 here)
    conn = connect('mysql', name)   # a pymysql / psycopg2 / sqlite3 connection
    drop_db('mysql', name)
"""
import os
import secrets
import sqlite3
import sys
import time

import pymysql
import psycopg2

from heat_env import MYSQL_HOST, MYSQL_PORT, PG_HOST, PG_PORT

SQLITE_DIR = os.environ.get('HARNESS_SQLITE_DIR', '/tmp/heat-harness-sqlite')


def log(msg):
    sys.stderr.write('[harness] %s\n' % msg)
    sys.stderr.flush()


def connect(dialect, db=None, autocommit=True):
    if dialect == 'mysql':
        return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user='root', password='', database=db,
                               charset='utf8mb4', autocommit=autocommit)
    if dialect == 'postgresql':
        c = psycopg2.connect(host=PG_HOST, port=PG_PORT, user='postgres', dbname=db or 'postgres')
        c.autocommit = autocommit
        return c
    c = sqlite3.connect(db, isolation_level=None if autocommit else '')
    return c


def create_db(dialect, prefix='hh'):
    name = '%s_%07d_%s' % (prefix, os.getpid(), secrets.token_hex(4))  # fixed length: see heat_run.py
    if dialect == 'sqlite':
        os.makedirs(SQLITE_DIR, exist_ok=True)
        path = os.path.join(SQLITE_DIR, name + '.sqlite')
        if os.path.exists(path):
            os.unlink(path)
        return path
    c = connect(dialect)
    try:
        with c.cursor() as cur:
            cur.execute('CREATE DATABASE `%s`' % name if dialect == 'mysql' else 'CREATE DATABASE "%s"' % name)
    finally:
        c.close()
    return name


def clone_pg(template, prefix='hh'):
    """A PostgreSQL copy of `template` (no session may be connected to it)."""
    name = '%s_%07d_%s' % (prefix, os.getpid(), secrets.token_hex(4))
    c = connect('postgresql')
    try:
        with c.cursor() as cur:
            cur.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, template))
    finally:
        c.close()
    return name


def drop_db(dialect, name):
    if dialect == 'sqlite':
        for suffix in ('', '-journal', '-wal', '-shm'):
            if os.path.exists(name + suffix):
                os.unlink(name + suffix)
        return
    c = connect(dialect)
    try:
        with c.cursor() as cur:
            if dialect == 'mysql':
                cur.execute('DROP DATABASE IF EXISTS `%s`' % name)
            else:
                cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    finally:
        c.close()


def wait_idle(dialect, name, timeout=30.0):
    """Waits (bounded, logged) until no session is connected to database `name`: a killed client's
    session may outlive it for a moment, holding locks and an open transaction the server rolls back."""
    if dialect == 'sqlite':
        return
    c = connect(dialect)
    t0 = time.monotonic()
    try:
        while True:
            with c.cursor() as cur:
                if dialect == 'mysql':
                    cur.execute('SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB=%s AND ID<>CONNECTION_ID()', (name,))
                else:
                    cur.execute('SELECT COUNT(*) FROM pg_stat_activity WHERE datname=%s AND pid<>pg_backend_pid()', (name,))
                n = cur.fetchone()[0]
            if n == 0:
                return
            waited = time.monotonic() - t0
            if waited > timeout:
                raise RuntimeError('%d session(s) still connected to %s after %.0f s' % (n, name, waited))
            if waited > 2:
                log('waiting for %d session(s) of %s to end (%.1f s of %.0f s)' % (n, name, waited, timeout))
            time.sleep(0.05 if waited < 2 else 0.5)
    finally:
        c.close()
