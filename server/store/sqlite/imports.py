"""The SQLite store's imports: users made elsewhere (App Services), each in one transaction.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import json
import sqlite3

from ...emails import email_key
from ..base import UserpassAccount, UserRecord
from .connection import Connection
from .users import _insert_identity


class Imports(Connection):
    """Users imported with their ids, identities and email/password accounts."""

    async def import_user(self, user: UserRecord,
                          accounts: tuple[UserpassAccount, ...] = ()) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            added = c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at)).rowcount
            if not added:
                return False
            for position, identity in enumerate(user.identities):
                _insert_identity(c, user.id, identity, position, user.created_at)
            for account in accounts:
                c.execute(
                    "INSERT INTO userpass_accounts(email, id, password_hash, confirmed,"
                    " created_at, email_key) VALUES (?, ?, ?, ?, ?, ?)",
                    (account.email, account.id, account.password_hash, int(account.confirmed),
                     account.created_at, email_key(account.email)))
            return True

        # A user already there (an import run again) costs one read, no write transaction.
        if await self._read(lambda c: c.execute("SELECT 1 FROM users WHERE id=?",
                                                (user.id,)).fetchone()) is not None:
            return False
        return await self._run(fn)
