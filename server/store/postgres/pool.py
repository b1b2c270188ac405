"""The shared store's request path: asyncpg connections in a small pool of our own, and a cursor.

The store's queries run on asyncpg, whose protocol is compiled: one query costs the server process
about 70 us of CPU where psycopg 3 through ``psycopg_pool`` cost about 250 us (and 400 us with the
pool's check on every checkout, an extra round trip), measured in one run on this project's
machine (``benchmarks/scale.py`` has the figures per request). The schema is still created at
``open`` on one plain psycopg connection, as ``migrate`` and ``email_keys`` expect.

Rule 1: the pool is a list of idle connections and a queue of waiters, nothing more: no
background task, no check query. A connection the server closed (a restart, an idle timeout)
is closed on our side as soon as the event loop sees its socket end, and ``acquire`` skips it;
a read that meets a connection lost mid-query runs again once on another connection.

Rule 2: a connection goes back to the pool only in a known state: open and outside any
transaction, after an ordinary end or a PostgreSQL error. After anything else (a cancelled task,
a lost connection, an error of ours in the middle of a query) it is closed instead, since the
server may still be running or answering its query.

Rule 3: ``Cursor`` gives the concern modules the small part of psycopg's cursor they use
(``execute`` with ``%s`` placeholders, ``fetchone``, ``fetchall``, ``rowcount``), so their SQL
stays as it was. Placeholders become ``$1``, ``$2`` ... once per query text; asyncpg prepares
each statement once per connection and keeps it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from typing import Any

import asyncpg

_PLACEHOLDER = re.compile(r"%s")
_TEXTS: dict[str, tuple[str, bool]] = {}
_RETURNS_ROWS = ("SELECT", "WITH", "VALUES", "SHOW")

# What a connection that broke under us raises: asyncpg's client-side errors and the socket's.
LOST = (asyncpg.exceptions.InterfaceError, asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.PostgresConnectionError, ConnectionError, OSError)


def _text(query: str) -> tuple[str, bool]:
    """``query`` with numbered placeholders, and whether it returns rows."""
    found = _TEXTS.get(query)
    if found is None:
        counter = iter(range(1, 1 << 16))
        text = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", query)
        head = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
        found = (text, head in _RETURNS_ROWS or " RETURNING " in query.upper())
        _TEXTS[query] = found
    return found


class Cursor:
    """psycopg's cursor API, the part the store uses, on one asyncpg connection."""

    __slots__ = ("_conn", "_rows", "rowcount")

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._rows: list[Any] = []
        self.rowcount = -1

    async def execute(self, query: str | bytes, params: tuple[Any, ...] | list[Any] = ()) -> None:
        text, returns_rows = _text(query.decode() if isinstance(query, bytes) else query)
        if returns_rows:
            self._rows = await self._conn.fetch(text, *params)
            self.rowcount = len(self._rows)
            return
        self._rows = []
        if params:
            status = await self._conn.execute(text, *params)
        else:
            status = await self._conn.execute(text)  # Simple protocol: DDL, scripts.
        last = str(status).rpartition(" ")[2]
        self.rowcount = int(last) if last.isdigit() else -1

    async def executemany(self, query: str, params: list[tuple[Any, ...]]) -> None:
        await self._conn.executemany(_text(query)[0], params)

    async def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[Any]:
        return list(self._rows)


async def _setup(conn: Any) -> None:
    # json values come back parsed, as psycopg gives them (json_agg of a user's identities).
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads,
                              schema="pg_catalog")


class Pool:
    """Up to ``max_size`` asyncpg connections to ``url``, lent one at a time (rule 1)."""

    def __init__(self, url: str, min_size: int, max_size: int) -> None:
        self.url = url
        self.min_size, self.max_size = min_size, max(1, max_size)
        self._idle: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._size = 0  # Open connections, lent or idle, plus those being opened.
        self._closed = False

    async def open(self) -> None:
        for _ in range(self.min_size):
            self._size += 1
            try:
                self._idle.append(await self._connect())
            except BaseException:
                self._size -= 1
                raise

    async def _connect(self) -> Any:
        conn = await asyncpg.connect(self.url)
        try:
            await _setup(conn)
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def acquire(self) -> Any:
        if self._closed:
            raise RuntimeError("The store is not open.")
        while self._idle:
            conn = self._idle.pop()  # The most recently used: its statements are warm.
            if not conn.is_closed():
                return conn
            self._size -= 1
        if self._size < self.max_size:
            self._size += 1
            try:
                return await self._connect()
            except BaseException:
                self._size -= 1
                self._wake_one()
                raise
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            conn = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # Handed over just as we were cancelled.
            raise
        if conn is None:  # A slot freed up instead of a connection.
            return await self.acquire()
        return conn

    def release(self, conn: Any, *, reusable: bool = True) -> None:
        """Give ``conn`` back; ``reusable=False`` (or a broken one) closes it (rule 2)."""
        if not reusable or self._closed or conn.is_closed() or conn.is_in_transaction():
            self._size -= 1
            conn.terminate()
            self._wake_one()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _wake_one(self) -> None:
        # A slot is free: the first waiter opens a connection of its own.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("The store is closed."))
        self._waiters.clear()
        for conn in idle:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:  # TimeoutError included.
                conn.terminate()
