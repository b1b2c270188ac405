"""Tiers (b)/(c): every scenario of ``scenarios.ALL`` against the real server over loopback.

The SDK runs under CPython with the native adapter (``UrllibTransport``); the server is the
lead's ``live_server`` fixture (uvicorn in a thread, fresh data dir per test). The browser suite
runs the same scenario bodies inside Pyodide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.sdk import App, MemoryStorage, Storage, Transport
from app.sdk.adapters.native import UrllibTransport

from . import scenarios
from .helpers import ScenarioContext
from .runner import run


def app_factory(live: Any) -> Callable[..., App]:
    """``make_app(storage=None, *, wrap=None)`` for the live server's demo app."""

    def make_app(
        storage: Storage | None = None, *, wrap: Callable[[Transport], Transport] | None = None
    ) -> App:
        # Loopback must not go through a proxy from the environment.
        transport: Transport = UrllibTransport(use_env_proxies=False)
        if wrap is not None:
            transport = wrap(transport)
        return App(
            live.app_id,
            base_url=live.base_url,
            transport=transport,
            storage=storage if storage is not None else MemoryStorage(),
        )

    return make_app


@pytest.mark.parametrize("scenario", scenarios.ALL, ids=lambda fn: fn.__name__[9:])
def test_scenario(scenario: Any, live_server: Any) -> None:
    ctx = ScenarioContext(app_id=live_server.app_id, base_url=live_server.base_url)
    run(scenario(app_factory(live_server), ctx))


def test_all_lists_every_scenario() -> None:
    defined = {name for name in vars(scenarios) if name.startswith("scenario_")}
    assert {fn.__name__ for fn in scenarios.ALL} == defined
    assert len(scenarios.ALL) == len(defined)
