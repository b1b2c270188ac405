"""Run SDK coroutines from synchronous tests, also when the test thread already runs a loop.

pytest-playwright's sync API keeps an event loop running in the main thread for the rest of
the session, and ``asyncio.run`` refuses to start inside it. Each coroutine then runs on a fresh
loop in a worker thread instead. CPython only (the browser suite awaits scenarios directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def loop_is_running() -> bool:
    """Whether this thread is inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def in_clean_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a thread without a running event loop."""
    if not loop_is_running():
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, on a worker thread when this thread already runs a loop."""
    return in_clean_thread(lambda: asyncio.run(coro))
