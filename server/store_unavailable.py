"""The store cannot be reached: 503 ``ServiceUnavailable`` with ``Retry-After``, not a 500.

When PostgreSQL is down, restarting or out of connections, or a SQLite database stays locked
past its busy timeout, every request that needs the store fails through no fault of its own
and will work again shortly. ``CatchAllMiddleware`` asks ``is_store_unavailable`` before it
answers 500, and answers those with 503, the error JSON and ``Retry-After: 5`` instead
(``unavailable_answer``), so clients and load balancers retry, with one warning line in the log
and no traceback. ``/health/ready`` already says 503 then.

Rule: an exception is "store unavailable" only if it is a connection failure (refused, reset,
lost, timed out; asyncpg's connection and interface errors, ``too many connections``,
``cannot connect now``) raised from the store's own code (a frame under ``server/store/``), or
SQLite's ``database is locked``/``busy``. The same ``ConnectionError`` from elsewhere (a function
worker's pipe, say) stays a 500: it says nothing about the store.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import traceback
from pathlib import Path

from starlette.types import ASGIApp, Scope

from app.sdk.errors import ErrorCode

from .errors import ApiError, error_response

__all__ = ["RETRY_AFTER_SECONDS", "is_store_unavailable", "unavailable_answer"]

log = logging.getLogger("latchkey.server")

RETRY_AFTER_SECONDS = 5
_STORE_DIR = str(Path(__file__).resolve().parent / "store") + "/"

_CONNECTION: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
try:
    import asyncpg

    _CONNECTION += (asyncpg.exceptions.PostgresConnectionError,
                    asyncpg.exceptions.InterfaceError,
                    asyncpg.exceptions.CannotConnectNowError,
                    asyncpg.exceptions.TooManyConnectionsError)
except ImportError:  # pragma: no cover (PostgreSQL support not installed)
    pass
_OS_ERRNOS = {"ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH",
              "ETIMEDOUT", "EPIPE"}


def _from_store(exc: BaseException) -> bool:
    return any(frame.f_code.co_filename.startswith(_STORE_DIR)
               for frame, _ in traceback.walk_tb(exc.__traceback__))


def _connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, _CONNECTION):
        return True
    return isinstance(exc, OSError) and errno.errorcode.get(exc.errno or 0, "") in _OS_ERRNOS


def is_store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or the exception it was raised from) means the store cannot be
    reached right now (see the module's rule)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError):
            text = str(current).lower()
            if "locked" in text or "busy" in text:
                return True
        elif _connection_failure(current) and _from_store(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def unavailable_answer(scope: Scope, exc: BaseException) -> ASGIApp:
    """The 503 answer to a request that failed because the store is unreachable, logged as
    one warning line (``CatchAllMiddleware`` calls it when ``is_store_unavailable``)."""
    log.warning("store unavailable on %s %s: %s", scope["method"], str(scope["path"])[:200],
                type(exc).__name__)
    err = ApiError(ErrorCode.SERVICE_UNAVAILABLE, 503,
                   "the database cannot be reached right now; try again shortly")
    return error_response(err, {"Retry-After": str(RETRY_AFTER_SECONDS)}, scope=scope)
