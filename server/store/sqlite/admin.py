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
    # Pending registrations in id order (``userpass_accounts.id`` is UNIQUE, so indexed).
)


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
        where: list[str] = ["u.id > ?"]
        params: list[object] = [after or ""]
        if disabled is not None:
            where.append("u.disabled = ?")
            params.append(int(disabled))
        if provider_types:
            marks = ", ".join("?" * len(provider_types))
            where.append(f"u.id IN (SELECT user_id FROM identities WHERE provider_type IN"
                         f" ({marks}) AND user_id > ?)")
            params += [*provider_types, after or ""]
        # Only placeholders and fixed text go into the statement.
        query = (f"SELECT u.* FROM users u WHERE {' AND '.join(where)}"  # noqa: S608
                 " ORDER BY u.id LIMIT ?")

        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            rows = c.execute(query, (*params, limit)).fetchall()
            return [_user_of_row(c, r) for r in rows]

        return await self._read(fn)

    async def find_users_by_email_prefix(self, prefix: str, limit: int) -> list[UserRecord]:
        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            rows = c.execute(
                "SELECT u.* FROM userpass_accounts a"
                " JOIN identities i ON i.provider_type='local-userpass' AND i.id = a.id"
                " JOIN users u ON u.id = i.user_id"
                " WHERE a.email_key >= ? AND a.email_key < ? ORDER BY a.email_key LIMIT ?",
                (prefix, prefix + "\U0010ffff", limit)).fetchall()
            return [_user_of_row(c, r) for r in rows]

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


def _admin_key(row: sqlite3.Row) -> AdminKey:
    return AdminKey(row["id"], row["name"], row["public_key"], row["key_hash"],
                    bool(row["disabled"]), row["created_at"])

