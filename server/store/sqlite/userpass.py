"""The SQLite store's email/password accounts and their one-use confirmation and reset tokens.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import hmac
import sqlite3

from ...emails import email_key
from ..base import UserpassAccount, UserpassToken
from .connection import Connection


class Userpass(Connection):
    """Email/password accounts and their tokens."""

    # Email/password.
    async def create_userpass(self, account: UserpassAccount) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            c.execute(
                "INSERT INTO userpass_accounts(email, id, password_hash, confirmed, created_at,"
                " email_key) VALUES (?, ?, ?, ?, ?, ?)",
                (account.email, account.id, account.password_hash, int(account.confirmed),
                 account.created_at, email_key(account.email)))
            # Tokens left from an earlier account of this address (a store from before deletion
            # took them along) must not confirm or reset the new one.
            c.execute("DELETE FROM userpass_tokens WHERE email=?", (account.email,))

        await self._run(fn)

    async def get_userpass(self, email: str) -> UserpassAccount | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM userpass_accounts WHERE email=? OR email_key=?"
            " ORDER BY email=? DESC LIMIT 1", (email, email_key(email), email)).fetchone())
        if row is None:
            return None
        return UserpassAccount(row["email"], row["id"], row["password_hash"],
                               bool(row["confirmed"]), row["created_at"])

    async def confirm_userpass(self, email: str) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE userpass_accounts SET confirmed=1 WHERE email=?", (email,)))

    async def set_userpass_password(self, email: str, password_hash: str) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            c.execute("UPDATE userpass_accounts SET password_hash=? WHERE email=?",
                      (password_hash, email))
            c.execute("DELETE FROM sessions WHERE user_id IN (SELECT user_id FROM identities"
                      " WHERE provider_type='local-userpass' AND id IN"
                      " (SELECT id FROM userpass_accounts WHERE email=?))", (email,))
            # Reset links sent before this password change can set no other.
            c.execute("UPDATE userpass_tokens SET used=1 WHERE email=? AND kind='reset'",
                      (email,))

        await self._run(fn)

    async def add_userpass_token(self, token: UserpassToken) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO userpass_tokens(token_id, token_hash, email, kind, password_hash,"
            " expires_at, used) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token.token_id, token.token_hash, token.email, token.kind, token.password_hash,
             token.expires_at, int(token.used))))

    async def use_userpass_token(
        self, token_id: str, kind: str, token_hash: str, now: float
    ) -> UserpassToken | None:
        def fn(c: sqlite3.Cursor) -> UserpassToken | None:
            row = c.execute("SELECT * FROM userpass_tokens WHERE token_id=? AND kind=?",
                            (token_id, kind)).fetchone()
            if row is None or not hmac.compare_digest(row["token_hash"], token_hash):
                return None
            token = UserpassToken(row["token_id"], row["token_hash"], row["email"], row["kind"],
                                  row["expires_at"], bool(row["used"]), row["password_hash"])
            if not token.used and token.expires_at > now:
                c.execute("UPDATE userpass_tokens SET used=1 WHERE token_id=?", (token_id,))
            return token

        return await self._run(fn)
