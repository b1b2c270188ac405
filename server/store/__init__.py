"""Stores: the ``Store`` protocol and its implementations, chosen by a database URL.

``server.store.postgres`` is imported only for a ``postgresql://`` URL, since psycopg is the
optional ``postgres`` extra; SQLite needs nothing beyond the standard library.
"""

from __future__ import annotations

from pathlib import Path

from .base import Conflict, Store
from .sqlite import SQLiteStore

__all__ = ["Conflict", "SQLiteStore", "Store", "is_shared", "open_store_for"]


def open_store_for(database_url: str, data_dir: Path) -> Store:
    """The store for a URL: ``sqlite:PATH`` (the default, in the data dir) or ``postgresql://``.

    ```python
    open_store_for("postgresql://latchkey@db.internal/latchkey", data_dir)
    ```
    """
    if database_url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise ValueError("A postgresql:// database needs psycopg and asyncpg: install the "
                             "postgres extra "
                             "(pip install -e '.[server,postgres]').") from exc
        return PostgresStore(database_url)
    if database_url.startswith("sqlite:"):
        path = database_url.removeprefix("sqlite:").removeprefix("//")
        return SQLiteStore(path if path == ":memory:" else Path(path))
    raise ValueError(f"Unsupported database URL scheme in {database_url.split(':', 1)[0]!r}.")


def is_shared(store: Store) -> bool:
    """Whether the store may serve processes on other machines, which share no data dir.

    Secrets that every process must agree on, such as the token signing key, then live in the
    store (``set_meta_if_absent``) instead of a file in the data dir. A SQLite file is only ever
    shared by processes on one machine, which see the same data dir.
    """
    return not isinstance(store, SQLiteStore)
