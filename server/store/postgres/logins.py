"""The PostgreSQL store's logins in one transaction: a new user, its identity and its first
session, written by one statement.

It imports the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import json

from ..base import Identity, RateHit, Session, UserRecord
from .connection import Connection, Cursor, _row
from .data import lock_rate, purge_due

# One statement writes the three rows (data-modifying CTEs); the foreign keys are checked at
# its end, when the user's row is there. The casts give asyncpg the parameters' types, which an
# INSERT ... SELECT does not infer from its target columns.
_ROWS = """
u AS (INSERT INTO users(id, type, disabled, data, created_at, last_login_at)
      SELECT %s::text, %s::text, %s::integer, %s::text, %s::double precision,
             %s::double precision FROM go RETURNING id),
i AS (INSERT INTO identities(provider_type, id, user_id, provider_id, data, position, created_at)
      SELECT %s::text, %s::text, u.id, %s::text, %s::text, 0, %s::double precision FROM u),
s AS (INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,
                           expires_at)
      SELECT %s::text, u.id, %s::text, %s::text, %s::text, %s::double precision,
             %s::double precision FROM u)
SELECT COUNT(*) AS n FROM u
"""
_FREE = "WITH go AS (SELECT 1)," + _ROWS
# With a rate limit: the event goes in, and the rest follows, only below the limit (counted
# after the key's lock, so under READ COMMITTED this statement sees every earlier hit).
_LIMITED = """
WITH seen AS (SELECT COUNT(*) AS n FROM (SELECT 1 FROM rate_events WHERE key=%s
                                         AND at > %s::double precision LIMIT %s) AS capped),
go AS (INSERT INTO rate_events(key, at, expires_at)
       SELECT %s::text, %s::double precision, %s::double precision FROM seen WHERE seen.n < %s
       RETURNING 1),""" + _ROWS


class Logins(Connection):
    """``create_user_session``: one statement, after the rate limit's lock when limited."""

    async def create_user_session(self, user: UserRecord, identity: Identity, session: Session,
                                  rate: RateHit | None = None) -> bool:
        rows = (user.id, user.type, int(user.disabled), json.dumps(user.data), user.created_at,
                session.created_at, identity.provider_type, identity.id, identity.provider_id,
                json.dumps(identity.data), user.created_at, session.id, session.token_hash,
                session.device_id, session.api_key_id, session.created_at, session.expires_at)
        if rate is None:
            async def free(c: Cursor) -> bool:
                await c.execute(_FREE, rows)
                return int(_row(await c.fetchone())["n"]) == 1

            # One statement is one transaction in autocommit mode: one round trip.
            return await self._run(free, transaction=False)
        purge = purge_due(self, rate.now)
        head = (rate.key, rate.now - rate.window, rate.limit, rate.key, rate.now,
                rate.now + rate.window, rate.limit)

        async def limited(c: Cursor) -> bool:
            await lock_rate(c, rate.key, rate.now, purge)
            await c.execute(_LIMITED, head + rows)
            return int(_row(await c.fetchone())["n"]) == 1

        return await self._run(limited)
