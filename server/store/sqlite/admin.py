"""The SQLite store's part of the Admin API: admin keys and their sessions, pages and searches of
users, users' sessions and pending email/password registrations.

It imports the standard library and the store's own modules only. The indexes the pages and
searches need are made at ``open`` (idempotent), so a store made before them gets them too.
"""

from __future__ import annotations

import sqlite3

from ..base import AdminKey, AdminSession, Session, UserpassAccount, UserRecord
from .connection import Connection
from .users import _user_of_row

INDEXES = (
    # A page of enabled or disabled users in id order.
    "CREATE INDEX IF NOT EXISTS users_disabled_id ON users(disabled, id)",
    # Users with an identity of some provider types, in id order.
    "CREATE INDEX IF NOT EXISTS identities_provider_user ON identities(provider_type, user_id)",
    # Identities by the email address their provider gave (social logins), for the search.
    "CREATE INDEX IF NOT EXISTS identities_email ON identities(json_extract(data, '$.email'))",
)
_EMAIL = "json_extract(data, '$.email')"


class Admin(Connection):
    """Admin keys and sessions, and the user queries of the Admin API."""

    async def open(self) -> None:
        await super().open()

        def fn(c: sqlite3.Cursor) -> None:
            for stmt in INDEXES:
                c.execute(stmt)

        await self._run(fn)

    # Admin keys.
    async def create_admin_key(self, key: AdminKey) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO admin_keys(id, name, public_key, key_hash, disabled, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key.id, key.name, key.public_key, key.key_hash, int(key.disabled),
             key.created_at)))

    async def list_admin_keys(self) -> list[AdminKey]:
        rows = await self._run(lambda c: c.execute(
            "SELECT * FROM admin_keys ORDER BY created_at, id").fetchall())
        return [_admin_key(r) for r in rows]

    async def find_admin_key(self, public_key: str) -> AdminKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM admin_keys WHERE public_key=?", (public_key,)).fetchone())
        return None if row is None else _admin_key(row)

    async def set_admin_key_disabled(self, key_id: str, disabled: bool) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if disabled:
                c.execute("DELETE FROM admin_sessions WHERE key_id=?", (key_id,))
            return bool(c.execute("UPDATE admin_keys SET disabled=? WHERE id=?",
                                  (int(disabled), key_id)).rowcount)

        return await self._run(fn)

    async def delete_admin_key(self, key_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute("DELETE FROM admin_sessions WHERE key_id=?", (key_id,))
            return bool(c.execute("DELETE FROM admin_keys WHERE id=?", (key_id,)).rowcount)

        return await self._run(fn)

    async def create_admin_session(self, session: AdminSession) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO admin_sessions(id, key_id, token_hash, device_id, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session.id, session.key_id, session.token_hash, session.device_id,
             session.created_at, session.expires_at)))

    async def get_admin_session(self, session_id: str) -> AdminSession | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM admin_sessions WHERE id=?", (session_id,)).fetchone())
        if row is None:
            return None
        return AdminSession(row["id"], row["key_id"], row["token_hash"], row["device_id"],
                            row["created_at"], row["expires_at"])

    async def delete_admin_session(self, session_id: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM admin_sessions WHERE id=?", (session_id,)).rowcount))

    async def get_admin_key_for_session(self, key_id: str, session_id: str) -> AdminKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT k.* FROM admin_sessions s JOIN admin_keys k ON k.id = s.key_id"
            " WHERE s.id=? AND k.id=?", (session_id, key_id)).fetchone())
        return None if row is None else _admin_key(row)

    # Users.
    async def list_users_page(self, after: str | None, limit: int, disabled: bool | None = None,
                              provider_types: tuple[str, ...] = ()) -> list[UserRecord]:
        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            if provider_types and disabled is not True:
                return _page_by_provider(c, after or "", limit, disabled, provider_types)
            where = "u.id > ?"
            params: list[object] = [after or ""]
            if disabled is not None:
                # Few users are disabled: walk them in id order (users_disabled_id), and check
                # the providers of each.
                where += " AND u.disabled = ?"
                params.append(int(disabled))
            if provider_types:
                marks = ", ".join("?" * len(provider_types))
                where += (" AND EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id"
                          f" AND i.provider_type IN ({marks}))")
                params += provider_types
            # Only placeholders and fixed text go into the statement.
            rows = c.execute(f"SELECT u.* FROM users u WHERE {where}"  # noqa: S608
                             " ORDER BY u.id LIMIT ?", (*params, limit)).fetchall()
            return [_user_of_row(c, r) for r in rows]

        return await self._read(fn)

    async def find_users_by_email_prefix(self, prefix: str, limit: int) -> list[UserRecord]:
        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            bounds = (prefix, prefix + "\U0010ffff", limit)
            found = [(str(r[0]), str(r[1])) for r in c.execute(
                "SELECT a.email_key, i.user_id FROM userpass_accounts a"
                " JOIN identities i ON i.provider_type='local-userpass' AND i.id = a.id"
                " WHERE a.email_key >= ? AND a.email_key < ? ORDER BY a.email_key LIMIT ?",
                bounds)]
            found += [(str(r[0]), str(r[1])) for r in c.execute(
                f"SELECT {_EMAIL}, user_id FROM identities WHERE {_EMAIL} >= ?"  # noqa: S608
                f" AND {_EMAIL} < ? ORDER BY {_EMAIL} LIMIT ?", bounds)]
            users = []
            for uid in _first_users(found, limit):
                row = c.execute("SELECT * FROM users WHERE id=?", (uid,)).fetchone()
                if row is not None:
                    users.append(_user_of_row(c, row))
            return users

        return await self._read(fn)

    async def list_user_sessions(self, user_id: str) -> list[Session]:
        rows = await self._read(lambda c: c.execute(
            "SELECT * FROM sessions WHERE user_id=? ORDER BY created_at, id",
            (user_id,)).fetchall())
        return [Session(r["id"], r["user_id"], r["token_hash"], r["device_id"], r["created_at"],
                        r["expires_at"], r["api_key_id"]) for r in rows]

    async def delete_user_sessions(self, user_id: str) -> int:
        return int(await self._run(lambda c: c.execute(
            "DELETE FROM sessions WHERE user_id=?", (user_id,)).rowcount))

    async def list_pending_userpass(self, after: str | None, limit: int) -> list[UserpassAccount]:
        rows = await self._read(lambda c: c.execute(
            "SELECT * FROM userpass_accounts WHERE confirmed=0 AND id > ? ORDER BY id LIMIT ?",
            (after or "", limit)).fetchall())
        return [UserpassAccount(r["email"], r["id"], r["password_hash"], bool(r["confirmed"]),
                                r["created_at"]) for r in rows]

    async def delete_pending_userpass(self, email: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            gone = c.execute(
                "DELETE FROM userpass_accounts WHERE email=? AND id NOT IN (SELECT id FROM"
                " identities WHERE provider_type='local-userpass')", (email,)).rowcount
            if gone:
                c.execute("DELETE FROM userpass_tokens WHERE email=?", (email,))
            return bool(gone)

        return await self._run(fn)


def _page_by_provider(c: sqlite3.Cursor, after: str, limit: int, disabled: bool | None,
                      provider_types: tuple[str, ...]) -> list[UserRecord]:
    # The first ``batch`` ids after ``after`` of each provider type, each one range of the index
    # identities_provider_user, merged: the first ``batch`` of them all are among them. (One
    # IN (...) over the identities would read every identity of those types first.) Enabled
    # users only: the few disabled ones found are skipped, and the walk goes on.
    one = ("SELECT user_id FROM (SELECT user_id FROM identities WHERE provider_type = ?"
           " AND user_id > ? ORDER BY user_id LIMIT ?)")
    merged = " UNION ".join([one] * len(provider_types)) + " ORDER BY 1 LIMIT ?"
    batch = limit if disabled is None else limit + 16
    found: list[UserRecord] = []
    while len(found) < limit:
        params: list[object] = []
        for name in provider_types:
            params += [name, after, batch]
        ids = [str(r[0]) for r in c.execute(merged, (*params, batch))]
        if not ids:
            break
        marks = ", ".join("?" * len(ids))
        rows = c.execute(f"SELECT * FROM users WHERE id IN ({marks})"  # noqa: S608
                         + ("" if disabled is None else " AND disabled = 0")
                         + " ORDER BY id", ids).fetchall()
        found += [_user_of_row(c, r) for r in rows[:limit - len(found)]]
        if len(ids) < batch:
            break
        after = ids[-1]
    return found


def _first_users(found: list[tuple[str, str]], limit: int) -> list[str]:
    """The users of (address, user id) pairs, by address, each once, at most ``limit``."""
    users: dict[str, None] = {}
    for _, uid in sorted(found):
        users.setdefault(uid)
    return list(users)[:limit]


def _admin_key(row: sqlite3.Row) -> AdminKey:
    return AdminKey(row["id"], row["name"], row["public_key"], row["key_hash"],
                    bool(row["disabled"]), row["created_at"])

