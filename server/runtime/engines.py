"""The engines of one worker, behind one ``lookup``/``run``: JavaScript first, then Python.

A name in the app's ``[js_functions]`` is a JavaScript function (``server.runtime.js``); any other
name is looked up in the Python module (``server.runtime.python``). Both engines live in the same
worker, so ``context.functions.execute`` between them is a plain call under the same time limit
and memory cap, and may reach private functions (as in App Services).

Every call's context also gets ``values`` (``context.values.get(name)``), ``environment``
(``context.environment.tag``) and ``functions`` (``await context.functions.execute(name, *args)``
in Python). Runs only inside a worker; imports the stdlib, ``bson`` and this package's engines.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

from .. import ejson
from .js import JsFunction, JsFunctions
from .python import PythonFunctions


class Values:
    """``context.values``: the app's ``[values]``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def get(self, name: str) -> Any:
        """The value called ``name``, or ``None``."""
        return self._values.get(name)


class Environment:
    """``context.environment``: ``tag`` is the app's ``environment`` setting."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.values: dict[str, Any] = {}


class Functions:
    """``context.functions`` for Python functions."""

    def __init__(self, engines: Engines, context: Any) -> None:
        self._engines, self._context = engines, context

    async def execute(self, name: str, *args: Any) -> Any:
        """Run another function of the app (JavaScript or Python, private ones included)."""
        fn = self._engines.lookup(str(name), public=False)
        if fn is None:
            raise LookupError(f"function not found: '{str(name)[:128]}'")
        if isinstance(fn, JsFunction):
            assert self._engines.js is not None
            return self._engines.js.run(fn, self._context, list(args))
        result = fn(self._context, *args)
        return (await result) if inspect.isawaitable(result) else result


class Engines:
    """The Python module (``module``, may be empty) and the JavaScript functions (``app``: the
    JSON the server sends at fork, ``server.js_settings.runtime_app``) of one worker."""

    def __init__(self, module: str, app: str, memory: int) -> None:
        info: dict[str, Any] = json.loads(app) if app else {}
        self.python = PythonFunctions(Path(module)) if module else None
        self.js = JsFunctions(info, memory) if info.get("functions") else None
        if self.js is not None:
            self.js.execute = self.execute
        self.values = Values(ejson.loads(info.get("values") or "{}"))
        self.environment = Environment(str(info.get("environment", "")))

    def lookup(self, name: str, *, public: bool) -> Any:
        """The function called ``name``; ``None`` if there is none (or it is private)."""
        if self.js is not None:
            fn = self.js.lookup(name, public=public)
            if fn is not None:
                return fn
            if name in self.js.table:
                return None
        return self.python.lookup(name, public=public) if self.python is not None else None

    def run(self, fn: Any, context: Any, args: list[Any]) -> Any:
        """Call ``fn`` (from ``lookup``) with the worker's context; its result."""
        self.bind(context)
        if isinstance(fn, JsFunction):
            assert self.js is not None
            return self.js.run(fn, context, args)
        assert self.python is not None
        return self.python.run(fn, context, args)

    def bind(self, context: Any) -> None:
        """Give a worker context the App Services members."""
        context.values = self.values
        context.environment = self.environment
        context.functions = Functions(self, context)

    def execute(self, name: str, context: Any, args: list[Any]) -> Any:
        """``context.functions.execute`` from JavaScript: run to the end, synchronously."""
        fn = self.lookup(name, public=False)
        if fn is None:
            raise LookupError(f"function not found: '{name[:128]}'")
        if isinstance(fn, JsFunction):
            assert self.js is not None
            return self.js.run(fn, context, args)
        assert self.python is not None
        asyncio = sys.modules.get("asyncio")
        running = asyncio is not None and asyncio.events._get_running_loop() is not None
        if not running:
            return self.python.run(fn, context, args)
        return _drive(fn(context, *args))


def _drive(result: Any) -> Any:
    # Inside a running event loop (Python, then JavaScript, then Python again) a coroutine is run
    # by hand: it may await the context's own coroutines, which finish at once, but not timers.
    if not inspect.isawaitable(result):
        return result
    coro = result.__await__()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a Python function called from JavaScript inside another async Python "
                       "function cannot wait for timers or I/O")
