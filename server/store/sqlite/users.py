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
            row = c.execute("SELECT u.*, " + _IDENTITIES + " FROM sessions s JOIN users u"
                            " ON u.id = s.user_id WHERE s.id=? AND s.user_id=?",
                            (session_id, user_id)).fetchone()
            return None if row is None else _user_of_joined_row(row)

        # One statement: one snapshot without BEGIN and ROLLBACK, on every authenticated request.
        return await self._read(fn, single=True)

    # Token refresh (issue 15).
    async def get_session_for_refresh(
        self, session_id: str, collection: str | None
    ) -> RefreshRead | None:
        def fn(c: sqlite3.Cursor) -> RefreshRead | None:
            row = c.execute(_REFRESH, (collection, session_id)).fetchone()
            if row is None:
                return None
            session = Session(row["id"], row["user_id"], row["token_hash"], row["device_id"],
                              row["created_at"], row["expires_at"], row["api_key_id"])
            user = None if row["u_id"] is None else UserRecord(
                row["u_id"], row["u_type"], bool(row["u_disabled"]), row["u_created_at"],
                _identities(row), _data(row["u_data"]), row["u_last_login_at"])
            doc = row["doc"]
            return RefreshRead(session, user, None if doc is None else ejson.loads_doc(doc))

        # One statement (rule 2 of the connection: one snapshot without BEGIN and ROLLBACK).
        return await self._read(fn, single=True)


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


# A user's identities in position order, as one JSON array (one statement reads a user); each
# one's data stays the stored text (a JSON string in the array), parsed as ``_user_of_row``
# parses it. The index identities_user (user_id, position) gives the rows in order, and SQLite
# keeps the ORDER BY of a subquery that feeds an aggregate (it does not flatten it).
_IDENTITIES = (
    "(SELECT json_group_array(json_array(i.provider_type, i.id, i.provider_id, i.data))"
    " FROM (SELECT * FROM identities WHERE user_id = u.id ORDER BY position) AS i)"
    " AS identities_json")


# A refresh's session, its user (if any) with identities, and the user's document in the
# collection given (NULL: none), in one statement.
_REFRESH = (
    "SELECT s.*, u.id AS u_id, u.type AS u_type, u.disabled AS u_disabled, u.data AS u_data,"
    " u.created_at AS u_created_at, u.last_login_at AS u_last_login_at, " + _IDENTITIES + ","
    " (SELECT doc FROM documents WHERE collection=? AND key=s.user_id) AS doc"
    " FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.id=?")


def _identities(row: sqlite3.Row) -> tuple[Identity, ...]:
    return tuple(Identity(str(t), str(i), str(p), _data(d))
                 for t, i, p, d in json.loads(row["identities_json"]))


def _user_of_joined_row(row: sqlite3.Row) -> UserRecord:
    return UserRecord(row["id"], row["type"], bool(row["disabled"]), row["created_at"],
                      _identities(row), _data(row["data"]), row["last_login_at"])


def _data(text: str) -> dict[str, Any]:
    # Most users and identities have no data: no parse for it.
    return {} if text == "{}" else json.loads(text)
