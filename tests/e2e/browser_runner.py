"""Runs the SDK scenario suite inside Pyodide, with the browser adapters.

Imported by ``harness.html`` in the browser only: ``FetchTransport`` sends through ``fetch`` and
``LocalStorage`` keeps state in ``localStorage``, so the browser edges are exercised for real.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any


async def run(params: dict[str, Any]) -> str:
    """Run the scenarios named in ``params["only"]`` (comma-separated; all when absent)."""
    import js  # Only reachable in the browser; this module never runs under CPython.

    from app.sdk import App
    from app.sdk.adapters.browser import FetchTransport, LocalStorage
    from tests.sdk import scenarios
    from tests.sdk.helpers import ScenarioContext

    base_url = str(js.location.origin)
    app_id = params.get("app_id", "latchkey-demo")
    if str(params.get("step", "")).startswith("tab_"):
        return json.dumps(await _tab_step(params["step"], base_url, app_id))
    if params.get("step"):
        return json.dumps(await _reload_step(params["step"], App, FetchTransport, LocalStorage,
                                             base_url, app_id))
    wanted = [n for n in params.get("only", "").split(",") if n]
    results: dict[str, Any] = {}
    counter = [0]
    for scenario in scenarios.ALL:
        name = scenario.__name__
        if wanted and name not in wanted:
            continue
        js.localStorage.clear()

        def make_app(storage: Any = None, *, wrap: Any = None, counter: list[int] = counter) -> App:
            # Each app without explicit storage gets its own localStorage prefix, as each gets
            # its own MemoryStorage under CPython, so scenarios see the same isolation.
            counter[0] += 1
            transport = FetchTransport()
            if wrap is not None:
                transport = wrap(transport)
            if storage is None:
                storage = LocalStorage(prefix=f"harness{counter[0]}")
            return App(app_id, base_url=base_url, transport=transport, storage=storage)

        started = time.perf_counter()
        try:
            await scenario(make_app, ScenarioContext(app_id=app_id, base_url=base_url))
            results[name] = {"ok": True}
        except BaseException as exc:  # Report everything; the page must always finish.
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc()}
        results[name]["seconds"] = round(time.perf_counter() - started, 3)
    return json.dumps({"python": sys.version, "results": results})


class _CountingTransport:
    """Counts requests on their way to ``fetch``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0
        self.refreshes = 0

    async def send(self, request: Any) -> Any:
        self.count += 1
        if request.method == "POST" and request.url.endswith("/auth/session"):
            self.refreshes += 1
        return await self.inner.send(request)


async def _reload_step(step: str, app_cls: Any, transport_cls: Any, storage_cls: Any,
                       base_url: str, app_id: str) -> dict[str, Any]:
    """Two halves of a reload test: ``login`` before the reload, ``restore`` after it."""
    from app.sdk import Credentials

    transport = _CountingTransport(transport_cls())
    app = app_cls(app_id, base_url=base_url, transport=transport, storage=storage_cls())
    if step == "login":
        user = await app.log_in(Credentials.anonymous())
        return {"user_id": user.id, "requests": transport.count}
    current = app.current_user
    restored = {"user_id": current.id if current else None, "requests": transport.count,
                "state": current.state.value if current else None}
    if current is not None:
        await current.refresh_profile()
    restored["requests_after_profile"] = transport.count
    return restored


_held: dict[str, Any] = {}


async def _tab_step(step: str, base_url: str, app_id: str) -> dict[str, Any]:
    """Steps of the two-tab test: ``tab_login`` (then expire the stored access token),
    ``tab_hold`` (an app on localStorage holding that expired token) and ``tab_call``
    (five concurrent calls; returns how many refreshes this tab sent)."""
    from app.sdk import App, Credentials
    from app.sdk.adapters.browser import FetchTransport, LocalStorage, WebLocks
    from tests.sdk.helpers import expired_token, plant

    if step == "tab_login":
        storage = LocalStorage()
        user = await App(app_id, base_url=base_url, transport=FetchTransport(),
                         storage=storage).log_in(Credentials.anonymous())
        plant(storage, app_id, user.id, "accessToken", expired_token(user.id))
        return {"user_id": user.id}
    if step == "tab_hold":
        transport = _CountingTransport(FetchTransport())
        _held["transport"] = transport
        _held["app"] = App(app_id, base_url=base_url, transport=transport,
                           storage=LocalStorage(), refresh_lock=WebLocks())
        return {"user_id": _held["app"].current_user.id}
    import asyncio

    user = _held["app"].current_user
    answers = await asyncio.gather(*(user.functions.translate("hello", "en_fr") for _ in range(5)))
    return {"answers": answers, "refreshes": _held["transport"].refreshes}
