"""``ApiError``: a failure that renders itself as the wire's error JSON.

Services raise ``ApiError(code, status, message)``; one Starlette exception handler turns it into
``(status, {"error", "error_code", "link"})`` with ``Content-Type: application/json`` exactly
(realm-core reads the body only for that exact value). Messages never contain a secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sdk.errors import ErrorCode

log = logging.getLogger("latchkey.server")

LINK = "https://github.com/latchkey/latchkey#errors"


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

    def __call__(self) -> tuple[int, dict[str, str]]:
        """The status and body to send."""
        return self.status, {"error": self.message, "error_code": self.code.value, "link": LINK}


def error_response(err: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    """The HTTP response for an ``ApiError``, with extra headers such as ``Allow``."""
    status, body = err()
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
    return error_response(exc, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors (404, 405) in the same JSON shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # HTTP requires the Allow header on a 405; Starlette's routing puts it on the exception.
        return error_response(ApiError(ErrorCode.METHOD_NOT_ALLOWED, 405, "method not allowed"),
                              exc.headers)
    if exc.status_code == 404:
        return error_response(ApiError(ErrorCode.NOT_FOUND, 404, "not found"))
    return error_response(ApiError(ErrorCode.BAD_REQUEST, exc.status_code, str(exc.detail)))


class CatchAllMiddleware:
    """Answers any unexpected exception with a 500 error JSON, inside the CORS middleware (so a
    browser sees the error, not a CORS failure) and without re-raising it to the server, which
    would log the traceback twice. The log names the route and the exception, never the body."""

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
        except Exception as exc:
            log.error("unexpected %s on %s %s", type(exc).__name__, scope["method"],
                      scope["path"], exc_info=exc)
            if started:
                raise
            err = ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 500, "internal server error")
            await error_response(err)(scope, receive, send)
