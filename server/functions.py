"""The app's server functions: a Python module named in the config, loaded by file path.

A function is any public callable of that module, sync or async, called as
``fn(context, *arguments)``. Names that start with an underscore, and names listed in the
module's ``PRIVATE`` set (authentication, confirmation and reset functions), cannot be called by
clients. Every call has a time limit (``function_time_limit_seconds`` in the config).

Rule: a sync function runs in a daemon thread of its own, never in the event loop's default
executor, which the store uses. Python cannot stop a thread, so a function that loops forever
keeps its thread; it must not also starve the store, and it must not keep the process from
exiting. At most ``MAX_SYNC_THREADS`` sync functions run at once; a call waiting for a free
thread spends its own time limit waiting. Async functions run in the event loop and must not
block it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_TIME_LIMIT = 10.0
MAX_SYNC_THREADS = 16


class FunctionTimeout(Exception):
    """A function ran past its time limit."""


class FunctionRegistry:
    """Looks up and runs the app's functions."""

    def __init__(self, path: Path | None, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        self.path = path
        self.time_limit = time_limit
        self.module: ModuleType | None = _load(path) if path is not None else None
        private = getattr(self.module, "PRIVATE", ()) if self.module else ()
        self.private = frozenset(str(n) for n in private)
        self._threads: asyncio.Semaphore | None = None

    def get(self, name: str) -> Callable[..., Any] | None:
        """Any function of the module, private ones included (for the server's own use)."""
        if self.module is None or not name or name.startswith("_"):
            return None
        fn: Any = getattr(self.module, name, None)
        own = getattr(fn, "__module__", None) == self.module.__name__
        if not callable(fn) or inspect.isclass(fn) or not own:
            return None
        return fn  # type: ignore[no-any-return]

    def public(self, name: str) -> Callable[..., Any] | None:
        """A function clients may call, or ``None``."""
        return None if name in self.private else self.get(name)

    async def run(self, fn: Callable[..., Any], context: Any, *args: Any) -> Any:
        """Run a function with its time limit; ``FunctionTimeout`` when it is exceeded."""
        try:
            if inspect.iscoroutinefunction(fn):
                return await asyncio.wait_for(fn(context, *args), self.time_limit)
            result = await asyncio.wait_for(self._in_thread(fn, context, *args), self.time_limit)
            if inspect.isawaitable(result):
                # A sync wrapper around a coroutine function: finish its coroutine here.
                result = await asyncio.wait_for(result, self.time_limit)
            return result
        except SystemExit as exc:
            raise _contained(exc) from exc
        except TimeoutError as exc:
            raise FunctionTimeout(
                f"function exceeded its time limit of {self.time_limit:g} s") from exc

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._threads is None:
            self._threads = asyncio.Semaphore(MAX_SYNC_THREADS)
        threads = self._threads
        await threads.acquire()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def work() -> None:
            try:
                outcome: tuple[bool, Any] = (True, fn(*args))
            except BaseException as exc:  # noqa: BLE001 (the caller re-raises it in the loop)
                outcome = (False, _contained(exc))
            try:
                loop.call_soon_threadsafe(_settle, done, outcome, threads)
            except RuntimeError:
                pass  # The loop closed while the function ran: nobody is waiting any more.

        threading.Thread(target=work, name=f"function-{getattr(fn, '__name__', '?')}",
                         daemon=True).start()
        return await done


def _contained(exc: BaseException) -> BaseException:
    # A function that calls sys.exit() must not stop the server, and a StopIteration cannot be
    # set on a future; both become an ordinary error of the call.
    if isinstance(exc, Exception) and not isinstance(exc, StopIteration):
        return exc
    return RuntimeError(f"function raised {type(exc).__name__}")


def _settle(done: asyncio.Future[Any], outcome: tuple[bool, Any],
            threads: asyncio.Semaphore) -> None:
    threads.release()
    if done.done():
        return  # The caller gave up (time limit); the late result has nowhere to go.
    ok, value = outcome
    if ok:
        done.set_result(value)
    else:
        done.set_exception(value)


def _load(path: Path) -> ModuleType:
    name = f"latchkey_app_functions_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"Cannot load the functions module {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
