"""``POST /app/{app_id}/functions/call`` with the access token: run a function, answer EJSON."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import calls, sessions
from .common import check_app, json_bytes


async def call(request: Request) -> Response:
    """The function's result as canonical EJSON, ``Content-Type: application/json`` exactly."""
    services = check_app(request)
    caller = await sessions.check_access(services, request.headers.get("authorization"))
    result = await calls.call(services, caller.user, await json_bytes(request),
                              request_fields(request))
    return Response(result, media_type="application/json")


#: Headers a function does not see in ``context.request``: they carry the caller's credentials.
_PRIVATE_HEADERS = frozenset({b"authorization", b"cookie"})


@functools.lru_cache(maxsize=256)
def _header_name(raw: bytes) -> str:
    # "user-agent" -> "User-Agent", as App Services (Go's canonical header keys) spells them.
    return "-".join(p.capitalize() for p in raw.decode("latin-1").split("-"))


def request_fields(request: Request) -> dict[str, Any]:
    """``context.request`` as App Services gives it to functions that clients call (read from
    the raw ASGI scope: this runs on every call)."""
    headers: dict[str, list[str]] = {}
    for raw_name, raw_value in request.scope["headers"]:
        if raw_name not in _PRIVATE_HEADERS:
            headers.setdefault(_header_name(raw_name), []).append(raw_value.decode("latin-1"))
    client = request.scope.get("client")
    return {
        "remoteIPAddress": client[0] if client else "",
        "requestHeaders": headers,
        "httpMethod": request.scope["method"],
        "httpReferrer": headers.get("Referer", [""])[0],
        "httpUserAgent": headers.get("User-Agent", [""])[0],
        "rawQueryString": request.scope.get("query_string", b"").decode("latin-1"),
        "webhookUrl": "",
        "service": "",
        "action": "",
    }


ROUTES = [Route(paths.functions_call("{app_id}"), call, methods=["POST"])]
