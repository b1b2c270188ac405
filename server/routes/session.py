"""Profile, session refresh, logout and user deletion: the ``/auth`` family (no app id)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import audit, sessions, users
from .common import empty, json_ok, services_of


async def profile(request: Request) -> Response:
    """``GET /auth/profile`` with the access token."""
    services = services_of(request)
    caller = await sessions.check_access(services, request.headers.get("authorization"))
    return json_ok(users.profile(services, caller.user))


async def refresh(request: Request) -> Response:
    """``POST /auth/session`` with the refresh token: a new access token (201)."""
    services = services_of(request)
    return json_ok(await sessions.refresh(services, request.headers.get("authorization")), 201)


async def log_out(request: Request) -> Response:
    """``DELETE /auth/session`` with the refresh token: revoke the session."""
    services = services_of(request)
    await sessions.log_out(services, request.headers.get("authorization"))
    return empty()


async def delete_user(request: Request) -> Response:
    """``DELETE /auth/delete`` with the access token: the user and all it owns go."""
    services = services_of(request)
    caller = await sessions.check_access(services, request.headers.get("authorization"))
    await services.store.delete_user(caller.user.id)
    audit.record(services, audit.USER_DELETED, user_id=caller.user.id, device_id=caller.device_id)
    return empty()


async def session(request: Request) -> Response:
    """``/auth/session``: ``POST`` refreshes, ``DELETE`` logs out."""
    return await (refresh(request) if request.method == "POST" else log_out(request))


ROUTES = [
    Route(paths.profile(), profile, methods=["GET"]),
    # One route for both methods, so that a 405 on this path lists both in its Allow header.
    Route(paths.session(), session, methods=["POST", "DELETE"]),
    Route(paths.delete_user(), delete_user, methods=["DELETE"]),
]
