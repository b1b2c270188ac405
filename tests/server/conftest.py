"""Fixtures of the server tests: in-process apps with config overrides, and the ``Api`` driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server import create_app
from tests.conftest import make_settings

from .helpers import Api


@pytest.fixture(autouse=True)
def _function_calls_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where app_functions.py records its calls: a file of this test's own, inherited by the
    # function workers its servers start.
    monkeypatch.setenv("LATCHKEY_TEST_CALLS", str(tmp_path / "function-calls.jsonl"))


@pytest.fixture
def api(client: TestClient) -> Api:
    """The demo app in-process (automatic confirmation, email reset)."""
    return Api(client)


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """In-process apps with TOML-shaped overrides: ``make_api({"security": {...}})``."""
    clients: list[TestClient] = []

    def factory(overrides: dict[str, Any] | None = None, *, data_dir: Path | None = None) -> Api:
        ddir = data_dir or tmp_path / f"app{len(clients)}"
        client = TestClient(create_app(make_settings(ddir, overrides)), base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return Api(client)

    yield factory
    for client in reversed(clients):
        client.__exit__(None, None, None)

