"""The Admin API's API keys: the app's keys (App Services' server API keys: ``POST .../api_keys``
is what ``appservices users create --type api-key`` calls) and any user's own keys (Latchkey's
addition).

The app's keys are ``services.api_keys``' server keys: each logs in as its own user of type
``server``, made and deleted with the key. A user's keys are the ones it made with the client
API. Disabling or deleting a key ends the sessions opened with it, in the same transaction
(the store does it). A key id that is not the app's, or not that user's, answers 404
``APIKeyNotFound``, as an unknown one does.

HTTP-free: ``routes_users`` calls these; every change gets the acting admin (``actor``).
"""

from __future__ import annotations

from typing import Any

from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..services import api_keys, audit
from ..services.context import Services
from ..services.providers import string_field
from ..store.base import ApiKey
from .keys import AdminCaller
from .users import get_user


def _not_found() -> ApiError:
    return ApiError(ErrorCode.API_KEY_NOT_FOUND, 404, "API key not found")


async def _key(services: Services, key_id: str) -> ApiKey:
    key = await services.store.get_api_key(key_id) if len(key_id) <= 64 else None
    if key is None:
        raise _not_found()
    return key


# The app's keys.
async def create_app_key(services: Services, actor: AdminCaller,
                         payload: dict[str, Any]) -> dict[str, Any]:
    """A new app key ``{name}``: ``{_id, name, disabled, key}``, the only time ``key`` shows."""
    key, secret = await api_keys.create_server_key(services, string_field(payload, "name"))
    audit.admin_action(services, actor, "admin_app_key_created", api_key_id=key.id,
                       key_name=key.name)
    return {**api_keys.summary(key), "key": secret}


async def list_app_keys(services: Services) -> list[dict[str, Any]]:
    """The app's keys, oldest first."""
    return [api_keys.summary(k) for k in await api_keys.list_server_keys(services)]


async def app_key(services: Services, key_id: str) -> ApiKey:
    """One of the app's keys; 404 ``APIKeyNotFound`` for any other id."""
    key = await _key(services, key_id)
    owner = await services.store.get_user(key.user_id)
    if owner is None or owner.type != api_keys.SERVER_USER:
        raise _not_found()
    return key


async def set_app_key_disabled(services: Services, actor: AdminCaller, key_id: str,
                               disabled: bool) -> None:
    """Enable or disable one of the app's keys."""
    key = await app_key(services, key_id)
    if not await services.store.set_api_key_disabled(key.id, disabled):
        raise _not_found()
    audit.admin_action(services, actor, "admin_app_key_disabled" if disabled else
                       "admin_app_key_enabled", api_key_id=key.id, key_name=key.name)


async def delete_app_key(services: Services, actor: AdminCaller, key_id: str) -> None:
    """Delete one of the app's keys with its user and that user's sessions."""
    key = await app_key(services, key_id)
    if not await api_keys.delete_server_key(services, key.id):
        raise _not_found()
    audit.admin_action(services, actor, "admin_app_key_deleted", api_key_id=key.id,
                       key_name=key.name)


# A user's own keys.
async def list_user_keys(services: Services, user_id: str) -> list[dict[str, Any]]:
    """A user's keys, oldest first, without secrets."""
    user = await get_user(services, user_id)
    return [api_keys.summary(k) for k in await services.store.list_api_keys(user.id)]


async def user_key(services: Services, user_id: str, key_id: str) -> ApiKey:
    """One of a user's keys; 404 ``UserNotFound`` or ``APIKeyNotFound``."""
    user = await get_user(services, user_id)
    key = await _key(services, key_id)
    if key.user_id != user.id:
        raise _not_found()
    return key


async def set_user_key_disabled(services: Services, actor: AdminCaller, user_id: str,
                                key_id: str, disabled: bool) -> None:
    """Enable or disable one of a user's keys; disabling ends the sessions opened with it."""
    key = await user_key(services, user_id, key_id)
    if not await services.store.set_api_key_disabled(key.id, disabled):
        raise _not_found()
    audit.admin_action(services, actor, "admin_user_key_disabled" if disabled else
                       "admin_user_key_enabled", user_id=key.user_id, api_key_id=key.id,
                       key_name=key.name)


async def delete_user_key(services: Services, actor: AdminCaller, user_id: str,
                          key_id: str) -> None:
    """Delete one of a user's keys and the sessions opened with it."""
    key = await user_key(services, user_id, key_id)
    if not await services.store.delete_api_key(key.id):
        raise _not_found()
    audit.admin_action(services, actor, "admin_user_key_deleted", user_id=key.user_id,
                       api_key_id=key.id, key_name=key.name)
