"""The PostgreSQL store's imports: users made elsewhere (App Services), each in one transaction.

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import json

from ...emails import email_key
from ..base import Conflict, UserpassAccount, UserRecord
from .connection import Connection, Cursor, _one
from .users import _insert_identity


class Imports(Connection):
    """Users imported with their ids, identities and email/password accounts."""

    async def import_user(self, user: UserRecord,
                          accounts: tuple[UserpassAccount, ...] = ()) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at))
            if not c.rowcount:
                return False
            for position, identity in enumerate(user.identities):
                await _insert_identity(c, user.id, identity, position, user.created_at)
            for account in accounts:
                await c.execute(
                    "INSERT INTO userpass_accounts(email, id, password_hash, confirmed,"
                    " created_at, email_key) VALUES (%s, %s, %s, %s, %s, %s)",
                    (account.email, account.id, account.password_hash, int(account.confirmed),
                     account.created_at, email_key(account.email)))
            return True

        texts = [user.id, user.type, *(a.email for a in accounts)]
        texts += [t for i in user.identities for t in (i.provider_type, i.id, i.provider_id)]
        if any("\x00" in t for t in texts):
            raise Conflict("PostgreSQL text cannot hold NUL characters")
        # A user already there (an import run again) costs one read, no write transaction.
        if await self._read(_one("SELECT 1 FROM users WHERE id=%s", (user.id,))) is not None:
            return False
        return await self._run(fn)
