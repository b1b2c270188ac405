"""The PostgreSQL store's sessions (refresh tokens) and API keys.

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

from psycopg.rows import DictRow

from ..base import ApiKey, Session
from .connection import Connection, Cursor, _absent, _all, _one, _opt_str


class Sessions(Connection):
    """Sessions and the API keys that open them."""

    # Sessions.
    async def create_session(self, session: Session) -> None:
        await self._write(
            "INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (session.id, session.user_id, session.token_hash, session.device_id,
             session.api_key_id, session.created_at, session.expires_at))

    async def get_session(self, session_id: str) -> Session | None:
        if _absent(session_id):
            return None
        row = await self._read(_one("SELECT * FROM sessions WHERE id=%s", (session_id,)))
        if row is None:
            return None
        return Session(str(row["id"]), str(row["user_id"]), str(row["token_hash"]),
                       str(row["device_id"]), float(row["created_at"]),
                       float(row["expires_at"]), _opt_str(row["api_key_id"]))

    async def delete_session(self, session_id: str) -> bool:
        if _absent(session_id):
            return False
        return bool(await self._write("DELETE FROM sessions WHERE id=%s", (session_id,)))

    # API keys.
    async def create_api_key(self, key: ApiKey) -> None:
        await self._write(
            "INSERT INTO api_keys(id, user_id, name, key_hash, disabled, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key.id, key.user_id, key.name, key.key_hash, int(key.disabled), key.created_at))

    async def list_api_keys(self, user_id: str) -> list[ApiKey]:
        if _absent(user_id):
            return []
        rows = await self._read(_all('SELECT * FROM api_keys WHERE user_id=%s'
                                    ' ORDER BY created_at, id COLLATE "C"', (user_id,)))
        return [_api_key(r) for r in rows]

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        if _absent(key_id):
            return None
        row = await self._read(_one("SELECT * FROM api_keys WHERE id=%s", (key_id,)))
        return None if row is None else _api_key(row)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        if _absent(key_hash):
            return None
        row = await self._read(_one("SELECT * FROM api_keys WHERE key_hash=%s", (key_hash,)))
        return None if row is None else _api_key(row)

    async def set_api_key_disabled(self, key_id: str, disabled: bool) -> bool:
        async def fn(c: Cursor) -> bool:
            if disabled:
                await c.execute("DELETE FROM sessions WHERE api_key_id=%s", (key_id,))
            await c.execute("UPDATE api_keys SET disabled=%s WHERE id=%s",
                            (int(disabled), key_id))
            return bool(c.rowcount)

        if _absent(key_id):
            return False
        return await self._run(fn)

    async def delete_api_key(self, key_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("DELETE FROM sessions WHERE api_key_id=%s", (key_id,))
            await c.execute("DELETE FROM api_keys WHERE id=%s", (key_id,))
            return bool(c.rowcount)

        if _absent(key_id):
            return False
        return await self._run(fn)



def _api_key(row: DictRow) -> ApiKey:
    return ApiKey(str(row["id"]), str(row["user_id"]), str(row["name"]), str(row["key_hash"]),
                  bool(row["disabled"]), float(row["created_at"]))
