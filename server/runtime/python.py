"""The Python engine: the app's functions module, loaded by file path, run inside a worker.

A function is any public callable defined in that module, sync or async, called as
``fn(context, *arguments)``. Names that start with an underscore, names imported from elsewhere,
classes, and names listed in the module's ``PRIVATE`` set (authentication, confirmation and reset
functions) cannot be called by clients; the server's own calls may use private ones.

Results leave as canonical EJSON text, checked here (in the worker, off the server's CPU):
values without an exact EJSON form and results over the size limit are errors of the call.
Runs only inside a worker process (``server.runtime.worker``); imports the stdlib and ``bson``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import inspect
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bson import DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import Binary

from .. import ejson

if TYPE_CHECKING:
    import asyncio

MAX_DEPTH = ejson.MAX_DEPTH
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Values with an exact EJSON form. ``json_util`` would also turn any iterable (a set, a range,
# a bytearray) into an array and write integers past 64 bits as invalid ``$numberLong`` values,
# so results are checked against this list first.
_LEAVES = (str, float, bytes, dt.datetime, ObjectId, Int64, Decimal128, Binary, Timestamp,
           Regex, re.Pattern, MinKey, MaxKey, DBRef, uuid.UUID)


class ResultError(ValueError):
    """The function's result cannot go back to the caller."""


class PythonFunctions:
    """The functions of one Python module."""

    def __init__(self, path: Path) -> None:
        self.module = _load(path)
        self.private = frozenset(str(n) for n in getattr(self.module, "PRIVATE", ()))
        self._loop: asyncio.AbstractEventLoop | None = None

    def lookup(self, name: str, *, public: bool) -> Callable[..., Any] | None:
        """The function called ``name``; ``None`` if there is none (or it is private)."""
        if not name or name.startswith("_") or (public and name in self.private):
            return None
        fn: Any = getattr(self.module, name, None)
        own = getattr(fn, "__module__", None) == self.module.__name__
        if not callable(fn) or inspect.isclass(fn) or not own:
            return None
        return fn  # type: ignore[no-any-return]

    def run(self, fn: Callable[..., Any], context: Any, args: list[Any]) -> Any:
        """Call ``fn``; coroutines run to completion on the worker's own event loop."""
        result = fn(context, *args)
        if inspect.isawaitable(result):
            if self._loop is None:
                import asyncio  # Only for async functions: it is slow to import.

                self._loop = asyncio.new_event_loop()
            result = self._loop.run_until_complete(_awaited(result))
        return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def encode_result(value: Any, limit: int) -> str:
    """``value`` as canonical EJSON text; ``ResultError`` when it has no such form or is big."""
    try:
        check_encodable(value)
        text = ejson.dumps_canonical(value)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ResultError(f"the function's result cannot be encoded as EJSON: {exc}") from exc
    if len(text) > limit:
        raise ResultError(f"the function's result is larger than the limit of {size_text(limit)}")
    return text


def size_text(size: int) -> str:
    """``1 MiB`` for 1048576, ``1000 bytes`` for 1000."""
    return f"{size >> 20} MiB" if size and size % (1 << 20) == 0 else f"{size} bytes"


def check_encodable(value: Any, depth: int = 0) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` has an exact EJSON form."""
    if depth > MAX_DEPTH:
        raise ValueError("values nest too deeply")
    if value is None or isinstance(value, bool) or isinstance(value, _LEAVES):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("an integer is outside the 64-bit range")
        return
    if isinstance(value, list | tuple):
        for item in value:
            check_encodable(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("object keys must be strings")
            check_encodable(item, depth + 1)
        return
    raise TypeError(f"values of type {type(value).__name__} have no EJSON form")


def _load(path: Path) -> ModuleType:
    name = f"latchkey_app_functions_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"Cannot load the functions module {path}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def check_source(path: Path) -> None:
    """Fail early (``ValueError``) when the module is missing or is not valid Python.

    The server never imports the module itself: only workers run app code.
    """
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"Cannot load the functions module {path}: {exc}") from exc
