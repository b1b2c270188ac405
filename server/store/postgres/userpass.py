"""The PostgreSQL store's email/password accounts and their one-use confirmation and reset tokens.

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import hmac

from ...emails import email_key
from ..base import UserpassAccount, UserpassToken
from .connection import Connection, Cursor, _absent, _one, _opt_str


class Userpass(Connection):
    """Email/password accounts and their tokens."""

    # Email/password.
    async def create_userpass(self, account: UserpassAccount) -> None:
        async def fn(c: Cursor) -> None:
            await c.execute(
                "INSERT INTO userpass_accounts(email, id, password_hash, confirmed, created_at,"
                " email_key) VALUES (%s, %s, %s, %s, %s, %s)",
                (account.email, account.id, account.password_hash, int(account.confirmed),
                 account.created_at, email_key(account.email)))
            # Tokens left from an earlier account of this address (a store from before deletion
            # took them along) must not confirm or reset the new one.
            await c.execute("DELETE FROM userpass_tokens WHERE email=%s", (account.email,))

        await self._run(fn)

    async def get_userpass(self, email: str) -> UserpassAccount | None:
        if _absent(email):
            return None
        row = await self._read(_one(
            "SELECT * FROM userpass_accounts WHERE email=%s OR email_key=%s"
            " ORDER BY email=%s DESC LIMIT 1", (email, email_key(email), email)))
        if row is None:
            return None
        return UserpassAccount(str(row["email"]), str(row["id"]), str(row["password_hash"]),
                               bool(row["confirmed"]), float(row["created_at"]))

    async def confirm_userpass(self, email: str) -> None:
        if not _absent(email):
            await self._write("UPDATE userpass_accounts SET confirmed=1 WHERE email=%s",
                              (email,))

    async def set_userpass_password(self, email: str, password_hash: str) -> None:
        async def fn(c: Cursor) -> None:
            await c.execute("UPDATE userpass_accounts SET password_hash=%s WHERE email=%s",
                            (password_hash, email))
            await c.execute("DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM"
                            " identities WHERE provider_type='local-userpass' AND id IN"
                            " (SELECT id FROM userpass_accounts WHERE email=%s))", (email,))
            # Reset links sent before this password change can set no other.
            await c.execute("UPDATE userpass_tokens SET used=1 WHERE email=%s AND kind='reset'",
                            (email,))

        if not _absent(email):
            await self._run(fn)

    async def add_userpass_token(self, token: UserpassToken) -> None:
        await self._write(
            "INSERT INTO userpass_tokens(token_id, token_hash, email, kind, password_hash,"
            " expires_at, used) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (token.token_id, token.token_hash, token.email, token.kind, token.password_hash,
             token.expires_at, int(token.used)))

    async def use_userpass_token(
        self, token_id: str, kind: str, token_hash: str, now: float
    ) -> UserpassToken | None:
        async def fn(c: Cursor) -> UserpassToken | None:
            # FOR UPDATE: of two requests with one token, the second waits and then sees it used.
            await c.execute("SELECT * FROM userpass_tokens WHERE token_id=%s AND kind=%s"
                            " FOR UPDATE", (token_id, kind))
            row = await c.fetchone()
            if row is None or not hmac.compare_digest(str(row["token_hash"]), token_hash):
                return None
            token = UserpassToken(
                str(row["token_id"]), str(row["token_hash"]), str(row["email"]), str(row["kind"]),
                float(row["expires_at"]), bool(row["used"]), _opt_str(row["password_hash"]))
            if not token.used and token.expires_at > now:
                await c.execute("UPDATE userpass_tokens SET used=1 WHERE token_id=%s", (token_id,))
            return token

        if _absent(token_id, kind):
            return None
        return await self._run(fn)
