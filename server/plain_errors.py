"""Error answers that are not the error JSON become the error JSON.

Most failures raise ``ApiError`` and render themselves (``server.errors``). A few answers are
made by code that knows nothing of it: Starlette's file responses answer a bad ``Range`` header
with a plain-text 416 or 400, and the content-addressed Pyodide prefix answers a stale build tag
with a plain-text 404. This middleware sits innermost and rewrites any answer of status 400 or
more whose ``Content-Type`` is not JSON into ``{"error", "error_code", "link"}`` with
``X-Content-Type-Options: nosniff``, keeping the status and the headers that still mean something
(``Content-Range``, ``Allow``, CORS). Error answers are small, so holding one in memory is cheap;
successful answers pass through untouched and unbuffered.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sdk.errors import ErrorCode

from .errors import ApiError, error_response

__all__ = ["PlainErrorsMiddleware"]

# Headers of the original answer that describe its body, which is replaced.
_BODY_HEADERS = {b"content-type", b"content-length", b"content-encoding", b"etag",
                 b"last-modified", b"accept-ranges", b"content-disposition", b"vary"}
_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_TOO_LARGE,
    416: ErrorCode.RANGE_NOT_SATISFIABLE,
}
MAX_MESSAGE = 200


def _code(status: int) -> ErrorCode:
    return _CODES.get(status, ErrorCode.INTERNAL_SERVER_ERROR if status >= 500
                      else ErrorCode.BAD_REQUEST)


def _message(status: int, content_type: bytes, body: bytes) -> str:
    """The plain text the answer held (say "Pyodide is not installed"), else the status's
    reason phrase, in lower case like the server's other messages."""
    text = ""
    if status == 416:  # Starlette's text capitalises every word.
        return "range not satisfiable"
    if not content_type or content_type.startswith(b"text/plain"):
        text = " ".join(body.decode("utf-8", "replace").split())[:MAX_MESSAGE]
    if not text:
        try:
            return HTTPStatus(status).phrase.lower()
        except ValueError:
            return "request failed"
    return text[:1].lower() + text[1:]


class PlainErrorsMiddleware:
    """Turns every non-JSON error answer into the error JSON (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def rewriting_send(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                ctype = headers.get(b"content-type", b"")
                if message["status"] >= 400 and not ctype.startswith(b"application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body += message.get("body", b"")
                if len(body) > 4 * MAX_MESSAGE:  # Only the start is kept for the message.
                    body = body[:4 * MAX_MESSAGE]
                if not message.get("more_body", False):
                    await self._replace(held, body, scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)

    @staticmethod
    async def _replace(start: Message, body: bytes, scope: Scope, receive: Receive,
                       send: Send) -> None:
        status = start["status"]
        kept = {k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in start.get("headers", []) if k.lower() not in _BODY_HEADERS}
        ctype = dict(start.get("headers", [])).get(b"content-type", b"")
        err = ApiError(_code(status), status, _message(status, ctype, body))
        kept["x-content-type-options"] = "nosniff"
        kept.setdefault("cache-control", "no-store")
        await error_response(err, kept, scope=scope)(scope, receive, send)
