"""Fixtures shared by every tier: settings on a temp data dir, the real server in-process
(``client``) and over loopback (``live_server``, ``server_factory``).

Each test gets its own data dir, so its SQLite file, signing key and outbox are its own.

``LATCHKEY_TEST_STORE=postgres`` runs the same tests on PostgreSQL: ``make_settings`` then gives
each data dir its own schema of one test database (``tests/postgres_fixture.py``, started once per
session and stopped at its end), so a server restarted on the same data dir sees its data again,
as with a SQLite file. Tests that look at the SQLite file itself are marked ``sqlite_only``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from server import create_app
from server.settings import DEFAULT_CONFIG, Settings
from tests.postgres_fixture import UNAVAILABLE, PostgresServer

APP_ID = "latchkey-demo"
TEST_STORE = os.environ.get("LATCHKEY_TEST_STORE", "sqlite")
if TEST_STORE not in ("sqlite", "postgres"):
    raise RuntimeError(f"LATCHKEY_TEST_STORE must be sqlite or postgres, not {TEST_STORE!r}.")

#: Marks a test that reads or writes the SQLite file, or the data dir's signing key file, itself.
sqlite_only = pytest.mark.skipif(TEST_STORE != "sqlite",
                                 reason="looks at the SQLite file; the store is PostgreSQL")

_postgres: list[PostgresServer | None] = []
_schema_urls: dict[Path, str] = {}


def shared_postgres() -> PostgresServer | None:
    """The session's test PostgreSQL, started on first use; ``None`` when there is none."""
    if not _postgres:
        _postgres.append(PostgresServer.start())
    return _postgres[0]


def database_url_for(data_dir: Path) -> str:
    """The test database of a data dir: its SQLite file, or its PostgreSQL schema."""
    if TEST_STORE == "sqlite":
        return f"sqlite:{data_dir / 'test.sqlite3'}"
    key = data_dir.resolve()
    if key not in _schema_urls:
        server = shared_postgres()
        if server is None:
            raise RuntimeError(f"LATCHKEY_TEST_STORE=postgres, but {UNAVAILABLE}")
        _schema_urls[key] = server.fresh_url()
    return _schema_urls[key]


def make_settings(data_dir: Path, overrides: dict[str, Any] | None = None,
                  config: Path = DEFAULT_CONFIG) -> Settings:
    """Settings for the demo config on a temp data dir, with TOML-shaped overrides.

    Keys and types are checked as for ``serve.py``; number ranges are not, since tests shorten
    lifetimes and windows below what an operator may set, to watch tokens expire.
    """
    quiet = {"mail": {"console": False}}
    merged = {**quiet, **(overrides or {})}
    return Settings.load(config, data_dir, database_url=database_url_for(data_dir),
                         overrides=merged, check_ranges=False)


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The session's test PostgreSQL; skips the test when there is none."""
    server = shared_postgres()
    if server is None:
        pytest.skip(UNAVAILABLE)
    return server


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the test PostgreSQL (and remove its private cluster) if the session started one."""
    server = _postgres.pop() if _postgres else None
    if server is not None:
        server.stop()


@dataclass
class LiveServer:
    """A real server on 127.0.0.1, in a thread of the test process."""

    base_url: str
    app_id: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def outbox(self) -> list[dict[str, Any]]:
        """Messages the mailer wrote, oldest first."""
        path = self.data_dir / "outbox.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bind_loopback() -> socket.socket:
    """A socket bound to a free loopback port, for a server whose URL must be known first."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def start_server(settings: Settings, sock: socket.socket | None = None) -> LiveServer:
    """Start uvicorn on an ephemeral loopback port (or ``sock``) and wait until it accepts
    requests."""
    sock = sock or bind_loopback()
    port = sock.getsockname()[1]
    if not settings.link_base_url:
        # As serve.py does: email links point at the address the server listens on.
        settings = dataclasses.replace(settings, link_base_url=f"http://127.0.0.1:{port}")
    # A long keep-alive: under load, a client reusing a pooled connection just as the server
    # closes it for idleness (uvicorn's default is 5 s) gets a ReadError on a POST it may not
    # retry, a race no test is about.
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on",
                            access_log=False, timeout_keep_alive=120)
    server = uvicorn.Server(config)

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The test server did not start.")
        time.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}", settings.app_id, settings, server, thread)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers with config overrides: ``server_factory({"tokens": {...}})``."""
    started: list[LiveServer] = []

    def factory(overrides: dict[str, Any] | None = None, *, data_dir: Path | None = None,
                config: Path = DEFAULT_CONFIG) -> LiveServer:
        ddir = data_dir or tmp_path / f"data{len(started)}"
        live = start_server(make_settings(ddir, overrides, config))
        started.append(live)
        return live

    yield factory
    for live in started:
        live.stop()


@pytest.fixture
def live_server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    """The demo app on a live loopback server with a fresh data dir."""
    return server_factory()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Demo settings on a fresh data dir."""
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real server app in-process (lifespan run), through Starlette's test client."""
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: pytest-playwright's sync API leaves an event loop running in the
    main thread, and ``asyncio.run`` in any later test would then refuse to start."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
