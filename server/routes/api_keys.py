"""A user's own API keys: ``/auth/api_keys`` (routes 15 to 20), all with the refresh token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import api_keys, sessions
from ..services.sessions import Caller
from .common import empty, json_body, json_ok, services_of


async def _caller(request: Request) -> Caller:
    return await sessions.check_refresh(services_of(request),
                                        request.headers.get("authorization"))


async def create(request: Request) -> Response:
    """``POST /auth/api_keys {name}``: 201 with the secret ``key``, shown this once."""
    caller = await _caller(request)
    body = await json_body(request)
    return json_ok(await api_keys.create(services_of(request), caller, body), 201)


async def list_keys(request: Request) -> Response:
    """``GET /auth/api_keys``: ``[{_id, name, disabled}, ...]``."""
    caller = await _caller(request)
    return json_ok(await api_keys.list_keys(services_of(request), caller))


async def fetch(request: Request) -> Response:
    """``GET /auth/api_keys/{key_id}``: ``{_id, name, disabled}``."""
    caller = await _caller(request)
    key = await api_keys.own_key(services_of(request), caller, request.path_params["key_id"])
    return json_ok(api_keys.summary(key))


async def delete(request: Request) -> Response:
    """``DELETE /auth/api_keys/{key_id}``; 403 for the key behind the calling session."""
    caller = await _caller(request)
    await api_keys.delete(services_of(request), caller, request.path_params["key_id"])
    return empty()


async def enable(request: Request) -> Response:
    """``PUT /auth/api_keys/{key_id}/enable``."""
    caller = await _caller(request)
    await api_keys.set_disabled(services_of(request), caller, request.path_params["key_id"], False)
    return empty()


async def disable(request: Request) -> Response:
    """``PUT /auth/api_keys/{key_id}/disable``."""
    caller = await _caller(request)
    await api_keys.set_disabled(services_of(request), caller, request.path_params["key_id"], True)
    return empty()


_KEY = "{key_id}"
ROUTES = [
    Route(paths.api_keys(), create, methods=["POST"]),
    Route(paths.api_keys(), list_keys, methods=["GET"]),
    Route(paths.api_key(_KEY), fetch, methods=["GET"]),
    Route(paths.api_key(_KEY), delete, methods=["DELETE"]),
    Route(paths.api_key_enable(_KEY), enable, methods=["PUT"]),
    Route(paths.api_key_disable(_KEY), disable, methods=["PUT"]),
]
