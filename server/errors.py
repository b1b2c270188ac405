"""``ApiError``: a failure that renders itself as the wire's error JSON.

Services raise ``ApiError(code, status, message)``; one Starlette exception handler turns it into
``(status, {"error", "error_code", "link"})`` with ``Content-Type: application/json`` exactly
(realm-core reads the body only for that exact value). Messages never contain a secret.

``link`` points at the code's entry on this server's error page, ``<base>/docs/errors#<code>``
(``server.error_docs``), as App Services links to a page on its own server (realm-core's tests
check the link holds the server's base URL). ``base`` is ``public_url``, else the address
``serve.py`` listens on, else the socket address the ASGI server reports: never the Host
header, which a client controls and a shared cache might store an answer under.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sdk.errors import ErrorCode

from .error_docs import error_link

log = logging.getLogger("latchkey.server")


def link_base(scope: Scope) -> str:
    """The base URL of error links for a request (see the module docstring)."""
    app = scope.get("app")
    configured = getattr(getattr(app, "state", None), "error_link_base", "")
    if configured:
        return str(configured).rstrip("/")
    scheme, server = scope.get("scheme", "http"), scope.get("server")
    if not server or server[1] is None:  # A Unix socket has no address to link to.
        return ""
    host, port = server
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


class ApiError(Exception):
    """An error answer: wire code, HTTP status and the human-readable ``error`` text."""

    def __init__(self, code: ErrorCode, status: int, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        #: Extra response headers, such as ``Retry-After`` on a 429.
        self.headers = dict(headers or {})

    def __call__(self, base: str = "") -> tuple[int, dict[str, str]]:
        """The status and body to send; ``base`` is this server's base URL for the link."""
        return self.status, {"error": self.message, "error_code": self.code.value,
                             "link": error_link(base, self.code)}


def error_response(err: ApiError, headers: Mapping[str, str] | None = None, *,
                   scope: Scope | None = None) -> Response:
    """The HTTP response for an ``ApiError``, with extra headers such as ``Allow``; ``scope``
    is the request's, for the link's base URL."""
    status, body = err(link_base(scope) if scope is not None else "")
    return Response(
        json.dumps(body),
        status_code=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def invalid_session(reason: str) -> ApiError:
    """401 ``InvalidSession``, the answer to every unusable token."""
    return ApiError(ErrorCode.INVALID_SESSION, 401, f"invalid session: {reason}")


def bad_request(message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> ApiError:
    """400 with a message."""
    return ApiError(code, 400, message)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Starlette handler for ``ApiError``."""
    assert isinstance(exc, ApiError)
    return error_response(exc, exc.headers, scope=request.scope)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors (404, 405) in the same JSON shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # HTTP requires the Allow header on a 405; Starlette's routing puts it on the exception.
        return error_response(ApiError(ErrorCode.METHOD_NOT_ALLOWED, 405, "method not allowed"),
                              exc.headers, scope=request.scope)
    if exc.status_code == 404:
        return error_response(ApiError(ErrorCode.NOT_FOUND, 404, "not found"),
                              scope=request.scope)
    return error_response(ApiError(ErrorCode.BAD_REQUEST, exc.status_code, str(exc.detail)),
                          scope=request.scope)


MAX_LOGGED_TEXT = 200
LOGGED_FRAMES = 3
_PROJECT = str(Path(__file__).resolve().parent.parent)


def _clip(text: str, limit: int = MAX_LOGGED_TEXT) -> str:
    text = " ".join(text.split())  # One line, whatever the message holds.
    return text if len(text) <= limit else text[:limit] + "…"


def describe_failure(exc: BaseException, method: str, path: str) -> str:
    """One bounded log line for an unexpected exception: its type, the route, a clipped
    message and the innermost few frames, never a full traceback (a ``RecursionError`` has a
    thousand frames) and never the request body."""
    # No source lines are read: a RecursionError brings a thousand frames.
    every = list(traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__),
                                                lookup_lines=False))
    # Our own innermost frames say more than the library's (json's decoder, say).
    ours = [f for f in every if f.filename.startswith(_PROJECT) and "site-packages" not in
            f.filename]
    frames = (ours or every)[-LOGGED_FRAMES:]
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                       for f in reversed(frames))
    return (f"unexpected {type(exc).__name__} on {method} {_clip(path)}: {_clip(str(exc))}"
            f" (at {where or 'unknown'})")


class CatchAllMiddleware:
    """Answers any unexpected exception with a 500 error JSON, inside the CORS middleware (so a
    browser sees the error, not a CORS failure) and without re-raising it to the server, which
    would log the traceback again. The log is one line of bounded size (``describe_failure``):
    the route and the exception, never the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            # The client went away before its body was complete (a dropped mobile connection,
            # or an attacker doing it on purpose): nobody to answer, and no server failure.
            return
        except Exception as exc:
            if isinstance(exc, RecursionError) and not started:
                # Only input nested past every check gets here (bodies are limited to
                # ``routes.common.MAX_DEPTH`` levels): the client's mistake, noted once.
                log.warning("%s", describe_failure(exc, scope["method"], scope["path"]))
                err = ApiError(ErrorCode.INVALID_PARAMETER, 400, "invalid input: nested too deeply")
                await error_response(err, scope=scope)(scope, receive, send)
                return
            from .store_unavailable import is_store_unavailable, unavailable_answer

            if not started and is_store_unavailable(exc):  # 503 with Retry-After, a warning.
                await unavailable_answer(scope, exc)(scope, receive, send)
                return
            log.error("%s", describe_failure(exc, scope["method"], scope["path"]))
            if started:
                # Too late for an error answer. Returning makes the server close the
                # connection with a one-line note, where re-raising would log the traceback.
                return
            err = ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 500, "internal server error")
            await error_response(err, scope=scope)(scope, receive, send)
