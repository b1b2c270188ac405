"""The shared store: PostgreSQL through psycopg 3 (async) and a ``psycopg_pool`` connection pool.

Several server processes, on one machine or many, use one database; this module holds what makes
that safe. It imports psycopg (the ``postgres`` extra) and nothing of the HTTP layer.

Rule 1: every ``Store`` method is one transaction on one pooled connection (``autocommit`` is on,
so ``conn.transaction()`` is the only ``BEGIN`` ... ``COMMIT``), retried whole if PostgreSQL
aborts it for a deadlock or a serialisation failure. A method that is a single ``SELECT`` runs
without the explicit transaction (``_read``): in autocommit mode it is one already.

Rule 2: the schema is the same ``schema.sql`` as SQLite's, created at ``open`` under a
transaction-scoped advisory lock: processes starting together on an empty database would
otherwise race in ``CREATE TABLE IF NOT EXISTS`` and fail on the catalogue's unique index.

Rule 3: a read-modify-write locks the row it reads first (``FOR UPDATE``) where SQLite's single
writer made that implicit: appending an identity, deleting a user, using a token.

Rule 4: values read back are the ones SQLite gives: ``float`` times, ``bool`` flags, ``dict`` JSON,
``str`` ids. Text is ordered bytewise (``COLLATE "C"``) as in SQLite, whatever the database's
locale. PostgreSQL text cannot hold NUL characters; a lookup of such a key finds nothing, as it
could never have been stored.

```python
store = PostgresStore("postgresql://latchkey@db.internal/latchkey")
await store.open()
```
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from .. import ejson
from ..emails import email_key
from . import email_keys
from .base import (
    RATE_PURGE_SECONDS,
    ApiKey,
    Conflict,
    Identity,
    Session,
    UserpassAccount,
    UserpassToken,
    UserRecord,
)
from .sqlite import SCHEMA_VERSION, schema_statements

T = TypeVar("T")
Cursor = AsyncCursor[DictRow]

# Any fixed 64-bit number works; this one spells "latchkey" in ASCII so it is easy to spot in
# pg_locks.
SCHEMA_LOCK = 0x6C617463686B6579
# The class of the per-key rate limit locks (two-int advisory locks, a space apart from
# SCHEMA_LOCK's one-bigint form): "lkrt".
RATE_LOCK_CLASS = 0x6C6B7274
RETRIES = 3

_USER = """
SELECT u.id, u.type, u.disabled, u.data, u.created_at, u.last_login_at,
       (SELECT json_agg(json_build_array(i.provider_type, i.id, i.provider_id, i.data)
                        ORDER BY i.position)
          FROM identities i WHERE i.user_id = u.id) AS identities
  FROM users u
