"""Several clients on one storage (browser tabs) refresh an expired token once between them.

Under CPython the tabs are two ``App`` objects on one ``MemoryStorage`` and the lock is an
``asyncio.Lock`` per name, the same contract the browser's ``WebLocks`` adapter keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.sdk import App, Credentials, MemoryStorage
from app.sdk.adapters.native import UrllibTransport

from .helpers import SpyTransport, expired_token, plant
from .runner import run
from .test_scenarios import app_factory

API = "/api/client/v2.0"


class SharedLocks:
    """A ``RefreshLock`` for tabs living in one event loop."""

    def __init__(self) -> None:
        self.locks: dict[str, asyncio.Lock] = {}
        self.names: list[str] = []

    async def run(self, name: str, work: Callable[[], Awaitable[str]]) -> str:
        self.names.append(name)
        async with self.locks.setdefault(name, asyncio.Lock()):
            return await work()


def _refreshes(spy: SpyTransport) -> int:
    return sum(1 for call in spy.calls() if call == ("POST", f"{API}/auth/session"))


async def _two_tabs(live, lock: SharedLocks | None):
    make_app = app_factory(live)
    storage = MemoryStorage()
    user = await make_app(storage).log_in(Credentials.anonymous())
    plant(storage, live.app_id, user.id, "accessToken", expired_token(user.id))
    spy = SpyTransport()
    transport = spy.around(UrllibTransport(use_env_proxies=False))
    tabs = [App(live.app_id, base_url=live.base_url, transport=transport, storage=storage,
                refresh_lock=lock) for _ in range(2)]
    return tabs, spy


def test_two_tabs_with_a_shared_lock_refresh_once(live_server):
    async def scenario() -> None:
        lock = SharedLocks()
        tabs, spy = await _two_tabs(live_server, lock)
        results = await asyncio.gather(*(tab.current_user.functions.translate("hello", "en_fr")
                                         for tab in tabs for _ in range(5)))
        assert results == ["bonjour"] * 10
        assert _refreshes(spy) == 1
        assert tabs[0].current_user.access_token == tabs[1].current_user.access_token
        assert set(lock.names) == {f"latchkey:{live_server.app_id}:refresh:"
                                   f"{tabs[0].current_user.id}"}

    run(scenario())


def test_a_tab_that_refreshes_after_another_adopts_its_token(live_server):
    async def scenario() -> None:
        tabs, spy = await _two_tabs(live_server, None)
        await tabs[0].current_user.refresh_profile()
        await tabs[1].current_user.refresh_profile()
        assert _refreshes(spy) == 1

    run(scenario())


def test_without_a_lock_concurrent_tabs_may_refresh_twice_but_end_up_consistent(live_server):
    async def scenario() -> None:
        tabs, spy = await _two_tabs(live_server, None)
        await asyncio.gather(*(tab.current_user.refresh_profile() for tab in tabs))
        assert 1 <= _refreshes(spy) <= 2
        assert all(tab.current_user.state.value == "LoggedIn" for tab in tabs)

    run(scenario())
