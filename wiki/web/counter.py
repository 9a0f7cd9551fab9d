"""The wiki's change counter, read on every page view: each worker's page cache and kept
accounts are good for as long as it has not moved. Why one connection of its own on
PostgreSQL: docs/architecture.md, "Reading the counter"."""

from __future__ import annotations

import contextlib
import os
import threading

from flask import Flask
from sqlalchemy import Engine, event

from wiki.extensions import db

WIKI_VERSION_SQL = "SELECT version FROM wiki_state WHERE id = 1"


def change_counter(app: Flask) -> ChangeCounter:
    """The reader of *app*'s change counter (one per app, made on first use)."""
    counter = app.extensions.get("change_counter")
    if counter is None:
        with app.app_context():
            counter = app.extensions["change_counter"] = ChangeCounter(db.engine)
    return counter


class ChangeCounter:
    """Reads the wiki's change counter: one primary-key lookup, outside any transaction, on
    every anonymous page view (and signed-in one), so that a save on another host is seen
    at once. Read before the page's queries, it can only be older than what they see: a
    page is at worst kept under an older version than it shows. None if it cannot be read
    (a cache must never fail a request: Flask will report the problem).

    On PostgreSQL each process reads it on a connection of its own, kept open in
    autocommit: one round trip, where a pooled connection costs the pool's checkout and
    return and, around the statement, a BEGIN and a ROLLBACK (three round trips). A
    connection found cut (the server restarted, the backend was ended) is opened again at
    once, after the pool is emptied: its connections were most likely cut as well, and
    the request about to use one would fail. SQLite reads in the process, never begins a
    transaction for it, and so uses the pool.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.own_connection = engine.dialect.name == "postgresql"
        self._connection = None  # psycopg's, taken from the pool and detached
        self._owner_pid = 0  # the process that opened it: a forked child opens its own
        self._lock = threading.RLock()  # `flask run` serves requests in threads
        if self.own_connection:
            event.listen(engine, "engine_disposed", self._on_dispose)

    def read(self) -> int | None:
        if not self.own_connection:
            return _read_pooled(self.engine)
        with self._lock:
            try:
                return self._read_own()
            except Exception:
                if not self._cut():
                    return None  # the database answered (no such table?), or none did
            self._forget()
            self.engine.dispose()  # the pool's connections were likely cut as well
            try:
                return self._read_own()
            except Exception:
                return None

    def _read_own(self) -> int | None:
        if self._connection is None or self._owner_pid != os.getpid():
            pooled = self.engine.raw_connection()  # with the engine's connect events
            connection = pooled.driver_connection
            pooled.detach()  # ours now: the pool neither lends it nor resets it
            connection.autocommit = True
            self._connection, self._owner_pid = connection, os.getpid()
        row = self._connection.execute(WIKI_VERSION_SQL).fetchone()
        return row[0] if row else None

    def _cut(self) -> bool:
        """Whether the connection was open, and is no longer usable."""
        return self._connection is not None and self._connection.closed

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._owner_pid == os.getpid():
            with contextlib.suppress(Exception):  # cut already: nothing left to close
                connection.close()

    def _on_dispose(self, _engine: Engine) -> None:
        with self._lock:
            self._forget()


def _read_pooled(engine: Engine) -> int | None:
    """The change counter, on a pooled connection (SQLite's driver begins no transaction
    for a SELECT, and rolling back none is free)."""
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(WIKI_VERSION_SQL)
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool
    except Exception:  # a cache must never fail a request: Flask will report the problem
        return None
    return row[0] if row else None