"""


class PostgresStore:
    """``Store`` on a PostgreSQL database named by a ``postgresql://`` URL (a libpq conninfo)."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self._sizes = (min_size, max_size)
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._next_purge = 0.0

    async def open(self) -> None:
        # One plain connection first: a wrong URL or a missing database fails here with
        # libpq's own message instead of a pool timeout.
        async with await AsyncConnection.connect(self.url, autocommit=True) as conn:
            async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                await _create_schema(cur)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            self.url, min_size=self._sizes[0], max_size=self._sizes[1], open=False,
            kwargs={"autocommit": True}, check=AsyncConnectionPool.check_connection,
            name="latchkey")
        await pool.open(wait=True, timeout=30)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _run(self, fn: Callable[[Cursor], Awaitable[T]]) -> T:
        for _ in range(RETRIES - 1):
            try:
                return await self._attempt(fn)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                continue  # A deadlock or serialisation failure committed nothing: run it again.
        return await self._attempt(fn)

    async def _read(self, fn: Callable[[Cursor], Awaitable[T]]) -> T:
        # One SELECT in autocommit mode is a transaction of its own: one round trip to the
        # server instead of BEGIN, query, COMMIT.
        if self._pool is None:
            raise RuntimeError("The store is not open.")
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return await fn(cur)

    async def _attempt(self, fn: Callable[[Cursor], Awaitable[T]]) -> T:
        if self._pool is None:
            raise RuntimeError("The store is not open.")
        try:
            async with self._pool.connection() as conn, conn.transaction(), \
                    conn.cursor(row_factory=dict_row) as cur:
                return await fn(cur)
        except psycopg.IntegrityError as exc:
            raise Conflict(str(exc)) from exc

    # Meta.
    async def get_meta(self, key: str) -> str | None:
        if _absent(key):
            return None
        row = await self._read(_one("SELECT value FROM meta WHERE key=%s", (key,)))
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        async def fn(c: Cursor) -> str:
            # Two statements on purpose: under READ COMMITTED the SELECT takes a new snapshot,
            # so it sees a value that a concurrent first writer committed while we waited.
            await c.execute("INSERT INTO meta(key, value) VALUES (%s, %s)"
                            " ON CONFLICT (key) DO NOTHING", (key, value))
            await c.execute("SELECT value FROM meta WHERE key=%s", (key,))
            return str(_row(await c.fetchone())["value"])

        return await self._run(fn)

    # Users and identities.
    async def create_user(self, user: UserRecord, identity: Identity | None) -> None:
        async def fn(c: Cursor) -> None:
            await c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at))
            if identity is not None:
                await _insert_identity(c, user.id, identity, 0, user.created_at)

        await self._run(fn)

    async def get_user(self, user_id: str) -> UserRecord | None:
        if _absent(user_id):
            return None
        row = await self._read(_one(_USER + " WHERE u.id=%s", (user_id,)))
        return None if row is None else _user(row)

    async def list_users(self) -> list[UserRecord]:
        rows = await self._read(_all(_USER + ' ORDER BY u.created_at, u.id COLLATE "C"', ()))
        return [_user(r) for r in rows]

    async def find_user_by_identity(self, provider_type: str, identity_id: str) -> str | None:
        if _absent(provider_type, identity_id):
            return None
        row = await self._read(_one(
            "SELECT user_id FROM identities WHERE provider_type=%s AND id=%s",
            (provider_type, identity_id)))
        return None if row is None else str(row["user_id"])

    async def add_identity(self, user_id: str, identity: Identity) -> None:
        async def fn(c: Cursor) -> None:
            # Locking the user serialises appends, so two identities never share a position,
            # and waits for a concurrent deletion, after which the user is gone.
            await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (user_id,))
            if await c.fetchone() is None:
                raise Conflict("user does not exist")
            await c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p"
                            " FROM identities WHERE user_id=%s", (user_id,))
            position = int(_row(await c.fetchone())["p"])
            await _insert_identity(c, user_id, identity, position, time.time())

        if _absent(user_id):
            raise Conflict("user does not exist")
        await self._run(fn)

    async def update_identity_data(
        self, provider_type: str, identity_id: str, data: dict[str, Any]
    ) -> None:
        if not _absent(provider_type, identity_id):
            await self._run(_exec("UPDATE identities SET data=%s WHERE provider_type=%s AND id=%s",
                                  (json.dumps(data), provider_type, identity_id)))

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        async def fn(c: Cursor) -> bool:
            if disabled:
                await c.execute("DELETE FROM sessions WHERE user_id=%s", (user_id,))
            await c.execute("UPDATE users SET disabled=%s WHERE id=%s", (int(disabled), user_id))
            return bool(c.rowcount)

        if _absent(user_id):
            return False
        return await self._run(fn)

    async def touch_login(self, user_id: str, when: float) -> None:
        if not _absent(user_id):
            await self._run(_exec("UPDATE users SET last_login_at=%s WHERE id=%s",
                                  (when, user_id)))

    async def delete_user(self, user_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            # Lock the user first, so an identity appended concurrently either lands before
            # this deletion (and goes with it) or finds the user gone.
            await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (user_id,))
            if await c.fetchone() is None:
                return False
            await c.execute(
                "DELETE FROM userpass_tokens WHERE email IN (SELECT email FROM userpass_accounts"
                " WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=%s AND provider_type='local-userpass'))", (user_id,))
            await c.execute(
                "DELETE FROM userpass_accounts WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=%s AND provider_type='local-userpass')", (user_id,))
            await c.execute("DELETE FROM sessions WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM api_keys WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM identities WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM users WHERE id=%s", (user_id,))
            return True

        if _absent(user_id):
            return False
        return await self._run(fn)

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
            await self._run(_exec("UPDATE userpass_accounts SET confirmed=1 WHERE email=%s",
                                  (email,)))

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
        await self._run(_exec(
            "INSERT INTO userpass_tokens(token_id, token_hash, email, kind, password_hash,"
            " expires_at, used) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (token.token_id, token.token_hash, token.email, token.kind, token.password_hash,
             token.expires_at, int(token.used))))

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

    # Sessions.
    async def create_session(self, session: Session) -> None:
        await self._run(_exec(
            "INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (session.id, session.user_id, session.token_hash, session.device_id,
             session.api_key_id, session.created_at, session.expires_at)))

    async def get_session(self, session_id: str) -> Session | None:
        if _absent(session_id):
            return None
        row = await self._read(_one("SELECT * FROM sessions WHERE id=%s", (session_id,)))
        if row is None:
            return None
        return Session(str(row["id"]), str(row["user_id"]), str(row["token_hash"]),
                       str(row["device_id"]), float(row["created_at"]),
                       float(row["expires_at"]), _opt_str(row["api_key_id"]))

    async def delete_session(self, session_id: str) -> bool:
        if _absent(session_id):
            return False
        return bool(await self._run(_exec("DELETE FROM sessions WHERE id=%s", (session_id,))))

    # API keys.
    async def create_api_key(self, key: ApiKey) -> None:
        await self._run(_exec(
            "INSERT INTO api_keys(id, user_id, name, key_hash, disabled, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key.id, key.user_id, key.name, key.key_hash, int(key.disabled), key.created_at)))

    async def list_api_keys(self, user_id: str) -> list[ApiKey]:
        if _absent(user_id):
            return []
        rows = await self._read(_all('SELECT * FROM api_keys WHERE user_id=%s'
                                    ' ORDER BY created_at, id COLLATE "C"', (user_id,)))
        return [_api_key(r) for r in rows]

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        if _absent(key_id):
            return None
        row = await self._read(_one("SELECT * FROM api_keys WHERE id=%s", (key_id,)))
        return None if row is None else _api_key(row)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        if _absent(key_hash):
            return None
        row = await self._read(_one("SELECT * FROM api_keys WHERE key_hash=%s", (key_hash,)))
        return None if row is None else _api_key(row)

    async def set_api_key_disabled(self, key_id: str, disabled: bool) -> bool:
        async def fn(c: Cursor) -> bool:
            if disabled:
                await c.execute("DELETE FROM sessions WHERE api_key_id=%s", (key_id,))
            await c.execute("UPDATE api_keys SET disabled=%s WHERE id=%s",
                            (int(disabled), key_id))
            return bool(c.rowcount)

        if _absent(key_id):
            return False
        return await self._run(fn)

    async def delete_api_key(self, key_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("DELETE FROM sessions WHERE api_key_id=%s", (key_id,))
            await c.execute("DELETE FROM api_keys WHERE id=%s", (key_id,))
            return bool(c.rowcount)

        if _absent(key_id):
            return False
        return await self._run(fn)

    # Documents.
    async def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        if _absent(collection, key):
            return None
        row = await self._read(_one("SELECT doc FROM documents WHERE collection=%s AND key=%s",
                                   (collection, key)))
        return None if row is None else ejson.loads_doc(str(row["doc"]))

    async def put_document(self, collection: str, key: str, doc: dict[str, Any]) -> None:
        await self._run(_exec(
            "INSERT INTO documents(collection, key, doc) VALUES (%s, %s, %s)"
            " ON CONFLICT (collection, key) DO UPDATE SET doc=excluded.doc",
            (collection, key, ejson.dumps_canonical(doc))))

    async def delete_document(self, collection: str, key: str) -> bool:
        if _absent(collection, key):
            return False
        return bool(await self._run(_exec(
            "DELETE FROM documents WHERE collection=%s AND key=%s", (collection, key))))

    # Rate limits.
    async def hit_rate(self, key: str, window: float, now: float, limit: int) -> bool:
        purge = now >= self._next_purge
        if purge:
            self._next_purge = now + RATE_PURGE_SECONDS

        async def fn(c: Cursor) -> bool:
            if purge:
                # SKIP LOCKED: processes purging at once split the rows instead of queueing.
                await c.execute("DELETE FROM rate_events WHERE ctid IN (SELECT ctid FROM"
                                " rate_events WHERE expires_at <= %s FOR UPDATE SKIP LOCKED)",
                                (now,))
            # Under READ COMMITTED two processes could both count limit - 1 and both insert; a
            # lock per key (held to commit) makes count-and-insert one step.
            await c.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                            (RATE_LOCK_CLASS, key))
            if await _count(c, key, now - window) >= limit:
                return False
            await c.execute("INSERT INTO rate_events(key, at, expires_at) VALUES (%s, %s, %s)",
                            (key, now, now + window))
            return True

        return await self._run(fn)

    async def rate_count(self, key: str, window: float, now: float) -> int:
        if _absent(key):
            return 0
        return await self._run(lambda c: _count(c, key, now - window))

    async def reset_rate(self, key: str) -> None:
        if not _absent(key):
            await self._run(_exec("DELETE FROM rate_events WHERE key=%s", (key,)))

    # Access tokens (issue 16): the user behind a token only while its session lives.
    async def get_user_for_session(self, user_id: str, session_id: str) -> UserRecord | None:
        if _absent(user_id, session_id):
            return None
        # One statement, so the session check costs no round trip over loading the user.
        row = await self._read(_one(
            _USER + " JOIN sessions s ON s.user_id = u.id WHERE s.id=%s AND u.id=%s",
            (session_id, user_id)))
        return None if row is None else _user(row)


async def _count(c: Cursor, key: str, after: float) -> int:
    await c.execute("SELECT COUNT(*) AS n FROM rate_events WHERE key=%s AND at > %s",
                    (key, after))
    return int(_row(await c.fetchone())["n"])


async def _create_schema(c: Cursor) -> None:
    await c.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    added = await email_keys.add_column_postgres(c)
    for stmt in schema_statements():
        # The statements come from the packaged schema.sql, never from input; psycopg takes
        # them as bytes because they are not literals in this file.
        await c.execute(stmt.encode())
    if added:
        await email_keys.fill_postgres(c)
    await c.execute("INSERT INTO meta(key, value) VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO NOTHING", (SCHEMA_VERSION,))


def _absent(*keys: str) -> bool:
    return any("\x00" in k for k in keys)


def _one(
    query: LiteralString, params: tuple[Any, ...]
) -> Callable[[Cursor], Awaitable[DictRow | None]]:
    async def fn(c: Cursor) -> DictRow | None:
        await c.execute(query, params)
        return await c.fetchone()

    return fn


def _all(
    query: LiteralString, params: tuple[Any, ...]
) -> Callable[[Cursor], Awaitable[list[DictRow]]]:
    async def fn(c: Cursor) -> list[DictRow]:
        await c.execute(query, params)
        return await c.fetchall()

    return fn


def _exec(query: LiteralString, params: tuple[Any, ...]) -> Callable[[Cursor], Awaitable[int]]:
    async def fn(c: Cursor) -> int:
        await c.execute(query, params)
        return c.rowcount

    return fn


def _row(row: DictRow | None) -> DictRow:
    if row is None:
        raise RuntimeError("The database returned no row where one must exist.")
    return row


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


async def _insert_identity(c: Cursor, user_id: str, ident: Identity, pos: int, when: float) -> None:
    await c.execute(
        "INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (ident.provider_type, ident.id, user_id, ident.provider_id, json.dumps(ident.data), pos,
         when))


def _user(row: DictRow) -> UserRecord:
    idents = tuple(Identity(str(t), str(i), str(p), json.loads(d))
                   for t, i, p, d in (row["identities"] or ()))
    last = row["last_login_at"]
    return UserRecord(str(row["id"]), str(row["type"]), bool(row["disabled"]),
                      float(row["created_at"]), idents, json.loads(row["data"]),
                      None if last is None else float(last))


def _api_key(row: DictRow) -> ApiKey:
    return ApiKey(str(row["id"]), str(row["user_id"]), str(row["name"]), str(row["key_hash"]),
                  bool(row["disabled"]), float(row["created_at"]))
