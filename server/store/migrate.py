"""Copying an embedded SQLite store into PostgreSQL: ``serve.py migrate-store``.

Rule 1: the copy is one transaction on the target. It commits with every row or not at all, so
a failure half way (a lost connection, a value PostgreSQL cannot hold) leaves the target as it
was. The target's tables are locked for the copy, so a server already running on it waits.

Rule 2: a target that holds data is refused unless ``force`` is given, which replaces it.

Rule 3: the source is read in one read transaction (a WAL snapshot), so a server still running
on it cannot tear the copy; what it writes after the snapshot is not copied, so stop it first.

The rows move as they are, table by table in foreign-key order, through ``COPY``: the schema is
the same on both sides (``schema.sql``). Rate limit events are not copied; they are minutes old
at most and only slow down logins. The SQLite store's signing key, a file in its data dir,
becomes the target's ``signing_key`` meta row, so tokens issued before the move stay valid.

```python
counts = await migrate_store(Path("data/latchkey.sqlite3"), "postgresql://latchkey@db/latchkey",
                             signing_key_file=Path("data/signing-key"))
```
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from . import email_keys
from .postgres import PostgresStore

#: The copied tables in foreign-key order, with their columns (``schema.sql``).
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("id", "type", "disabled", "data", "created_at", "last_login_at")),
    ("identities", ("provider_type", "id", "user_id", "provider_id", "data", "position",
                    "created_at")),
    ("userpass_accounts", ("email", "id", "password_hash", "confirmed", "created_at",
                           "email_key")),
    ("userpass_tokens", ("token_id", "token_hash", "email", "kind", "password_hash",
                         "expires_at", "used")),
    ("sessions", ("id", "user_id", "token_hash", "device_id", "api_key_id", "created_at",
                  "expires_at")),
    ("api_keys", ("id", "user_id", "name", "key_hash", "disabled", "created_at")),
    ("documents", ("collection", "key", "doc")),
    ("admin_keys", ("id", "name", "public_key", "key_hash", "disabled", "created_at")),
    ("admin_sessions", ("id", "key_id", "token_hash", "device_id", "created_at",
                        "expires_at")),
)
#: Tables added to the schema later: a source made before them has none, and copies no rows.
LATER_TABLES = frozenset({"admin_keys", "admin_sessions"})
#: Tables emptied by ``force``; ``meta`` is merged instead, keeping the target's schema version.
REPLACED = (*(name for name, _ in TABLES), "rate_events")
SIGNING_KEY = "signing_key"


class MigrateError(Exception):
    """The copy cannot be made; the message says why and what to do. Nothing was written."""


async def migrate_store(source: Path, target_url: str, *, force: bool = False,
                        signing_key_file: Path | None = None) -> dict[str, int]:
    """Copy the SQLite store at ``source`` into the PostgreSQL database ``target_url``.

    Returns the number of rows copied per table, plus ``meta`` (meta rows, the signing key
    included) and ``signing_key`` (1 when a key file was found and copied).
    """
    key = _read_signing_key(signing_key_file)
    with _snapshot(source) as src:  # The source is checked before the target is touched.
        target = PostgresStore(target_url, min_size=1, max_size=1)
        try:
            await target.open()  # Creates the schema, under the lock a starting server takes.
        finally:
            await target.close()
        conn = await AsyncConnection.connect(target_url, autocommit=True)
        async with conn, conn.transaction():
            await _lock_and_check(conn, force)
            counts = {name: await _copy(src, conn, name, _present(src, name, cols))
                      for name, cols in TABLES if _has_table(src, name)}
            if "email_key" not in _present(src, "userpass_accounts", ("email_key",)):
                # A source from before normalised addresses: the target fills them in, as
                # opening that source would have (email_keys).
                async with conn.cursor(row_factory=dict_row) as cur:
                    await email_keys.fill_postgres(cur)
            counts["meta"] = await _copy_meta(src, conn, key)
            await _verify(conn, counts)
    counts["signing_key"] = int(key is not None)
    return counts


def _read_signing_key(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrateError(f"Cannot read the signing key {path}: {exc}.") from exc
    if len(key) < 32:
        raise MigrateError(f"The signing key {path} is damaged (too short); nothing was copied.")
    return key


@contextmanager
def _snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise MigrateError(f"There is no SQLite store at {path}.")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)
    except sqlite3.Error as exc:
        raise MigrateError(f"Cannot open the SQLite store {path}: {exc}.") from exc
    with closing(conn):
        try:
            conn.execute("BEGIN")
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master"
                                                " WHERE type='table'")}
        except sqlite3.Error as exc:
            raise MigrateError(f"{path} is not a readable SQLite database: {exc}.") from exc
        missing = sorted({name for name, _ in TABLES} - names - LATER_TABLES)
        if missing:
            raise MigrateError(f"{path} is not a Latchkey store: it has no table "
                               f"{', '.join(missing)}.")
        yield conn


async def _lock_and_check(conn: AsyncConnection[Any], force: bool) -> None:
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in REPLACED)
    # Servers on the target wait for the copy instead of writing into the middle of it.
    await conn.execute(sql.SQL("LOCK TABLE {}, meta IN ACCESS EXCLUSIVE MODE").format(tables))
    held = []
    for name, _ in TABLES:
        cur = await conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(name)))
        row = await cur.fetchone()
        if row and row[0]:
            held.append(f"{row[0]} {name}")
    if held and not force:
        raise MigrateError(f"The target database is not empty (it holds {', '.join(held)}); "
                           "pass --force to replace its contents. Nothing was copied.")
    if held:
        await conn.execute(sql.SQL("TRUNCATE {}").format(tables))


async def _copy(src: sqlite3.Connection, conn: AsyncConnection[Any], table: str,
                cols: tuple[str, ...]) -> int:
    names = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    select = f"SELECT {', '.join(cols)} FROM {table}"  # Names from TABLES, never from input.
    count = 0
    async with conn.cursor() as cur, cur.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)) as copy:
        for row in src.execute(select):
            _check_row(table, cols, row)
            await copy.write_row(row)
            count += 1
    return count


def _has_table(src: sqlite3.Connection, table: str) -> bool:
    return src.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                       (table,)).fetchone() is not None


def _present(src: sqlite3.Connection, table: str, cols: tuple[str, ...]) -> tuple[str, ...]:
    # Columns added to the schema later (email_key) may be missing from an older source.
    have = {str(r[1]) for r in src.execute(f"PRAGMA table_info({table})")}
    return tuple(c for c in cols if c in have)


def _check_row(table: str, cols: tuple[str, ...], row: tuple[Any, ...]) -> None:
    for col, value in zip(cols, row, strict=True):
        if isinstance(value, str) and "\x00" in value:
            raise MigrateError(
                f"{table}.{col} of the row {cols[0]}={row[0]!r} holds a NUL character, which "
                "PostgreSQL text cannot store; fix or delete that row in the SQLite store "
                "(nothing was copied).")
        if isinstance(value, bytes):
            raise MigrateError(f"{table}.{col} of the row {cols[0]}={row[0]!r} holds binary "
                               "data where text belongs; nothing was copied.")


async def _copy_meta(src: sqlite3.Connection, conn: AsyncConnection[Any],
                     key: str | None) -> int:
    # The target's schema_version is the target's own; every other row comes across, and the
    # signing key file (when there is one) wins over any key row, as it is what signed the
    # tokens now in the clients' hands.
    rows = [(str(k), str(v)) for k, v in src.execute("SELECT key, value FROM meta")
            if k != "schema_version"]
    if key is not None:
        rows = [r for r in rows if r[0] != SIGNING_KEY] + [(SIGNING_KEY, key)]
    for k, v in rows:
        _check_row("meta", ("key", "value"), (k, v))
        await conn.execute("INSERT INTO meta(key, value) VALUES (%s, %s)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (k, v))
    return len(rows)


async def _verify(conn: AsyncConnection[Any], counts: dict[str, int]) -> None:
    for name, _ in TABLES:
        cur = await conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(name)))
        row = await cur.fetchone()
        if row is None or row[0] != counts.get(name, 0):
            raise MigrateError(f"The target's {name} table has {row and row[0]} rows after the "
                               f"copy, not {counts.get(name, 0)}; nothing was copied.")


def describe_url(url: str) -> str:
    """A database URL fit to print: a password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is not None:
        user, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}")
    return urlunsplit(parts._replace(query=re.sub(r"(password=)[^&]*", r"\1***", parts.query)))
