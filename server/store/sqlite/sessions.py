"""The SQLite store's sessions (refresh tokens) and API keys.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import sqlite3

from ..base import ApiKey, Session
from .connection import Connection


class Sessions(Connection):
    """Sessions and the API keys that open them."""

    # Sessions.
    async def create_session(self, session: Session) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session.id, session.user_id, session.token_hash, session.device_id,
             session.api_key_id, session.created_at, session.expires_at)))

    async def get_session(self, session_id: str) -> Session | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone())
        if row is None:
            return None
        return Session(row["id"], row["user_id"], row["token_hash"], row["device_id"],
                       row["created_at"], row["expires_at"], row["api_key_id"])

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM sessions WHERE id=?", (session_id,)).rowcount))

    # API keys.
    async def create_api_key(self, key: ApiKey) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO api_keys(id, user_id, name, key_hash, disabled, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key.id, key.user_id, key.name, key.key_hash, int(key.disabled), key.created_at)))

    async def list_api_keys(self, user_id: str) -> list[ApiKey]:
        rows = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE user_id=? ORDER BY created_at, id",
            (user_id,)).fetchall())
        return [_api_key(r) for r in rows]

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE id=?", (key_id,)).fetchone())
        return None if row is None else _api_key(row)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE key_hash=?", (key_hash,)).fetchone())
        return None if row is None else _api_key(row)

    async def set_api_key_disabled(self, key_id: str, disabled: bool) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if disabled:
                c.execute("DELETE FROM sessions WHERE api_key_id=?", (key_id,))
            return bool(c.execute("UPDATE api_keys SET disabled=? WHERE id=?",
                                  (int(disabled), key_id)).rowcount)

        return await self._run(fn)

    async def delete_api_key(self, key_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute("DELETE FROM sessions WHERE api_key_id=?", (key_id,))
            return bool(c.execute("DELETE FROM api_keys WHERE id=?", (key_id,)).rowcount)

        return await self._run(fn)



def _api_key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(row["id"], row["user_id"], row["name"], row["key_hash"], bool(row["disabled"]),
                  row["created_at"])
