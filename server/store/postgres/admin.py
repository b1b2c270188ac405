"""The PostgreSQL store's part of the Admin API: admin keys and their sessions, pages and searches
of users, users' sessions and pending email/password registrations.

It imports psycopg's row types and the store's own modules only. The indexes the pages and
searches need are made at ``open`` under the schema lock (idempotent), bytewise (``COLLATE "C"``)
as every order of this store is, so a range of ids or a prefix of addresses is one index range
whatever the database's locale.
"""

from __future__ import annotations

from typing import Any, LiteralString

from psycopg.rows import DictRow

from ..base import AdminKey, AdminSession, Session, UserpassAccount, UserRecord
from .connection import SCHEMA_LOCK, Connection, Cursor, _absent, _all, _exec, _one, _opt_str
from .users import _USER, _user

INDEXES: tuple[LiteralString, ...] = (
    'CREATE INDEX IF NOT EXISTS users_id_c ON users (id COLLATE "C")',
    'CREATE INDEX IF NOT EXISTS users_disabled_id_c ON users (disabled, id COLLATE "C")',
    "CREATE INDEX IF NOT EXISTS identities_provider_user_c"
    ' ON identities (provider_type, user_id COLLATE "C")',
    'CREATE INDEX IF NOT EXISTS userpass_email_key_c ON userpass_accounts (email_key COLLATE "C")',
    'CREATE INDEX IF NOT EXISTS userpass_pending_c ON userpass_accounts (id COLLATE "C")'
    " WHERE confirmed = 0",
    # Identities by the email address their provider gave (social logins), for the search.
    "CREATE INDEX IF NOT EXISTS identities_email_c ON identities"
    " (((data::json ->> 'email')) COLLATE \"C\")",
)
_EMAIL: LiteralString = "((data::json ->> 'email')) COLLATE \"C\""


class Admin(Connection):
    """Admin keys and sessions, and the user queries of the Admin API."""

    async def open(self) -> None:
        await super().open()

        async def fn(c: Cursor) -> None:
            await c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for stmt in INDEXES:
                await c.execute(stmt)

        await self._run(fn)

    # Admin keys.
    async def create_admin_key(self, key: AdminKey) -> None:
        await self._run(_exec(
            "INSERT INTO admin_keys(id, name, public_key, key_hash, disabled, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key.id, key.name, key.public_key, key.key_hash, int(key.disabled),
             key.created_at)))

    async def list_admin_keys(self) -> list[AdminKey]:
        rows = await self._read(_all('SELECT * FROM admin_keys ORDER BY created_at,'
                                     ' id COLLATE "C"', ()))
        return [_admin_key(r) for r in rows]

    async def find_admin_key(self, public_key: str) -> AdminKey | None:
        if _absent(public_key):
            return None
        row = await self._read(_one("SELECT * FROM admin_keys WHERE public_key=%s",
                                    (public_key,)))
        return None if row is None else _admin_key(row)

    async def set_admin_key_disabled(self, key_id: str, disabled: bool) -> bool:
        async def fn(c: Cursor) -> bool:
            if disabled:
                await c.execute("DELETE FROM admin_sessions WHERE key_id=%s", (key_id,))
            await c.execute("UPDATE admin_keys SET disabled=%s WHERE id=%s",
                            (int(disabled), key_id))
            return bool(c.rowcount)

        return False if _absent(key_id) else await self._run(fn)

    async def delete_admin_key(self, key_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("DELETE FROM admin_sessions WHERE key_id=%s", (key_id,))
            await c.execute("DELETE FROM admin_keys WHERE id=%s", (key_id,))
            return bool(c.rowcount)

        return False if _absent(key_id) else await self._run(fn)

    async def create_admin_session(self, session: AdminSession) -> None:
        await self._run(_exec(
            "INSERT INTO admin_sessions(id, key_id, token_hash, device_id, created_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (session.id, session.key_id, session.token_hash, session.device_id,
             session.created_at, session.expires_at)))

    async def get_admin_session(self, session_id: str) -> AdminSession | None:
        if _absent(session_id):
            return None
        row = await self._read(_one("SELECT * FROM admin_sessions WHERE id=%s", (session_id,)))
        if row is None:
            return None
        return AdminSession(str(row["id"]), str(row["key_id"]), str(row["token_hash"]),
                            str(row["device_id"]), float(row["created_at"]),
                            float(row["expires_at"]))

    async def delete_admin_session(self, session_id: str) -> bool:
        if _absent(session_id):
            return False
        return bool(await self._run(_exec("DELETE FROM admin_sessions WHERE id=%s",
                                          (session_id,))))

    async def get_admin_key_for_session(self, key_id: str, session_id: str) -> AdminKey | None:
        if _absent(key_id, session_id):
            return None
        row = await self._read(_one(
            "SELECT k.* FROM admin_sessions s JOIN admin_keys k ON k.id = s.key_id"
            " WHERE s.id=%s AND k.id=%s", (session_id, key_id)))
        return None if row is None else _admin_key(row)

    # Users.
    async def list_users_page(self, after: str | None, limit: int, disabled: bool | None = None,
                              provider_types: tuple[str, ...] = ()) -> list[UserRecord]:
        if _absent(after or "", *provider_types):
            return []
        if provider_types and disabled is not True:
            return await self._read(lambda c: _page_by_provider(
                c, after or "", limit, disabled, provider_types))
        params: list[Any] = [after or ""]
        query: LiteralString = _USER + ' WHERE u.id COLLATE "C" > %s'
        if disabled is not None:
            # Few users are disabled: walk them in id order (users_disabled_id_c), and check
            # the providers of each.
            query += " AND u.disabled = %s"
            params.append(int(disabled))
        if provider_types:
            query += (" AND EXISTS (SELECT 1 FROM identities p WHERE p.user_id = u.id"
                      " AND p.provider_type = ANY(%s))")
            params.append(list(provider_types))
        query += ' ORDER BY u.id COLLATE "C" LIMIT %s'
        rows = await self._read(_all(query, (*params, limit)))
        return [_user(r) for r in rows]

    async def find_users_by_email_prefix(self, prefix: str, limit: int) -> list[UserRecord]:
        if _absent(prefix):
            return []
        bounds = (prefix, prefix + "\U0010ffff", limit)

        async def fn(c: Cursor) -> list[UserRecord]:
            await c.execute(
                "SELECT a.email_key AS k, i.user_id AS uid FROM userpass_accounts a"
                " JOIN identities i ON i.provider_type='local-userpass' AND i.id = a.id"
                ' WHERE a.email_key COLLATE "C" >= %s AND a.email_key COLLATE "C" < %s'
                ' ORDER BY a.email_key COLLATE "C" LIMIT %s', bounds)
            found = [(str(r["k"]), str(r["uid"])) for r in await c.fetchall()]
            await c.execute(
                "SELECT " + _EMAIL + " AS k, user_id AS uid FROM identities WHERE " + _EMAIL
                + " >= %s AND " + _EMAIL + " < %s ORDER BY " + _EMAIL + " LIMIT %s", bounds)
            found += [(str(r["k"]), str(r["uid"])) for r in await c.fetchall()]
            users: dict[str, None] = {}
            for _, uid in sorted(found):
                users.setdefault(uid)
            ids = list(users)[:limit]
            await c.execute(_USER + " WHERE u.id = ANY(%s)", (ids,))
            by_id = {str(r["id"]): _user(r) for r in await c.fetchall()}
            return [by_id[uid] for uid in ids if uid in by_id]

        return await self._read(fn)

    async def list_user_sessions(self, user_id: str) -> list[Session]:
        if _absent(user_id):
            return []
        rows = await self._read(_all('SELECT * FROM sessions WHERE user_id=%s'
                                     ' ORDER BY created_at, id COLLATE "C"', (user_id,)))
        return [Session(str(r["id"]), str(r["user_id"]), str(r["token_hash"]),
                        str(r["device_id"]), float(r["created_at"]), float(r["expires_at"]),
                        _opt_str(r["api_key_id"])) for r in rows]

    async def delete_user_sessions(self, user_id: str) -> int:
        if _absent(user_id):
            return 0
        return await self._run(_exec("DELETE FROM sessions WHERE user_id=%s", (user_id,)))

    async def list_pending_userpass(self, after: str | None, limit: int) -> list[UserpassAccount]:
        if _absent(after or ""):
            return []
        rows = await self._read(_all(
            'SELECT * FROM userpass_accounts WHERE confirmed = 0 AND id COLLATE "C" > %s'
            ' ORDER BY id COLLATE "C" LIMIT %s', (after or "", limit)))
        return [UserpassAccount(str(r["email"]), str(r["id"]), str(r["password_hash"]),
                                bool(r["confirmed"]), float(r["created_at"])) for r in rows]

    async def delete_pending_userpass(self, email: str) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute(
                "DELETE FROM userpass_accounts WHERE email=%s AND id NOT IN (SELECT id FROM"
                " identities WHERE provider_type='local-userpass')", (email,))
            gone = bool(c.rowcount)
            if gone:
                await c.execute("DELETE FROM userpass_tokens WHERE email=%s", (email,))
            return gone

        return False if _absent(email) else await self._run(fn)


