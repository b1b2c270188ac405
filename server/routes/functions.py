"""``POST /app/{app_id}/functions/call`` with the access token: run a function, answer EJSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import calls, sessions
from .common import check_app, client_address, json_bytes


async def call(request: Request) -> Response:
    """The function's result as canonical EJSON, ``Content-Type: application/json`` exactly."""
    services = check_app(request)
    caller = await sessions.check_access(services, request.headers.get("authorization"))
    result = await calls.call(services, caller.user, await json_bytes(request),
                              request_fields(request))
    return Response(result, media_type="application/json")


#: Headers a function does not see in ``context.request``: they carry the caller's credentials.
_PRIVATE_HEADERS = frozenset({"authorization", "cookie"})


def request_fields(request: Request) -> dict[str, Any]:
    """``context.request`` as App Services gives it to functions that clients call."""
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if name not in _PRIVATE_HEADERS:
            headers.setdefault("-".join(p.capitalize() for p in name.split("-")), []).append(value)
    return {
        "remoteIPAddress": client_address(request),
        "requestHeaders": headers,
        "httpMethod": request.method,
        "httpReferrer": request.headers.get("referer", ""),
        "httpUserAgent": request.headers.get("user-agent", ""),
        "rawQueryString": request.url.query,
        "webhookUrl": "",
        "service": "",
        "action": "",
    }


ROUTES = [Route(paths.functions_call("{app_id}"), call, methods=["POST"])]
