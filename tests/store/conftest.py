"""Fixtures of the store contract suite: one ``store`` per test, on each ``Store`` implementation.

``database_url`` is parametrised: ``sqlite`` always, ``postgres`` on ``TEST_DATABASE_URL`` or a
private throwaway cluster (``tests/postgres_fixture.py``), skipped with the reason when neither
is there (``postgres_server`` in ``tests/conftest.py``, one per session). Each PostgreSQL
test gets a new empty schema, so no test sees another's rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from server.store import Store, open_store_for
from tests.postgres_fixture import PostgresServer


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'store.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_url()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store(database_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store on an empty database, closed after the test."""
    opened = open_store_for(database_url, tmp_path)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def open_stores(
    database_url: str, tmp_path: Path
) -> AsyncIterator[Callable[[int], Awaitable[list[Store]]]]:
    """``await open_stores(n)``: n stores opened together on one database, like n processes.

    Each has its own connections, so races between them are real races in the database.
    """
    opened: list[Store] = []

    async def factory(n: int) -> list[Store]:
        stores = [open_store_for(database_url, tmp_path) for _ in range(n)]
        try:
            await asyncio.gather(*(s.open() for s in stores))
        finally:
            opened.extend(stores)
        return stores

    yield factory
    await asyncio.gather(*(s.close() for s in opened))
