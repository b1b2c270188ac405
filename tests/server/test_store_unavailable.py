"""A store that cannot be reached answers 503 ``ServiceUnavailable`` with ``Retry-After``
(review finding H): with PostgreSQL cut off every API call was a 500 ``InternalServerError``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from server import create_app
from server.store_unavailable import is_store_unavailable
from tests.conftest import TEST_STORE, make_settings

from .helpers import Api, assert_error
from .test_observability import settings_behind_a_proxy


def _assert_503(resp) -> None:
    assert_error(resp, 503, "ServiceUnavailable")
    assert resp.headers["retry-after"] == "5"


@pytest.mark.skipif(TEST_STORE != "postgres", reason="cuts a PostgreSQL connection")
def test_api_calls_are_503_while_postgres_cannot_be_reached(tmp_path: Path) -> None:
    settings, proxy = settings_behind_a_proxy(tmp_path)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        session = api.anon_ok()
        proxy.cut()
        _assert_503(api.anon())
        _assert_503(api.profile(session["access_token"]))
        _assert_503(api.refresh(session["refresh_token"]))
        assert client.get("/health/ready").status_code == 503


def test_a_locked_sqlite_database_is_503(tmp_path: Path) -> None:
    # A real "database is locked": a second connection holds the write lock, and this one
    # gives up at once instead of after the store's busy timeout.
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError as exc:
        locked = exc
    holder.close()
    assert is_store_unavailable(locked)

    async def busy(request):
        raise locked

    app = create_app(make_settings(tmp_path / "data"))
    app.router.routes.insert(0, Route("/api/client/v2.0/busy", busy))
    with TestClient(app, raise_server_exceptions=False) as client:
        _assert_503(client.get("/api/client/v2.0/busy"))


def test_a_connection_error_elsewhere_stays_a_500(tmp_path: Path) -> None:
    async def broken_pipe(request):
        raise BrokenPipeError("a function worker went away")

    app = create_app(make_settings(tmp_path / "data"))
    app.router.routes.insert(0, Route("/api/client/v2.0/pipe", broken_pipe))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.get("/api/client/v2.0/pipe"), 500, "InternalServerError")
