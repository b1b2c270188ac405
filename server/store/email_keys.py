"""The normalised email key of email/password accounts, and the migration that adds it.

``userpass_accounts.email_key`` holds ``server.emails.email_key(email)`` under a unique index,
so two spellings of one address cannot both register, and a lookup finds the account whatever
the case or Unicode form typed. ``email`` keeps the address as typed at registration.

Rule 1: a store made before the column existed gets it at ``open``, in the transaction that
creates the schema: the column is added and filled, oldest account first, or nothing is.

Rule 2: the migration never fails and never loses a row. Where old data holds two accounts
whose addresses are one after normalisation, the oldest gets the key; each newer one keeps no
key (NULL, which the unique index allows any number of) and logs in by its exact address only,
as before. A warning names the addresses, so an operator can merge or delete them.

Rule 3: ``serve.py migrate-store`` from such an old SQLite file fills the keys on the target
the same way (``fill_postgres``).

Rule 4: a lookup prefers the exact address, then the key. So each of two colliding accounts
stays reachable by the address it registered with, and every other spelling finds the owner.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..emails import email_key

if TYPE_CHECKING:  # The SQLite store never imports psycopg.
    from psycopg import AsyncCursor
    from psycopg.rows import DictRow

log = logging.getLogger("latchkey.server")

ADD_COLUMN = "ALTER TABLE userpass_accounts ADD COLUMN email_key TEXT"
_UNKEYED = "SELECT email, created_at FROM userpass_accounts WHERE email_key IS NULL"
_KEYED = "SELECT email_key FROM userpass_accounts WHERE email_key IS NOT NULL"


def assign(rows: Iterable[tuple[str, float]], taken: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(key, email)`` for accounts ``(email, created_at)`` without a key, oldest first.

    An account whose key is taken (by ``taken`` or an older account) gets none; a warning names
    it and the address that owns the key.
    """
    owners: dict[str, str] = {key: "" for key in taken}
    out: list[tuple[str, str]] = []
    for email, _ in sorted(rows, key=lambda r: (r[1], r[0])):
        key = email_key(email)
        if key in owners:
            owner = owners[key] or "an account that has it already"
            log.warning("email/password account %r is the same address as %r once case and "
                        "Unicode form are ignored; it keeps logging in by its exact address "
                        "only. Merge or delete one of them.", email, owner)
            continue
        owners[key] = email
        out.append((key, email))
    return out


def add_column_sqlite(c: sqlite3.Cursor) -> bool:
    """Add the column to a store made before it; whether it was added (then fill it)."""
    columns = {r[1] for r in c.execute("PRAGMA table_info(userpass_accounts)")}
    if not columns or "email_key" in columns:
        return False  # A new store (the schema creates the column) or one migrated already.
    c.execute(ADD_COLUMN)
    return True


def fill_sqlite(c: sqlite3.Cursor) -> None:
    """Give every account without a key its key, as ``assign`` says."""
    rows = [(str(r[0]), float(r[1])) for r in c.execute(_UNKEYED)]
    taken = [str(r[0]) for r in c.execute(_KEYED)]
    c.executemany("UPDATE userpass_accounts SET email_key=? WHERE email=?", assign(rows, taken))


async def add_column_postgres(c: AsyncCursor[DictRow]) -> bool:
    """``add_column_sqlite`` on PostgreSQL (a cursor with dict rows)."""
    # to_regclass resolves the name on the search_path, as the schema's statements do.
    await c.execute("SELECT to_regclass('userpass_accounts') IS NOT NULL AS present,"
                    " EXISTS (SELECT 1 FROM pg_attribute"
                    " WHERE attrelid = to_regclass('userpass_accounts')"
                    " AND attname = 'email_key' AND NOT attisdropped) AS migrated")
    row = await c.fetchone()
    if row is None or not row["present"] or row["migrated"]:
        return False
    await c.execute(ADD_COLUMN)
    return True


async def fill_postgres(c: AsyncCursor[DictRow]) -> None:
    """``fill_sqlite`` on PostgreSQL (a cursor with dict rows)."""
    await c.execute(_UNKEYED)
    rows = [(str(r["email"]), float(r["created_at"])) for r in await c.fetchall()]
    await c.execute(_KEYED)
    taken = [str(r["email_key"]) for r in await c.fetchall()]
    pairs = assign(rows, taken)
    if pairs:
        await c.executemany("UPDATE userpass_accounts SET email_key=%s WHERE email=%s", pairs)
