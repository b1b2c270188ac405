"""Thin routes of the Admin API under ``/groups/{group_id}/apps``: the app, its users, pending
registrations, custom user data and API keys. Each checks the admin token and the path's group
and app first (``auth.require_app``), then calls one service."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..routes.common import empty, json_body, json_ok, services_of
from ..services.api_keys import summary
from . import api_keys, apps, paths, users
from .auth import require_admin, require_app


def _any_email(template: str) -> str:
    # An address may hold "/" ("a/b@example.com" is valid): clients send it as %2F, which the
    # server decodes before routing, so the segment must match slashes too. The route's
    # literal tail (/confirm) still ends the match, since the pattern is anchored.
    return template.replace("{email}", "{email:path}")


def _p(request: Request, name: str) -> str:
    return str(request.path_params[name])


async def list_apps(request: Request) -> Response:
    """``GET /groups/{group_id}/apps``: this server's app (for the standard product)."""
    await require_admin(request)
    services = services_of(request)
    apps.check_group(services, _p(request, "group_id"))
    return json_ok(apps.list_apps(services, request.query_params.get("product")))


async def get_app(request: Request) -> Response:
    """``GET /groups/{group_id}/apps/{app_object_id}``."""
    services, _ = await require_app(request)
    return json_ok(apps.describe(services))


async def list_users(request: Request) -> Response:
    """``GET .../users?status=&provider_types=&after=&limit=``."""
    services, _ = await require_app(request)
    query = request.query_params
    return json_ok(await users.list_users(
        services, status=query.get("status"), provider_types=query.get("provider_types"),
        after=query.get("after"), limit=query.get("limit")))


async def create_user(request: Request) -> Response:
    """``POST .../users {email, password}``: 201 with the user."""
    services, caller = await require_app(request)
    body = await json_body(request)
    return json_ok(await users.create_user(services, caller, body), 201)


async def search_users(request: Request) -> Response:
    """``GET .../users/search?q=&limit=`` (ours)."""
    services, _ = await require_app(request)
    query = request.query_params
    return json_ok(await users.search(services, query.get("q"), query.get("limit")))


async def get_user(request: Request) -> Response:
    """``GET .../users/{user_id}``."""
    services, _ = await require_app(request)
    return json_ok(users.user_json(await users.get_user(services, _p(request, "user_id"))))


async def delete_user(request: Request) -> Response:
    """``DELETE .../users/{user_id}``: 204."""
    services, caller = await require_app(request)
    await users.delete_user(services, caller, _p(request, "user_id"))
    return empty()


async def enable_user(request: Request) -> Response:
    """``PUT .../users/{user_id}/enable``: 204."""
    services, caller = await require_app(request)
    await users.set_disabled(services, caller, _p(request, "user_id"), False)
    return empty()


async def disable_user(request: Request) -> Response:
    """``PUT .../users/{user_id}/disable``: 204; the user's sessions end."""
    services, caller = await require_app(request)
    await users.set_disabled(services, caller, _p(request, "user_id"), True)
    return empty()


async def log_out_user(request: Request) -> Response:
    """``PUT .../users/{user_id}/logout``: 204; every session ends."""
    services, caller = await require_app(request)
    await users.log_out(services, caller, _p(request, "user_id"))
    return empty()


async def user_devices(request: Request) -> Response:
    """``GET .../users/{user_id}/devices``."""
    services, _ = await require_app(request)
    return json_ok(await users.devices(services, _p(request, "user_id")))


async def reset_factors(request: Request) -> Response:
    """``DELETE .../users/{user_id}/factors`` (ours): 204, also when it had none."""
    services, caller = await require_app(request)
    await users.reset_factors(services, caller, _p(request, "user_id"))
    return empty()


async def custom_data(request: Request) -> Response:
    """``GET`` or ``PUT .../users/{user_id}/custom_data`` (ours)."""
    services, caller = await require_app(request)
    user_id = _p(request, "user_id")
    if request.method == "GET":
        return json_ok(await users.read_custom_data(services, user_id))
    body = await json_body(request)
    await users.write_custom_data(services, caller, user_id, body)
    return empty()


async def pending_users(request: Request) -> Response:
    """``GET .../user_registrations/pending_users?after=&limit=``."""
    services, _ = await require_app(request)
    query = request.query_params
    return json_ok(await users.pending_users(services, query.get("after"), query.get("limit")))


async def confirm_pending(request: Request) -> Response:
    """``POST .../user_registrations/by_email/{email}/confirm``: 204."""
    services, caller = await require_app(request)
    await users.confirm_pending(services, caller, _p(request, "email"))
    return empty()


