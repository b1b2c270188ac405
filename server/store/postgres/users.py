"""The PostgreSQL store's users and their identities, and the user behind a live session.

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import json
import time
from typing import Any

from psycopg.rows import DictRow

from ... import ejson
from ..base import Conflict, Identity, RefreshRead, Session, UserRecord
from .connection import Connection, Cursor, _absent, _all, _one, _opt_str, _row

_USER = """
SELECT u.id, u.type, u.disabled, u.data, u.created_at, u.last_login_at,
       (SELECT json_agg(json_build_array(i.provider_type, i.id, i.provider_id, i.data)
                        ORDER BY i.position)
          FROM identities i WHERE i.user_id = u.id) AS identities
  FROM users u
"""


class Users(Connection):
    """Users and identities: create, load, link, disable, delete."""

    # Users and identities.
    async def create_user(self, user: UserRecord, identity: Identity | None) -> None:
        async def fn(c: Cursor) -> None:
            await c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at))
            if identity is not None:
                await _insert_identity(c, user.id, identity, 0, user.created_at)

        await self._run(fn)

    async def get_user(self, user_id: str) -> UserRecord | None:
        if _absent(user_id):
            return None
        row = await self._read(_one(_USER + " WHERE u.id=%s", (user_id,)))
        return None if row is None else _user(row)

    async def list_users(self) -> list[UserRecord]:
        rows = await self._read(_all(_USER + ' ORDER BY u.created_at, u.id COLLATE "C"', ()))
        return [_user(r) for r in rows]

    async def find_user_by_identity(self, provider_type: str, identity_id: str) -> str | None:
        if _absent(provider_type, identity_id):
            return None
        row = await self._read(_one(
            "SELECT user_id FROM identities WHERE provider_type=%s AND id=%s",
            (provider_type, identity_id)))
        return None if row is None else str(row["user_id"])

    async def add_identity(self, user_id: str, identity: Identity) -> None:
        async def fn(c: Cursor) -> None:
            # Locking the user serialises appends, so two identities never share a position,
            # and waits for a concurrent deletion, after which the user is gone.
            await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (user_id,))
            if await c.fetchone() is None:
                raise Conflict("user does not exist")
            await c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p"
                            " FROM identities WHERE user_id=%s", (user_id,))
            position = int(_row(await c.fetchone())["p"])
            await _insert_identity(c, user_id, identity, position, time.time())

        if _absent(user_id):
            raise Conflict("user does not exist")
        await self._run(fn)

    async def update_identity_data(
        self, provider_type: str, identity_id: str, data: dict[str, Any]
    ) -> None:
        if not _absent(provider_type, identity_id):
            await self._write("UPDATE identities SET data=%s WHERE provider_type=%s AND id=%s",
                              (json.dumps(data), provider_type, identity_id))

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        async def fn(c: Cursor) -> bool:
            if disabled:
                await c.execute("DELETE FROM sessions WHERE user_id=%s", (user_id,))
            await c.execute("UPDATE users SET disabled=%s WHERE id=%s", (int(disabled), user_id))
            return bool(c.rowcount)

        if _absent(user_id):
            return False
        return await self._run(fn)

    async def touch_login(self, user_id: str, when: float) -> None:
        if not _absent(user_id):
            await self._write("UPDATE users SET last_login_at=%s WHERE id=%s",
                              (when, user_id))

    async def delete_user(self, user_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            # Lock the user first, so an identity appended concurrently either lands before
            # this deletion (and goes with it) or finds the user gone.
            await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (user_id,))
            if await c.fetchone() is None:
                return False
            await c.execute(
                "DELETE FROM userpass_tokens WHERE email IN (SELECT email FROM userpass_accounts"
                " WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=%s AND provider_type='local-userpass'))", (user_id,))
            await c.execute(
                "DELETE FROM userpass_accounts WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=%s AND provider_type='local-userpass')", (user_id,))
            await c.execute("DELETE FROM sessions WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM api_keys WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM identities WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM users WHERE id=%s", (user_id,))
            return True

        if _absent(user_id):
            return False
        return await self._run(fn)

    # Access tokens (issue 16): the user behind a token only while its session lives.
    async def get_user_for_session(self, user_id: str, session_id: str) -> UserRecord | None:
        if _absent(user_id, session_id):
            return None
        # One statement, so the session check costs no round trip over loading the user.
        row = await self._read(_one(
            _USER + " JOIN sessions s ON s.user_id = u.id WHERE s.id=%s AND u.id=%s",
            (session_id, user_id)))
        return None if row is None else _user(row)

    # Token refresh (issue 15): the session, its user and the custom data in one statement.
    async def get_session_for_refresh(
        self, session_id: str, collection: str | None
    ) -> RefreshRead | None:
        if _absent(session_id):
            return None
        if collection is not None and _absent(collection):
            collection = None
        row = await self._read(_one(_REFRESH, (collection, session_id)))
        if row is None:
            return None
        session = Session(str(row["s_id"]), str(row["s_user_id"]), str(row["token_hash"]),
                          str(row["device_id"]), float(row["s_created_at"]),
                          float(row["expires_at"]), _opt_str(row["api_key_id"]))
        doc = row["document"]
        return RefreshRead(session, None if row["id"] is None else _user(row),
                           None if doc is None else ejson.loads_doc(str(doc)))


_REFRESH = """
SELECT s.id AS s_id, s.user_id AS s_user_id, s.token_hash, s.device_id,
       s.created_at AS s_created_at, s.expires_at, s.api_key_id,
       u.id, u.type, u.disabled, u.data, u.created_at, u.last_login_at,
       (SELECT json_agg(json_build_array(i.provider_type, i.id, i.provider_id, i.data)
                        ORDER BY i.position)
          FROM identities i WHERE i.user_id = u.id) AS identities,
       (SELECT d.doc FROM documents d WHERE d.collection = %s::text AND d.key = s.user_id)
         AS document
  FROM sessions s LEFT JOIN users u ON u.id = s.user_id
 WHERE s.id = %s
"""


async def _insert_identity(c: Cursor, user_id: str, ident: Identity, pos: int, when: float) -> None:
    await c.execute(
        "INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (ident.provider_type, ident.id, user_id, ident.provider_id, json.dumps(ident.data), pos,
         when))


def _user(row: DictRow) -> UserRecord:
    idents = tuple(Identity(str(t), str(i), str(p), _data(d))
                   for t, i, p, d in (row["identities"] or ()))
    last = row["last_login_at"]
    return UserRecord(str(row["id"]), str(row["type"]), bool(row["disabled"]),
                      float(row["created_at"]), idents, _data(row["data"]),
                      None if last is None else float(last))


def _data(text: str) -> dict[str, Any]:
    # Most users and identities have no data: no parse for it (every authenticated request).
    return {} if text == "{}" else json.loads(text)
