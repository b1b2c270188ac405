"""The SQLite store's users and their identities, and the user behind a live session.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from ... import ejson
from ..base import Conflict, Identity, RefreshRead, Session, UserRecord
from .connection import Connection


class Users(Connection):
    """Users and identities: create, load, link, disable, delete."""

    # Users and identities.
    async def create_user(self, user: UserRecord, identity: Identity | None) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at),
            )
            if identity is not None:
                _insert_identity(c, user.id, identity, 0, user.created_at)

        await self._run(fn)

    async def get_user(self, user_id: str) -> UserRecord | None:
        return await self._read(lambda c: _load_user(c, user_id))

    async def list_users(self) -> list[UserRecord]:
        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            ids = [r["id"] for r in c.execute("SELECT id FROM users ORDER BY created_at, id")]
            return [u for u in (_load_user(c, i) for i in ids) if u is not None]

        return await self._run(fn)

    async def find_user_by_identity(self, provider_type: str, identity_id: str) -> str | None:
        row = await self._read(lambda c: c.execute(
            "SELECT user_id FROM identities WHERE provider_type=? AND id=?",
            (provider_type, identity_id)).fetchone())
        return None if row is None else str(row["user_id"])

    async def add_identity(self, user_id: str, identity: Identity) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            row = c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p, "
                            "(SELECT created_at FROM users WHERE id=?) AS t "
                            "FROM identities WHERE user_id=?", (user_id, user_id)).fetchone()
            if row["t"] is None:
                raise Conflict("user does not exist")
            _insert_identity(c, user_id, identity, int(row["p"]), _now())

        await self._run(fn)

    async def update_identity_data(
        self, provider_type: str, identity_id: str, data: dict[str, Any]
    ) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE identities SET data=? WHERE provider_type=? AND id=?",
            (json.dumps(data), provider_type, identity_id)))

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        def fn(c: sqlite3.Cursor) -> int:
            if disabled:
                c.execute("DELETE FROM sessions WHERE user_id=?", (user_id,))
            return int(c.execute(
                "UPDATE users SET disabled=? WHERE id=?", (int(disabled), user_id)).rowcount)

        return bool(await self._run(fn))

    async def touch_login(self, user_id: str, when: float) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE users SET last_login_at=? WHERE id=?", (when, user_id)))

    async def delete_user(self, user_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute(
                "DELETE FROM userpass_tokens WHERE email IN (SELECT email FROM userpass_accounts"
                " WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=? AND provider_type='local-userpass'))", (user_id,))
            c.execute(
                "DELETE FROM userpass_accounts WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=? AND provider_type='local-userpass')", (user_id,))
            for table in ("sessions", "api_keys", "identities"):
                c.execute(f"DELETE FROM {table} WHERE user_id=?", (user_id,))
            return bool(c.execute("DELETE FROM users WHERE id=?", (user_id,)).rowcount)

        return await self._run(fn)

    # Access tokens (issue 16): the user behind a token only while its session lives.
    async def get_user_for_session(self, user_id: str, session_id: str) -> UserRecord | None:
        def fn(c: sqlite3.Cursor) -> UserRecord | None:
            row = c.execute("SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id"
                            " WHERE s.id=? AND s.user_id=?", (session_id, user_id)).fetchone()
            return None if row is None else _user_of_row(c, row)

        return await self._read(fn)

    # Token refresh (issue 15).
    async def get_session_for_refresh(
        self, session_id: str, collection: str | None
    ) -> RefreshRead | None:
        def fn(c: sqlite3.Cursor) -> RefreshRead | None:
            row = c.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
            if row is None:
                return None
            session = Session(row["id"], row["user_id"], row["token_hash"], row["device_id"],
                              row["created_at"], row["expires_at"], row["api_key_id"])
            user = c.execute("SELECT * FROM users WHERE id=?", (session.user_id,)).fetchone()
            doc = None if collection is None else c.execute(
                "SELECT doc FROM documents WHERE collection=? AND key=?",
                (collection, session.user_id)).fetchone()
            return RefreshRead(session, None if user is None else _user_of_row(c, user),
                               None if doc is None else ejson.loads_doc(doc["doc"]))

        return await self._read(fn)



def _now() -> float:
    return time.time()


def _insert_identity(
    c: sqlite3.Cursor, user_id: str, ident: Identity, pos: int, when: float
) -> None:
    c.execute(
        "INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ident.provider_type, ident.id, user_id, ident.provider_id, json.dumps(ident.data), pos,
         when),
    )


def _load_user(c: sqlite3.Cursor, user_id: str) -> UserRecord | None:
    row = c.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
    return None if row is None else _user_of_row(c, row)


def _user_of_row(c: sqlite3.Cursor, row: sqlite3.Row) -> UserRecord:
    idents = tuple(
        Identity(r["provider_type"], r["id"], r["provider_id"], json.loads(r["data"]))
        for r in c.execute("SELECT * FROM identities WHERE user_id=? ORDER BY position",
                           (row["id"],))
    )
    return UserRecord(row["id"], row["type"], bool(row["disabled"]), row["created_at"], idents,
                      json.loads(row["data"]), row["last_login_at"])