async def run_confirmation(request: Request) -> Response:
    """``POST .../user_registrations/by_email/{email}/run_confirm``: 202."""
    services, caller = await require_app(request)
    await users.rerun_confirmation(services, caller, _p(request, "email"))
    return empty(202)


async def delete_pending(request: Request) -> Response:
    """``DELETE .../user_registrations/by_email/{email}``: 204."""
    services, caller = await require_app(request)
    await users.delete_pending(services, caller, _p(request, "email"))
    return empty()


async def app_keys(request: Request) -> Response:
    """``GET`` or ``POST .../api_keys``: the app's keys."""
    services, caller = await require_app(request)
    if request.method == "GET":
        return json_ok(await api_keys.list_app_keys(services))
    body = await json_body(request)
    return json_ok(await api_keys.create_app_key(services, caller, body), 201)


async def app_key(request: Request) -> Response:
    """``GET`` or ``DELETE .../api_keys/{key_id}``."""
    services, caller = await require_app(request)
    key_id = _p(request, "key_id")
    if request.method == "GET":
        return json_ok(summary(await api_keys.app_key(services, key_id)))
    await api_keys.delete_app_key(services, caller, key_id)
    return empty()


async def app_key_state(request: Request) -> Response:
    """``PUT .../api_keys/{key_id}/enable`` or ``/disable``."""
    services, caller = await require_app(request)
    disabled = request.url.path.endswith("/disable")
    await api_keys.set_app_key_disabled(services, caller, _p(request, "key_id"), disabled)
    return empty()


async def user_keys(request: Request) -> Response:
    """``GET .../users/{user_id}/api_keys`` (ours)."""
    services, _ = await require_app(request)
    return json_ok(await api_keys.list_user_keys(services, _p(request, "user_id")))


async def user_key(request: Request) -> Response:
    """``GET`` or ``DELETE .../users/{user_id}/api_keys/{key_id}`` (ours)."""
    services, caller = await require_app(request)
    user_id, key_id = _p(request, "user_id"), _p(request, "key_id")
    if request.method == "GET":
        key = await api_keys.user_key(services, user_id, key_id)
        return json_ok(summary(key))
    await api_keys.delete_user_key(services, caller, user_id, key_id)
    return empty()


async def user_key_state(request: Request) -> Response:
    """``PUT .../users/{user_id}/api_keys/{key_id}/enable`` or ``/disable`` (ours)."""
    services, caller = await require_app(request)
    disabled = request.url.path.endswith("/disable")
    await api_keys.set_user_key_disabled(services, caller, _p(request, "user_id"),
                                         _p(request, "key_id"), disabled)
    return empty()


ROUTES = [
    Route(paths.APPS, list_apps, methods=["GET"]),
    Route(paths.APP, get_app, methods=["GET"]),
    Route(paths.USERS, list_users, methods=["GET"]),
    Route(paths.USERS, create_user, methods=["POST"]),
    # Before USER, whose {user_id} would take "search".
    Route(paths.USER_SEARCH, search_users, methods=["GET"]),
    Route(paths.USER, get_user, methods=["GET"]),
    Route(paths.USER, delete_user, methods=["DELETE"]),
    Route(paths.USER_ENABLE, enable_user, methods=["PUT"]),
    Route(paths.USER_DISABLE, disable_user, methods=["PUT"]),
    Route(paths.USER_LOGOUT, log_out_user, methods=["PUT"]),
    Route(paths.USER_DEVICES, user_devices, methods=["GET"]),
    Route(paths.USER_FACTORS, reset_factors, methods=["DELETE"]),
    Route(paths.USER_CUSTOM_DATA, custom_data, methods=["GET", "PUT"]),
    Route(paths.USER_API_KEYS, user_keys, methods=["GET"]),
    Route(paths.USER_API_KEY, user_key, methods=["GET", "DELETE"]),
    Route(paths.USER_API_KEY_ENABLE, user_key_state, methods=["PUT"]),
    Route(paths.USER_API_KEY_DISABLE, user_key_state, methods=["PUT"]),
    Route(paths.PENDING_USERS, pending_users, methods=["GET"]),
    Route(_any_email(paths.BY_EMAIL), delete_pending, methods=["DELETE"]),
    Route(_any_email(paths.BY_EMAIL_CONFIRM), confirm_pending, methods=["POST"]),
    Route(_any_email(paths.BY_EMAIL_RUN_CONFIRM), run_confirmation, methods=["POST"]),
    Route(paths.API_KEYS, app_keys, methods=["GET", "POST"]),
    Route(paths.API_KEY, app_key, methods=["GET", "DELETE"]),
    Route(paths.API_KEY_ENABLE, app_key_state, methods=["PUT"]),
    Route(paths.API_KEY_DISABLE, app_key_state, methods=["PUT"]),
]
