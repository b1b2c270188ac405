"""The SQLite store's key/value rows: meta values, app documents and rate limit events.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ... import ejson
from ..base import RATE_PURGE_SECONDS
from .connection import Connection


class Data(Connection):
    """Meta values, documents and rate limits."""

    # Meta.
    async def get_meta(self, key: str) -> str | None:
        row = await self._read(lambda c: c.execute(
            "SELECT value FROM meta WHERE key=?", (key,)).fetchone())
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        def fn(c: sqlite3.Cursor) -> str:
            c.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
            return str(c.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()["value"])

        return await self._run(fn)

    # Documents.
    async def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM documents WHERE collection=? AND key=?", (collection, key)).fetchone(),
            single=True)
        return None if row is None else ejson.loads_doc(row["doc"])

    async def put_document(self, collection: str, key: str, doc: dict[str, Any]) -> None:
        text = ejson.dumps_canonical(doc)
        await self._run(lambda c: c.execute(
            "INSERT INTO documents(collection, key, doc) VALUES (?, ?, ?)"
            " ON CONFLICT(collection, key) DO UPDATE SET doc=excluded.doc",
            (collection, key, text)))

    async def delete_document(self, collection: str, key: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM documents WHERE collection=? AND key=?", (collection, key)).rowcount))

    # Rate limits.
    async def hit_rate(self, key: str, window: float, now: float, limit: int) -> bool:
        purge = purge_due(self, now)
        return await self._run(lambda c: hit(c, key, window, now, limit, purge))

    async def rate_count(self, key: str, window: float, now: float) -> int:
        return await self._run(lambda c: _count(c, key, now - window))

    async def reset_rate(self, key: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM rate_events WHERE key=?", (key,)))


def purge_due(conn: Connection, now: float) -> bool:
    """Whether a hit at ``now`` also purges expired events (every ``RATE_PURGE_SECONDS``)."""
    purge = now >= conn._next_purge
    if purge:
        conn._next_purge = now + RATE_PURGE_SECONDS
    return purge


def hit(c: sqlite3.Cursor, key: str, window: float, now: float, limit: int,
        purge: bool) -> bool:
    """``hit_rate`` inside a write transaction (``BEGIN IMMEDIATE``)."""
    if purge:
        c.execute("DELETE FROM rate_events WHERE expires_at <= ?", (now,))
    # BEGIN IMMEDIATE holds the write lock of the file, across processes too, from the count to
    # the insert: no other hit can slip in between. The count stops at the limit, so a hit costs
    # at most ``limit`` index entries however many events the key has.
    row = c.execute("SELECT COUNT(*) AS n FROM (SELECT 1 FROM rate_events WHERE key=? AND at > ?"
                    " LIMIT ?)", (key, now - window, limit)).fetchone()
    if int(row["n"]) >= limit:
        return False
    c.execute("INSERT INTO rate_events(key, at, expires_at) VALUES (?, ?, ?)",
              (key, now, now + window))
    return True


def _count(c: sqlite3.Cursor, key: str, after: float) -> int:
    row = c.execute("SELECT COUNT(*) AS n FROM rate_events WHERE key=? AND at > ?",
                    (key, after)).fetchone()
    return int(row["n"])
