"""Running the app's functions: one interface, the engines behind it, and their isolation.

Services call ``FunctionRuntime.call(name, args, context)`` and get canonical EJSON text back,
or a ``FunctionError`` that says why not. How a function runs is this package's business:

- ``python.py`` is the Python engine (the functions module, loaded by path);
- ``js.py`` is the JavaScript engine (QuickJS; App Services functions as they are), and
  ``engines.py`` puts both behind one lookup in each worker (they call each other there);
- ``worker.py`` is the process that hosts an engine and runs one call at a time;
- ``pool.py`` starts, times out, kills and replaces workers (the isolation, in one place);
- ``forker.py`` is the small fork server that makes a new worker cost milliseconds;
- ``frames.py`` is the pipe protocol between the server and its workers.

Every call runs in a worker process, never in the server: a function that loops, hangs, eats
memory or exits takes its worker down, not the server. The server itself never imports the
functions module (it only checks that it compiles), so app code runs only in workers.

Context calls that need the store (``get_custom_data``, ``set_custom_data``, ``user.custom_data``)
travel back to the server over the pipe and run there, so the server stays the one owner of the
store. Must not import ``server.services`` (services call this package, not the reverse).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from .. import ejson
from .errors import (
    FunctionCrashed,
    FunctionError,
    FunctionMemoryLimit,
    FunctionNotFound,
    FunctionsUnavailable,
    FunctionTimeout,
)
from .pool import WorkerPool, WorkerSpec
from .python import check_source

__all__ = ["CallContext", "FunctionCrashed", "FunctionError", "FunctionMemoryLimit",
           "FunctionNotFound", "FunctionRuntime", "FunctionTimeout", "FunctionsUnavailable"]

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_WORKERS = 4
DEFAULT_MEMORY_BYTES = 512 << 20
DEFAULT_RESULT_BYTES = 1 << 20
_LOG_CHARS = 2100
log = logging.getLogger("latchkey.functions")


class CallContext(Protocol):
    """What a call carries from the server: the app, the caller, and custom data access."""

    @property
    def app_id(self) -> str: ...

    @property
    def user(self) -> Any: ...

    async def get_custom_data(self, user_id: str) -> dict[str, Any] | None: ...

    async def set_custom_data(self, user_id: str, doc: dict[str, Any]) -> None: ...


class FunctionRuntime:
    """The app's functions, run in worker processes with a time limit, a memory cap and a cap
    on the size of results.

    ```python
    runtime = FunctionRuntime(Path("functions.py"), time_limit=10)
    text = await runtime.call("translate", ["hello", "en_fr"], context)  # '"bonjour"'
    await runtime.close()
    ```
    """

    def __init__(self, module: Path | None, *, time_limit: float = DEFAULT_TIME_LIMIT,
                 workers: int = DEFAULT_WORKERS, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 result_bytes: int = DEFAULT_RESULT_BYTES, app: str = "") -> None:
        if module is not None:
            check_source(module)
        self.module = module
        self.time_limit = time_limit
        # ``app`` (JSON, ``server.js_settings.runtime_app``): JavaScript functions, values, tag.
        spec = (WorkerSpec(module, memory_bytes, result_bytes, app)
                if module is not None or app else None)
        self._pool = WorkerPool(spec, workers) if spec is not None else None

    async def call(self, name: str, args: list[Any], context: CallContext, *,
                   public: bool = True) -> str:
        """Run ``name(context, *args)``; the result as canonical EJSON text.

        ``public`` calls (from clients) cannot reach private functions; the server's own calls
        (login, confirmation and reset functions) pass ``public=False``.
        """
        if self._pool is None:
            raise FunctionNotFound(f"function not found: '{name[:128]}'")
        user = context.user
        fields = None if user is None else {
            "id": user.id, "type": user.type, "identities": user.identities, "data": user.data}
        message: tuple[Any, ...] = ("call", name, public, args, context.app_id, fields)
        request = getattr(context, "request", None)
        if request is not None:
            message += (request,)  # ``context.request`` (client calls only).

        async def relay(method: str, params: list[Any]) -> tuple[bool, str]:
            return await _relay(context, method, params)

        return await self._pool.call(name, message, self.time_limit, relay)

    async def close(self) -> None:
        """Stop the workers (the server's shutdown)."""
        if self._pool is not None:
            await self._pool.close()


async def _relay(context: CallContext, method: str, params: list[Any]) -> tuple[bool, str]:
    # The only things a worker may ask of the server; anything else is refused.
    try:
        if method == "get_custom_data" and len(params) == 1:
            return True, ejson.dumps_canonical(await context.get_custom_data(str(params[0])))
        if method == "set_custom_data" and len(params) == 2:
            doc = ejson.loads(str(params[1]))
            if not isinstance(doc, dict):
                return False, "custom user data must be an object"
            await context.set_custom_data(str(params[0]), doc)
            return True, "null"
        if method == "log" and len(params) == 2:
            # One line per call (console.log of JavaScript functions), bounded by the worker.
            log.info("function %s: %s", str(params[0])[:128], str(params[1])[:_LOG_CHARS])
            return True, "null"
    except Exception as exc:  # noqa: BLE001 (the function gets the error, the server goes on)
        return False, str(exc) or type(exc).__name__
    return False, f"the context has no {method[:64]!r}"


