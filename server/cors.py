"""CORS for the API: allowed origins from the config, preflights answered, errors in JSON.

An allowed origin gets its own value back (never ``*``) with credentials allowed, since the
OAuth linking request of realm-web is credentialed, and ``X-BAAS-Location`` exposed. A preflight
from any other origin is refused with 403 ``DomainNotAllowed``. The server's own origin is always
allowed. Requests without ``Origin`` (non-browser clients) get no CORS headers. Every API answer
carries ``Vary: Origin``, since what it says depends on that header.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sdk.errors import ErrorCode

from .error_docs import error_link
from .errors import link_base

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Requested-With, X-Latchkey-Quiet-Errors"
MAX_AGE = "600"


class CORSMiddleware:
    """Pure ASGI middleware applying the rules above to paths under ``prefix``."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...], prefix: str = "/api/") -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/") for o in allowed)
        self.prefix = prefix

    def _allowed(self, origin: str, headers: Headers, scope: Scope) -> bool:
        if "*" in self.allowed or origin in self.allowed:
            return True
        host = headers.get("host", "")
        return origin in (f"{scope.get('scheme', 'http')}://{host}",)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and self._allowed(origin, headers, scope)
        if origin is not None and scope["method"] == "OPTIONS" \
                and "access-control-request-method" in headers:
            await self._preflight(scope, origin, allowed, send)
            return
        extra = _cors_headers(origin) if origin is not None and allowed else []

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Every answer depends on Origin (CORS headers or not), so caches must key on it.
                message["headers"] = _vary_origin(list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, origin: str, allowed: bool, send: Send) -> None:
        if not allowed:
            code = ErrorCode.DOMAIN_NOT_ALLOWED
            body = json.dumps({"error": f"origin '{origin[:200]}' is not allowed",
                               "error_code": code.value,
                               "link": error_link(link_base(scope), code)})
            await _respond(send, 403, _vary_origin([(b"content-type", b"application/json")]),
                           body.encode())
            return
        headers = _cors_headers(origin) + [
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", MAX_AGE.encode()),
        ]
        await _respond(send, 204, _vary_origin(headers), b"")


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1", "replace")),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers",
         b"X-BAAS-Location, Retry-After, X-Latchkey-Status, X-Latchkey-Empty"),
    ]


def _vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    values = [v for k, v in headers if k.lower() == b"vary"]
    if any(b"origin" in [p.strip().lower() for p in v.split(b",")] for v in values):
        return headers
    if not values:
        return headers + [(b"vary", b"Origin")]
    return [(k, v + b", Origin" if k.lower() == b"vary" else v) for k, v in headers]


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]],
                   body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
