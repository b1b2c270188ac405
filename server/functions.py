"""The app's server functions: a Python module named in the config, loaded by file path.

A function is any public callable of that module, sync or async, called as
``fn(context, *arguments)``. Names that start with an underscore, and names listed in the
module's ``PRIVATE`` set (authentication, confirmation and reset functions), cannot be called by
clients. Sync functions run in a worker thread; every call has a time limit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_TIME_LIMIT = 10.0


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

    def get(self, name: str) -> Callable[..., Any] | None:
        """Any function of the module, private ones included (for the server's own use)."""
        if self.module is None or not name or name.startswith("_"):
            return None
        fn = getattr(self.module, name, None)
        if not callable(fn) or inspect.isclass(fn) or getattr(fn, "__module__", None) != self.module.__name__:
            return None
        return fn

    def public(self, name: str) -> Callable[..., Any] | None:
        """A function clients may call, or ``None``."""
        return None if name in self.private else self.get(name)

    async def run(self, fn: Callable[..., Any], context: Any, *args: Any) -> Any:
        """Run a function with its time limit; ``FunctionTimeout`` when it is exceeded."""
        try:
            if inspect.iscoroutinefunction(fn):
                return await asyncio.wait_for(fn(context, *args), self.time_limit)
            # A sync function that loops forever keeps its worker thread; the caller gets an
            # answer in time and the server keeps serving on its other threads.
            return await asyncio.wait_for(asyncio.to_thread(fn, context, *args), self.time_limit)
        except TimeoutError as exc:
            raise FunctionTimeout(f"function exceeded its time limit of {self.time_limit:g} s") from exc


def _load(path: Path) -> ModuleType:
    name = f"latchkey_app_functions_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"Cannot load the functions module {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
