"""Fixtures of the scale-out tests: server processes sharing one PostgreSQL, and nginx.

``processes(n, overrides)`` starts n ``serve.py`` processes on a fresh schema of the session's
test PostgreSQL (``postgres_server``, skipped when there is none) and stops them after the test.
``trio`` is three processes shared by a module's tests, with login limits out of the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.postgres_fixture import PostgresServer
from tests.server.helpers import Api

from .cluster import UNLIMITED, Nginx, ServeProcess, nginx_binary, start_processes

StartProcesses = Callable[..., list[ServeProcess]]
MakeApis = Callable[[list[ServeProcess]], list[Api]]


@pytest.fixture
def processes(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[StartProcesses]:
    """``processes(n, overrides=None, *serve_args)``: n processes on one new database."""
    started: list[ServeProcess] = []

    def start(n: int, overrides: dict[str, Any] | None = None, *args: str,
              database_url: str | None = None) -> list[ServeProcess]:
        url = database_url or postgres_server.fresh_url()
        group = start_processes(n, url, tmp_path, overrides, *args)
        started.extend(group)
        return group

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def apis() -> Iterator[Callable[[list[ServeProcess]], list[Api]]]:
    """``apis(processes)``: one ``Api`` driver per process, closed after the test."""
    opened: list[Api] = []

    def make(group: list[ServeProcess]) -> list[Api]:
        made = [Api(p.client()) for p in group]
        opened.extend(made)
        return made

    yield make
    for api in opened:
        api.http.close()


@pytest.fixture(scope="module")
def trio_url(postgres_server: PostgresServer) -> str:
    return postgres_server.fresh_url()


@pytest.fixture(scope="module")
def trio(trio_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServeProcess]]:
    """Three processes on one database for a whole module, trusting nginx on loopback."""
    group = start_processes(3, trio_url, tmp_path_factory.mktemp("trio"), UNLIMITED,
                            "--forwarded-allow-ips", "127.0.0.1")
    yield group
    for process in group:
        process.stop()


@pytest.fixture
def nginx_factory(tmp_path: Path) -> Iterator[Callable[[list[ServeProcess]], Nginx]]:
    """``nginx_factory(processes)``: nginx with ``deploy/nginx.conf`` in front of them."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (scripts/setup test installs Debian's nginx)")
    started: list[Nginx] = []

    def start(group: list[ServeProcess]) -> Nginx:
        front = Nginx(tmp_path, [p.port for p in group])
        started.append(front)
        return front

    yield start
    for front in started:
        front.stop()
