"""The shared store's connections: the schema (psycopg 3) and how queries run (``pool``).

``Connection`` creates the schema and runs every query of the concern modules (``users``,
``userpass``, ``sessions``, ``data``) under the rules below; the small query helpers they share
live here too. It imports asyncpg and psycopg (the ``postgres`` extra), nothing of the HTTP
layer.

Rule 1: every ``Store`` method is one transaction on one pooled connection (``autocommit`` is on,
so ``conn.transaction()`` is the only ``BEGIN`` ... ``COMMIT``), retried whole if PostgreSQL
aborts it for a deadlock or a serialisation failure. A method that is a single statement runs
without the explicit transaction (``_read``, ``_write``): in autocommit mode it is one already.

Rule 2: the schema is the same ``schema.sql`` as SQLite's, created at ``open`` under a
transaction-scoped advisory lock: processes starting together on an empty database would
otherwise race in ``CREATE TABLE IF NOT EXISTS`` and fail on the catalogue's unique index.

Rule 3: a read-modify-write locks the row it reads first (``FOR UPDATE``) where SQLite's single
writer made that implicit: appending an identity, deleting a user, using a token.

Rule 4: values read back are the ones SQLite gives: ``float`` times, ``bool`` flags, ``dict`` JSON,
``str`` ids. Text is ordered bytewise (``COLLATE "C"``) as in SQLite, whatever the database's
locale. PostgreSQL text cannot hold NUL characters; a lookup of such a key finds nothing, as it
could never have been stored.

```python
store = PostgresStore("postgresql://latchkey@db.internal/latchkey")
await store.open()
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString, TypeVar

import asyncpg
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row

from .. import email_keys
from ..base import Conflict
from ..schema import SCHEMA_VERSION, schema_statements
from .pool import LOST, Pool
from .pool import Cursor as Cursor

T = TypeVar("T")

# Any fixed 64-bit number works; this one spells "latchkey" in ASCII so it is easy to spot in
# pg_locks.
SCHEMA_LOCK = 0x6C617463686B6579
RETRIES = 3


class Connection:
    """The connection pool of a ``PostgresStore`` and the two ways to run a query on it."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self._sizes = (min_size, max_size)
        self._pool: Pool | None = None
        self._next_purge = 0.0

    async def open(self) -> None:
        # One plain connection first: a wrong URL or a missing database fails here with
        # libpq's own message instead of a pool timeout.
        async with await AsyncConnection.connect(self.url, autocommit=True) as conn:
            async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                await _create_schema(cur)
        pool = Pool(self.url, *self._sizes)
        await pool.open()
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _run(self, fn: Callable[[Cursor], Awaitable[T]], *, transaction: bool = True) -> T:
        for _ in range(RETRIES - 1):
            try:
                return await self._attempt(fn, transaction)
            except (asyncpg.exceptions.DeadlockDetectedError,
                    asyncpg.exceptions.SerializationError):
                continue  # A deadlock or serialisation failure committed nothing: run it again.
        return await self._attempt(fn, transaction)

    async def _write(self, query: LiteralString, params: tuple[Any, ...]) -> int:
        # One statement is a transaction of its own in autocommit mode, as for reads: one
        # round trip instead of BEGIN, statement, COMMIT. Its row count.
        return await self._run(_exec(query, params), transaction=False)

    async def _read(self, fn: Callable[[Cursor], Awaitable[T]]) -> T:
        # One SELECT is a transaction of its own: one round trip to the server instead of
        # BEGIN, query, COMMIT. A read that lost its connection runs once more on another.
        try:
            return await self._lend(fn, transaction=False)
        except LOST:
            return await self._lend(fn, transaction=False)

    async def _attempt(self, fn: Callable[[Cursor], Awaitable[T]], transaction: bool) -> T:
        try:
            return await self._lend(fn, transaction=transaction)
        except asyncpg.exceptions.IntegrityConstraintViolationError as exc:
            raise Conflict(str(exc)) from exc

    async def _lend(self, fn: Callable[[Cursor], Awaitable[T]], *, transaction: bool) -> T:
        if self._pool is None:
            raise RuntimeError("The store is not open.")
        pool = self._pool
        conn = await pool.acquire()
        reusable = False
        try:
            if transaction:
                async with conn.transaction():
                    result = await fn(Cursor(conn))
            else:
                result = await fn(Cursor(conn))
            reusable = True
            return result
        except (asyncpg.PostgresError, Conflict):
            reusable = True  # The server answered: the connection is in a known state.
            raise
        finally:
            pool.release(conn, reusable=reusable)


async def _create_schema(c: Any) -> None:
    await c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    added = await email_keys.add_column_postgres(c)
    for stmt in schema_statements():
        # The statements come from the packaged schema.sql, never from input; psycopg takes
        # them as bytes because they are not literals in this file.
        await c.execute(stmt.encode())
    if added:
        await email_keys.fill_postgres(c)
    await c.execute("INSERT INTO meta(key, value) VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO NOTHING", (SCHEMA_VERSION,))


def _absent(*keys: str) -> bool:
    return any("\x00" in k for k in keys)


def _one(
    query: LiteralString, params: tuple[Any, ...]
) -> Callable[[Cursor], Awaitable[DictRow | None]]:
    async def fn(c: Cursor) -> DictRow | None:
        await c.execute(query, params)
        row: DictRow | None = await c.fetchone()
        return row

    return fn


def _all(
    query: LiteralString, params: tuple[Any, ...]
) -> Callable[[Cursor], Awaitable[list[DictRow]]]:
    async def fn(c: Cursor) -> list[DictRow]:
        await c.execute(query, params)
        return await c.fetchall()

    return fn


def _exec(query: LiteralString, params: tuple[Any, ...]) -> Callable[[Cursor], Awaitable[int]]:
    async def fn(c: Cursor) -> int:
        await c.execute(query, params)
        return c.rowcount

    return fn


def _row(row: DictRow | None) -> DictRow:
    if row is None:
        raise RuntimeError("The database returned no row where one must exist.")
    return row


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
