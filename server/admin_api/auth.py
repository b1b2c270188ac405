"""Admin authentication for routes: ``require_admin`` (every Admin API route calls it first),
``require_app`` (it plus the group and app of the path), and the ``/auth`` routes of the Admin
API: log in with an admin key, refresh, log out, profile.

```python
async def endpoint(request: Request) -> Response:
    caller = await require_admin(request)  # 401 unless an admin access token
    ...
```
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..routes.common import client_address, empty, json_body, json_ok, services_of
from ..services.context import Services
from ..services.providers import string_field
from . import apps, keys, paths
from .keys import AdminCaller

__all__ = ["ROUTES", "AdminCaller", "require_admin", "require_app"]


async def require_admin(request: Request) -> AdminCaller:
    """The admin key behind the request's admin access token; 401 ``MissingAuthReq`` without a
    token, 401 ``InvalidSession`` for any other token (a client token, an ended session)."""
    return await keys.check_access(services_of(request), request.headers.get("authorization"))


async def require_app(request: Request) -> tuple[Services, AdminCaller]:
    """``require_admin``, then 404 unless the path's ``group_id`` and ``app_object_id`` are this
    server's (``GroupNotFound``, ``AppNotFound``)."""
    caller = await require_admin(request)
    services = services_of(request)
    apps.check_app(services, str(request.path_params.get("group_id", "")),
                   str(request.path_params.get("app_object_id", "")))
    return services, caller


async def log_in(request: Request) -> Response:
    """``POST /auth/providers/mongodb-cloud/login {username, apiKey}``: an admin session."""
    services = services_of(request)
    body = await json_body(request)
    public, private = string_field(body, "username"), string_field(body, "apiKey")
    return json_ok(await keys.log_in(services, public, private, client_address(request)))


async def session(request: Request) -> Response:
    """``/auth/session`` with the admin refresh token: ``POST`` refreshes (201), ``DELETE``
    logs out (204)."""
    services = services_of(request)
    authorization = request.headers.get("authorization")
    if request.method == "POST":
        return json_ok(await keys.refresh(services, authorization), 201)
    await keys.log_out(services, authorization)
    return empty()


async def profile(request: Request) -> Response:
    """``GET /auth/profile``: the admin, with its role in this server's group."""
    caller = await require_admin(request)
    services = services_of(request)
    return json_ok(keys.profile(services, caller, apps.group_id(services)))


ROUTES = [
    Route(paths.LOGIN, log_in, methods=["POST"]),
    Route(paths.SESSION, session, methods=["POST", "DELETE"]),
    Route(paths.PROFILE, profile, methods=["GET"]),
]
