"""The SQLite store's logins in one transaction: a new user, its identity and its first session.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import json
import sqlite3

from ..base import Identity, RateHit, Session, UserRecord
from .connection import Connection
from .data import hit, purge_due


class Logins(Connection):
    """``create_user_session``: what an anonymous login writes, in one ``BEGIN IMMEDIATE``."""

    async def create_user_session(self, user: UserRecord, identity: Identity, session: Session,
                                  rate: RateHit | None = None) -> bool:
        purge = rate is not None and purge_due(self, rate.now)

        def fn(c: sqlite3.Cursor) -> bool:
            if rate is not None and not hit(c, rate.key, rate.window, rate.now, rate.limit,
                                            purge):
                return False
            c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user.id, user.type, int(user.disabled), json.dumps(user.data), user.created_at,
                 session.created_at))
            c.execute(
                "INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
                " created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (identity.provider_type, identity.id, user.id, identity.provider_id,
                 json.dumps(identity.data), user.created_at))
            c.execute(
                "INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session.id, user.id, session.token_hash, session.device_id, session.api_key_id,
                 session.created_at, session.expires_at))
            return True

        return await self._write_inline(fn)  # Rule 3 of the connection.
