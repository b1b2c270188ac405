"""The PostgreSQL store's key/value rows: meta values, app documents and rate limit events.

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

from typing import Any

from ... import ejson
from ..base import RATE_PURGE_SECONDS
from .connection import Connection, Cursor, _absent, _one, _row

# The class of the per-key rate limit locks (two-int advisory locks, a space apart from
# SCHEMA_LOCK's one-bigint form): "lkrt".
RATE_LOCK_CLASS = 0x6C6B7274


class Data(Connection):
    """Meta values, documents and rate limits."""

    # Meta.
    async def get_meta(self, key: str) -> str | None:
        if _absent(key):
            return None
        row = await self._read(_one("SELECT value FROM meta WHERE key=%s", (key,)))
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        async def fn(c: Cursor) -> str:
            # Two statements on purpose: under READ COMMITTED the SELECT takes a new snapshot,
            # so it sees a value that a concurrent first writer committed while we waited.
            await c.execute("INSERT INTO meta(key, value) VALUES (%s, %s)"
                            " ON CONFLICT (key) DO NOTHING", (key, value))
            await c.execute("SELECT value FROM meta WHERE key=%s", (key,))
            return str(_row(await c.fetchone())["value"])

        return await self._run(fn)

    # Documents.
    async def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        if _absent(collection, key):
            return None
        row = await self._read(_one("SELECT doc FROM documents WHERE collection=%s AND key=%s",
                                   (collection, key)))
        return None if row is None else ejson.loads_doc(str(row["doc"]))

    async def put_document(self, collection: str, key: str, doc: dict[str, Any]) -> None:
        await self._write(
            "INSERT INTO documents(collection, key, doc) VALUES (%s, %s, %s)"
            " ON CONFLICT (collection, key) DO UPDATE SET doc=excluded.doc",
            (collection, key, ejson.dumps_canonical(doc)))

    async def delete_document(self, collection: str, key: str) -> bool:
        if _absent(collection, key):
            return False
        return bool(await self._write(
            "DELETE FROM documents WHERE collection=%s AND key=%s", (collection, key)))

    # Rate limits.
    async def hit_rate(self, key: str, window: float, now: float, limit: int) -> bool:
        purge = purge_due(self, now)

        async def fn(c: Cursor) -> bool:
            await lock_rate(c, key, now, purge)
            if await _count(c, key, now - window, limit) >= limit:
                return False
            await c.execute("INSERT INTO rate_events(key, at, expires_at) VALUES (%s, %s, %s)",
                            (key, now, now + window))
            return True

        return await self._run(fn)

    async def rate_count(self, key: str, window: float, now: float) -> int:
        if _absent(key):
            return 0
        return await self._run(lambda c: _count(c, key, now - window))

    async def reset_rate(self, key: str) -> None:
        if not _absent(key):
            await self._write("DELETE FROM rate_events WHERE key=%s", (key,))



def purge_due(conn: Connection, now: float) -> bool:
    """Whether a hit at ``now`` also purges expired events (every ``RATE_PURGE_SECONDS``)."""
    purge = now >= conn._next_purge
    if purge:
        conn._next_purge = now + RATE_PURGE_SECONDS
    return purge


async def lock_rate(c: Cursor, key: str, now: float, purge: bool) -> None:
    """Purge expired events when due, then take the key's lock (held to commit)."""
    if purge:
        # SKIP LOCKED: processes purging at once split the rows instead of queueing.
        await c.execute("DELETE FROM rate_events WHERE ctid IN (SELECT ctid FROM"
                        " rate_events WHERE expires_at <= %s FOR UPDATE SKIP LOCKED)", (now,))
    # Under READ COMMITTED two processes could both count limit - 1 and both insert; a lock per
    # key (held to commit) makes count-and-insert one step.
    await c.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RATE_LOCK_CLASS, key))


async def _count(c: Cursor, key: str, after: float, cap: int | None = None) -> int:
    if cap is not None:
        # Stops at the cap (the limit): a hit reads at most ``limit`` index entries.
        await c.execute("SELECT COUNT(*) AS n FROM (SELECT 1 FROM rate_events WHERE key=%s"
                        " AND at > %s LIMIT %s) AS capped", (key, after, cap))
    else:
        await c.execute("SELECT COUNT(*) AS n FROM rate_events WHERE key=%s AND at > %s",
                        (key, after))
    return int(_row(await c.fetchone())["n"])
