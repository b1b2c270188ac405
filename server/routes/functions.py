"""``POST /app/{app_id}/functions/call`` with the access token: run a function, answer EJSON."""

from __future__ import annotations

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
    result = await calls.call(services, caller.user, await json_bytes(request))
    return Response(result, media_type="application/json")


ROUTES = [Route(paths.functions_call("{app_id}"), call, methods=["POST"])]
