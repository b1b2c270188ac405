"""Stores: the ``Store`` protocol and its implementations, chosen by a database URL."""

from __future__ import annotations

from pathlib import Path

from .base import Conflict, Store
from .sqlite import SQLiteStore

__all__ = ["Conflict", "SQLiteStore", "Store", "open_store_for"]


def open_store_for(database_url: str, data_dir: Path) -> Store:
    """The store for a URL: ``sqlite:PATH`` (the default, in the data dir) or ``postgresql://``."""
    if database_url.startswith(("postgresql://", "postgres://")):
        raise ValueError("PostgreSQL support is not built yet; use the embedded SQLite store.")
    if database_url.startswith("sqlite:"):
        path = database_url.removeprefix("sqlite:").removeprefix("//")
        return SQLiteStore(path if path == ":memory:" else Path(path))
    raise ValueError(f"Unsupported database URL scheme in {database_url.split(':', 1)[0]!r}.")
