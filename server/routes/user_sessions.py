"""A user's own sessions: ``/auth/sessions`` (Latchkey's addition), all with the access token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import sessions, user_sessions
from ..services.sessions import Caller
from .common import empty, json_ok, services_of


async def _caller(request: Request) -> Caller:
    return await sessions.check_access(services_of(request), request.headers.get("authorization"))


async def sessions_root(request: Request) -> Response:
    """``GET /auth/sessions`` lists, ``DELETE /auth/sessions`` ends all but the caller's."""
    caller = await _caller(request)
    services = services_of(request)
    if request.method == "GET":
        return json_ok(await user_sessions.list_sessions(services, caller))
    return json_ok({"revoked": await user_sessions.revoke_all_other(services, caller)})


async def revoke(request: Request) -> Response:
    """``DELETE /auth/sessions/{session_id}``: end one of the caller's sessions."""
    caller = await _caller(request)
    await user_sessions.revoke(services_of(request), caller,
                               str(request.path_params["session_id"]))
    return empty()


ROUTES = [
    Route(paths.sessions(), sessions_root, methods=["GET", "DELETE"]),
    Route(paths.user_session("{session_id}"), revoke, methods=["DELETE"]),
]