_ONE_TYPE: LiteralString = (
    '(SELECT user_id FROM identities WHERE provider_type = %s AND user_id COLLATE "C" > %s'
    ' ORDER BY user_id COLLATE "C" LIMIT %s)')


async def _page_by_provider(c: Cursor, after: str, limit: int, disabled: bool | None,
                            provider_types: tuple[str, ...]) -> list[UserRecord]:
    # The first ``batch`` ids after ``after`` of each provider type, each one range of the index
    # identities_provider_user_c, merged: the first ``batch`` of them all are among them. (A
    # semi-join would read every identity of those types first.) Enabled users only: the few
    # disabled ones found are skipped, and the walk goes on.
    merged: LiteralString = " UNION ".join([_ONE_TYPE] * len(provider_types))
    candidates: LiteralString = ('SELECT user_id FROM (' + merged + ') c'
                                 ' ORDER BY user_id COLLATE "C" LIMIT %s')
    users: LiteralString = (_USER + " WHERE u.id = ANY(%s)"
                            + ("" if disabled is None else " AND u.disabled = 0")
                            + ' ORDER BY u.id COLLATE "C"')
    batch = limit if disabled is None else limit + 16
    found: list[UserRecord] = []
    while len(found) < limit:
        params: list[Any] = []
        for name in provider_types:
            params += [name, after, batch]
        await c.execute(candidates, (*params, batch))
        ids = [str(r["user_id"]) for r in await c.fetchall()]
        if not ids:
            break
        await c.execute(users, (ids,))
        found += [_user(r) for r in (await c.fetchall())[:limit - len(found)]]
        if len(ids) < batch:
            break
        after = ids[-1]
    return found


def _admin_key(row: DictRow) -> AdminKey:
    return AdminKey(str(row["id"]), str(row["name"]), str(row["public_key"]),
                    str(row["key_hash"]), bool(row["disabled"]), float(row["created_at"]))
