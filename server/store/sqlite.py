"""The embedded store: one SQLite file in WAL mode, through the stdlib ``sqlite3``.

Rules that must hold:

1. Every method that writes runs in a worker thread under one lock and one transaction
   (``BEGIN IMMEDIATE`` ... ``COMMIT``), so the event loop never waits on a write (or its disk
   sync) and a multi-row change is all or nothing. SQLite serialises writers anyway; one writing
   connection keeps that simple and safe.
2. Small reads by key (a session, a user, a document: what every authenticated request does)
   run inline, in one read transaction on a read-only connection of the calling thread. In WAL
   mode a reader never waits for the writer, and such a read costs a few microseconds from
   SQLite's page cache, far less than the hop to a worker thread and back that it used to take.
   A read that finds the database busy (rare in WAL mode) is retried on the worker thread.
   An in-memory database has one connection only, so there every call takes the worker thread.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

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

T = TypeVar("T")
SCHEMA_VERSION = "1"


def schema_statements() -> list[str]:
    """The schema as a list of SQL statements (shared with the PostgreSQL store)."""
    text = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]


class SQLiteStore:
    """``Store`` on a SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        # Read connections, one per thread that reads inline (rule 2), all closed by close().
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._inline_reads = self.path != ":memory:" and not self.path.startswith("file:")
        self._next_purge = 0.0

    async def open(self) -> None:
        await asyncio.to_thread(self._open_sync)

    def _open_sync(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=10000")
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        with self._tx() as cur:
            added = email_keys.add_column_sqlite(cur)
            for stmt in schema_statements():
                cur.execute(stmt)
            if added:
                email_keys.fill_sqlite(cur)
            cur.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )

    async def close(self) -> None:
        with self._lock:
            readers, self._readers = self._readers, []
            self._local = threading.local()
        for reader in readers:
            reader.close()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        if self._conn is None:
            raise RuntimeError("The store is not open.")
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    async def _run(self, fn: Callable[[sqlite3.Cursor], T]) -> T:
        def work() -> T:
            with self._lock, self._tx() as cur:
                try:
                    return fn(cur)
                except sqlite3.IntegrityError as exc:
                    raise Conflict(str(exc)) from exc

        return await asyncio.to_thread(work)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only=ON")
            # Never hold the event loop for long: a busy database sends the read to a thread.
            conn.execute("PRAGMA busy_timeout=20")
            with self._lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    async def _read(self, fn: Callable[[sqlite3.Cursor], T]) -> T:
        """Run a small read inline (rule 2), or in the worker thread when it cannot be."""
        if not self._inline_reads or self._conn is None:
            return await self._run(fn)
        try:
            conn = self._reader()
            cur = conn.cursor()
            try:
                cur.execute("BEGIN")
                return fn(cur)
            finally:
                if conn.in_transaction:
                    conn.rollback()  # A read-only transaction: ending it either way is the same.
                cur.close()
        except sqlite3.OperationalError:
            return await self._run(fn)

    # Meta.
    async def get_meta(self, key: str) -> str | None:
        row = await self._read(lambda c: c.execute(
            "SELECT value FROM meta WHERE key=?", (key,)).fetchone())
        return None if row is None else str(row["value"])

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        def fn(c: sqlite3.Cursor) -> str:
            c.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
            return str(c.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()["value"])

        return await self._run(fn)

    # Users and identities.
    async def create_user(self, user: UserRecord, identity: Identity | None) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            c.execute(
                "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (user.id, user.type, int(user.disabled), json.dumps(user.data),
                 user.created_at, user.last_login_at),
            )
            if identity is not None:
                _insert_identity(c, user.id, identity, 0, user.created_at)

        await self._run(fn)

    async def get_user(self, user_id: str) -> UserRecord | None:
        return await self._read(lambda c: _load_user(c, user_id))

    async def list_users(self) -> list[UserRecord]:
        def fn(c: sqlite3.Cursor) -> list[UserRecord]:
            ids = [r["id"] for r in c.execute("SELECT id FROM users ORDER BY created_at, id")]
            return [u for u in (_load_user(c, i) for i in ids) if u is not None]

        return await self._run(fn)

    async def find_user_by_identity(self, provider_type: str, identity_id: str) -> str | None:
        row = await self._read(lambda c: c.execute(
            "SELECT user_id FROM identities WHERE provider_type=? AND id=?",
            (provider_type, identity_id)).fetchone())
        return None if row is None else str(row["user_id"])

    async def add_identity(self, user_id: str, identity: Identity) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            row = c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p, "
                            "(SELECT created_at FROM users WHERE id=?) AS t "
                            "FROM identities WHERE user_id=?", (user_id, user_id)).fetchone()
            if row["t"] is None:
                raise Conflict("user does not exist")
            _insert_identity(c, user_id, identity, int(row["p"]), _now())

        await self._run(fn)

    async def update_identity_data(
        self, provider_type: str, identity_id: str, data: dict[str, Any]
    ) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE identities SET data=? WHERE provider_type=? AND id=?",
            (json.dumps(data), provider_type, identity_id)))

    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        def fn(c: sqlite3.Cursor) -> int:
            if disabled:
                c.execute("DELETE FROM sessions WHERE user_id=?", (user_id,))
            return int(c.execute(
                "UPDATE users SET disabled=? WHERE id=?", (int(disabled), user_id)).rowcount)

        return bool(await self._run(fn))

    async def touch_login(self, user_id: str, when: float) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE users SET last_login_at=? WHERE id=?", (when, user_id)))

    async def delete_user(self, user_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute(
                "DELETE FROM userpass_tokens WHERE email IN (SELECT email FROM userpass_accounts"
                " WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=? AND provider_type='local-userpass'))", (user_id,))
            c.execute(
                "DELETE FROM userpass_accounts WHERE id IN (SELECT id FROM identities"
                " WHERE user_id=? AND provider_type='local-userpass')", (user_id,))
            for table in ("sessions", "api_keys", "identities"):
                c.execute(f"DELETE FROM {table} WHERE user_id=?", (user_id,))
            return bool(c.execute("DELETE FROM users WHERE id=?", (user_id,)).rowcount)

        return await self._run(fn)

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

    # Sessions.
    async def create_session(self, session: Session) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO sessions(id, user_id, token_hash, device_id, api_key_id, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session.id, session.user_id, session.token_hash, session.device_id,
             session.api_key_id, session.created_at, session.expires_at)))

    async def get_session(self, session_id: str) -> Session | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone())
        if row is None:
            return None
        return Session(row["id"], row["user_id"], row["token_hash"], row["device_id"],
                       row["created_at"], row["expires_at"], row["api_key_id"])

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM sessions WHERE id=?", (session_id,)).rowcount))

    # API keys.
    async def create_api_key(self, key: ApiKey) -> None:
        await self._run(lambda c: c.execute(
            "INSERT INTO api_keys(id, user_id, name, key_hash, disabled, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key.id, key.user_id, key.name, key.key_hash, int(key.disabled), key.created_at)))

    async def list_api_keys(self, user_id: str) -> list[ApiKey]:
        rows = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE user_id=? ORDER BY created_at, id",
            (user_id,)).fetchall())
        return [_api_key(r) for r in rows]

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE id=?", (key_id,)).fetchone())
        return None if row is None else _api_key(row)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM api_keys WHERE key_hash=?", (key_hash,)).fetchone())
        return None if row is None else _api_key(row)

    async def set_api_key_disabled(self, key_id: str, disabled: bool) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if disabled:
                c.execute("DELETE FROM sessions WHERE api_key_id=?", (key_id,))
            return bool(c.execute("UPDATE api_keys SET disabled=? WHERE id=?",
                                  (int(disabled), key_id)).rowcount)

        return await self._run(fn)

    async def delete_api_key(self, key_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute("DELETE FROM sessions WHERE api_key_id=?", (key_id,))
            return bool(c.execute("DELETE FROM api_keys WHERE id=?", (key_id,)).rowcount)

        return await self._run(fn)

    # Documents.
    async def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM documents WHERE collection=? AND key=?", (collection, key)).fetchone())
        return None if row is None else ejson.loads_doc(row["doc"])

    async def put_document(self, collection: str, key: str, doc: dict[str, Any]) -> None:
        text = ejson.dumps_canonical(doc)
        await self._run(lambda c: c.execute(
            "INSERT INTO documents(collection, key, doc) VALUES (?, ?, ?)"
            " ON CONFLICT(collection, key) DO UPDATE SET doc=excluded.doc",
            (collection, key, text)))

    async def delete_document(self, collection: str, key: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM documents WHERE collection=? AND key=?", (collection, key)).rowcount))

    # Rate limits.
    async def hit_rate(self, key: str, window: float, now: float, limit: int) -> bool:
        purge = now >= self._next_purge
        if purge:
            self._next_purge = now + RATE_PURGE_SECONDS

        def fn(c: sqlite3.Cursor) -> bool:
            if purge:
                c.execute("DELETE FROM rate_events WHERE expires_at <= ?", (now,))
            # BEGIN IMMEDIATE holds the write lock of the file, across processes too, from the
            # count to the insert: no other hit can slip in between.
            if _count(c, key, now - window) >= limit:
                return False
            c.execute("INSERT INTO rate_events(key, at, expires_at) VALUES (?, ?, ?)",
                      (key, now, now + window))
            return True

        return await self._run(fn)

    async def rate_count(self, key: str, window: float, now: float) -> int:
        return await self._run(lambda c: _count(c, key, now - window))

    async def reset_rate(self, key: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM rate_events WHERE key=?", (key,)))

    # Access tokens (issue 16): the user behind a token only while its session lives.
    async def get_user_for_session(self, user_id: str, session_id: str) -> UserRecord | None:
        def fn(c: sqlite3.Cursor) -> UserRecord | None:
            row = c.execute("SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id"
                            " WHERE s.id=? AND s.user_id=?", (session_id, user_id)).fetchone()
            return None if row is None else _user_of_row(c, row)

        return await self._read(fn)


def _count(c: sqlite3.Cursor, key: str, after: float) -> int:
    row = c.execute("SELECT COUNT(*) AS n FROM rate_events WHERE key=? AND at > ?",
                    (key, after)).fetchone()
    return int(row["n"])


def _switch_to_wal(conn: sqlite3.Connection, seconds: float = 10.0) -> None:
    # Switching a new file to WAL needs the file to itself: another process opening it at the
    # same moment makes the switch fail at once with "database is locked" (SQLite does not wait
    # on its busy timeout there), so try again for a while.
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _now() -> float:
    return time.time()


def _insert_identity(
    c: sqlite3.Cursor, user_id: str, ident: Identity, pos: int, when: float
) -> None:
    c.execute(
        "INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ident.provider_type, ident.id, user_id, ident.provider_id, json.dumps(ident.data), pos,
         when),
    )


def _load_user(c: sqlite3.Cursor, user_id: str) -> UserRecord | None:
    row = c.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
    return None if row is None else _user_of_row(c, row)


def _user_of_row(c: sqlite3.Cursor, row: sqlite3.Row) -> UserRecord:
    idents = tuple(
        Identity(r["provider_type"], r["id"], r["provider_id"], json.loads(r["data"]))
        for r in c.execute("SELECT * FROM identities WHERE user_id=? ORDER BY position",
                           (row["id"],))
    )
    return UserRecord(row["id"], row["type"], bool(row["disabled"]), row["created_at"], idents,
                      json.loads(row["data"]), row["last_login_at"])


def _api_key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(row["id"], row["user_id"], row["name"], row["key_hash"], bool(row["disabled"]),
                  row["created_at"])
