"""The embedded store's connections: one SQLite file in WAL mode, through the stdlib ``sqlite3``.

``Connection`` opens the file, creates the schema and runs every query of the concern modules
(``users``, ``userpass``, ``sessions``, ``data``) under the rules below. It imports the standard
library and the store's own modules only, never psycopg or the HTTP layer.

Rules that must hold:

1. Every method that writes runs in a worker thread under one lock and one transaction
   (``BEGIN IMMEDIATE`` ... ``COMMIT``), so the event loop never waits on a write (or its disk
   sync) and a multi-row change is all or nothing. SQLite serialises writers anyway; one writing
   connection keeps that simple and safe.
2. Small reads by key (a session, a user, a document: what every authenticated request does)
   run inline, in one read transaction on a read-only connection of the calling thread. In WAL
   mode a reader never waits for the writer, and such a read costs a few microseconds from
   SQLite's page cache, far less than the hop to a worker thread and back that it used to take.
   A read that finds the database busy (rare in WAL mode) is retried on the worker thread.
   An in-memory database has one connection only, so there every call takes the worker thread.
3. A small write that a request waits for (an anonymous login's rows: ``_write_inline``) runs on
   the calling thread when the file's write lock is free at once, on a write connection of that
   thread that never waits for the lock (``busy_timeout=0``) and never checkpoints
   (``wal_autocheckpoint=0``): the commit writes the WAL without a disk sync
   (``synchronous=NORMAL``), so the event loop waits for neither. A lock held elsewhere (the
   worker thread under ``_lock``, another process) sends the write to the worker thread, and
   so does one write in ``THREAD_EVERY``: the worker thread's commits checkpoint, under
   ``_lock``, so no inline write appends to the WAL during a checkpoint and each one completes
   (the WAL starts over instead of growing). This saves the hop to the thread and back, and
   the handing over of the GIL for each statement, that made writes the slowest part of a
   login under load.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .. import email_keys
from ..base import Conflict
from ..schema import SCHEMA_VERSION, schema_statements

T = TypeVar("T")
#: One write in this many that could run inline (rule 3) takes the worker thread, whose
#: commits checkpoint the WAL (once it passes 1,000 pages, SQLite's default).
THREAD_EVERY = 256


class Connection:
    """The connections of a ``SQLiteStore`` and the two ways to run a query on them."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        # Read connections, one per thread that reads inline (rule 2), all closed by close().
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._inline_reads = self.path != ":memory:" and not self.path.startswith("file:")
        self._next_purge = 0.0
        self._inline_writes = 0

    async def open(self) -> None:
        await asyncio.to_thread(self._open_sync)

    def _open_sync(self) -> None:
        if self._inline_reads:  # A file: made private before SQLite creates it (see below).
            _create_private(self.path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=10000")
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        with self._tx() as cur:
            added = email_keys.add_column_sqlite(cur)
            for stmt in schema_statements():
                cur.execute(stmt)
            if added:
                email_keys.fill_sqlite(cur)
            cur.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )

    async def close(self) -> None:
        with self._lock:
            readers, self._readers = self._readers, []
            self._local = threading.local()
        for reader in readers:
            reader.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        if self._conn is None:
            raise RuntimeError("The store is not open.")
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    async def _run(self, fn: Callable[[sqlite3.Cursor], T]) -> T:
        def work() -> T:
            with self._lock, self._tx() as cur:
                try:
                    return fn(cur)
                except sqlite3.IntegrityError as exc:
                    raise Conflict(str(exc)) from exc

        return await asyncio.to_thread(work)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            # Never hold the event loop for long: a busy database sends the read to a thread.
            conn.execute("PRAGMA busy_timeout=20")
            with self._lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def _inline_writer(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "writer", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            for pragma in ("busy_timeout=0", "synchronous=NORMAL", "foreign_keys=ON",
                           "wal_autocheckpoint=0"):
                conn.execute(f"PRAGMA {pragma}")
            with self._lock:
                self._readers.append(conn)  # Closed by close() with the readers.
            self._local.writer = conn
        return conn

    async def _write_inline(self, fn: Callable[[sqlite3.Cursor], T]) -> T:
        """Run a small write on this thread when the write lock is free (rule 3), else as
        ``_run`` does."""
        self._inline_writes += 1
        if (not self._inline_reads or self._conn is None
                or self._inline_writes % THREAD_EVERY == 0):  # Its commit checkpoints.
            return await self._run(fn)
        conn = self._inline_writer()  # Before taking _lock, which making one takes too.
        if not self._lock.acquire(blocking=False):  # The worker thread is writing.
            return await self._run(fn)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # Busy: another process is writing.
                busy = True
            else:
                busy = False
                cur = conn.cursor()
                try:
                    result = fn(cur)
                    conn.execute("COMMIT")
                    return result
                except sqlite3.IntegrityError as exc:
                    raise Conflict(str(exc)) from exc
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    cur.close()
        finally:
            self._lock.release()
        assert busy
        return await self._run(fn)

    async def _read(self, fn: Callable[[sqlite3.Cursor], T], *, single: bool = False) -> T:
        """Run a small read inline (rule 2), or in the worker thread when it cannot be.

        ``single``: ``fn`` runs one statement, which reads one snapshot without ``BEGIN``.
        """
        if not self._inline_reads or self._conn is None:
            return await self._run(fn)
        try:
            conn = self._reader()
            cur = conn.cursor()
            try:
                if not single:
                    cur.execute("BEGIN")
                return fn(cur)
            finally:
                if conn.in_transaction:
                    conn.rollback()  # A read-only transaction: ending it either way is the same.
                cur.close()
        except sqlite3.OperationalError:
            return await self._run(fn)


def _switch_to_wal(conn: sqlite3.Connection, seconds: float = 10.0) -> None:
    # Switching a new file to WAL needs the file to itself: another process opening it at the
    # same moment makes the switch fail at once with "database is locked" (SQLite does not wait
    # on its busy timeout there), so try again for a while.
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _create_private(path: str) -> None:
    """Create the store's file readable by its owner only, if it does not exist yet.

    It holds password hashes, TOTP secrets and session hashes. SQLite made it with the umask's
    mode (0644), and its ``-wal`` and ``-shm`` files copy the database file's mode; inside the
    data dir (0700) that was hidden, but ``--database sqlite:/elsewhere/app.sqlite3`` left all
    three readable by every local user (found in review). An existing file keeps its mode.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
