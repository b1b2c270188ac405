"""API keys: users' own keys (create, list, fetch, enable, disable, delete), server keys made by an
admin, and the ``api-key`` login provider.

Rule 1: the secret is shown once, in the answer to its creation; the store keeps only its SHA-256.
It is 64 random letters and digits (about 380 bits), so a hash lookup is as safe as a comparison.

Rule 2: a user sees and changes only its own keys; somebody else's key id answers exactly like an
unknown one (404 ``APIKeyNotFound``), so ids cannot be probed.

Rule 3: a user key logs in as the user who made it. A server key logs in as its own user of type
``server``, created with the key (identity ``api-key`` / key id) and deleted with it.

HTTP-free: routes in ``server.routes.api_keys`` call these functions.
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError, bad_request
from ..store.base import ApiKey, Conflict, UserRecord
from . import audit, users
from .context import Services
from .providers import Proof, provider, string_field
from .sessions import Caller
from .tokens import digest

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 64
MAX_NAME = 128
MAX_KEYS_PER_USER = 20
SERVER_USER = "server"


def _new_secret() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def summary(key: ApiKey) -> dict[str, Any]:
    """A key as ``fetch`` and ``list`` show it: exactly ``{_id, name, disabled}``."""
    return {"_id": key.id, "name": key.name, "disabled": key.disabled}


def _name(payload: dict[str, Any]) -> str:
    name = string_field(payload, "name")
    if len(name) > MAX_NAME or not name.isprintable():
        raise bad_request(f"API key names are 1 to {MAX_NAME} printable characters",
                          ErrorCode.INVALID_PARAMETER)
    return name


def _not_found() -> ApiError:
    return ApiError(ErrorCode.API_KEY_NOT_FOUND, 404, "API key not found")


def _may_own_keys(user: UserRecord) -> bool:
    # App Services ties user keys to a user that can log in again by other means; an anonymous
    # user cannot, and a server user already is a key.
    return user.type != SERVER_USER and any(
        i.provider_type not in (routes.ANON_USER, routes.API_KEY) for i in user.identities)


async def _insert(services: Services, user_id: str, name: str) -> tuple[ApiKey, str]:
    secret = _new_secret()
    key = ApiKey(users.new_id(), user_id, name, digest(secret), False, time.time())
    try:
        await services.store.create_api_key(key)
    except Conflict as exc:
        raise ApiError(ErrorCode.API_KEY_ALREADY_EXISTS, 409,
                       f"API key with name '{name}' already exists") from exc
    return key, secret


async def create(services: Services, caller: Caller, payload: dict[str, Any]) -> dict[str, Any]:
    """Make a key for the caller: ``{_id, key, name, disabled}``, the only time ``key`` is seen."""
    name = _name(payload)
    if not _may_own_keys(caller.user):
        raise bad_request("anonymous users cannot have API keys")
    if len(await services.store.list_api_keys(caller.user.id)) >= MAX_KEYS_PER_USER:
        raise bad_request(f"a user can have at most {MAX_KEYS_PER_USER} API keys")
    key, secret = await _insert(services, caller.user.id, name)
    audit.record(services, "api_key_created", user_id=caller.user.id,
                 device_id=caller.device_id, api_key_id=key.id, key_name=key.name)
    return {"_id": key.id, "key": secret, "name": key.name, "disabled": key.disabled}


async def list_keys(services: Services, caller: Caller) -> list[dict[str, Any]]:
    """The caller's keys, oldest first, without secrets."""
    return [summary(k) for k in await services.store.list_api_keys(caller.user.id)]


async def own_key(services: Services, caller: Caller, key_id: str) -> ApiKey:
    """One of the caller's keys; 404 ``APIKeyNotFound`` for any other id."""
    key = await services.store.get_api_key(key_id) if len(key_id) == 24 else None
    if key is None or key.user_id != caller.user.id:
        raise _not_found()
    return key


async def set_disabled(services: Services, caller: Caller, key_id: str, disabled: bool) -> None:
    """Enable or disable one of the caller's keys (idempotent)."""
    key = await own_key(services, caller, key_id)
    if not await services.store.set_api_key_disabled(key.id, disabled):
        raise _not_found()
    audit.record(services, "api_key_disabled" if disabled else "api_key_enabled",
                 user_id=caller.user.id, device_id=caller.device_id, api_key_id=key.id,
                 key_name=key.name)


async def delete(services: Services, caller: Caller, key_id: str) -> None:
    """Delete one of the caller's keys, unless the calling session was opened with it: 403 as
    App Services answers, with ``BadRequest``, a code native SDKs know (App Services' own code
    for it is not known)."""
    key = await own_key(services, caller, key_id)
    if caller.session is not None and caller.session.api_key_id == key.id:
        raise ApiError(ErrorCode.BAD_REQUEST, 403,
                       "cannot delete the API key used to authenticate this session")
    if not await services.store.delete_api_key(key.id):
        raise _not_found()
    audit.record(services, "api_key_deleted", user_id=caller.user.id,
                 device_id=caller.device_id, api_key_id=key.id, key_name=key.name)


@provider(routes.API_KEY)
async def api_key_login(services: Services, payload: dict[str, Any], address: str) -> Proof:
    """An enabled key logs in as its owner: the user who made it, or its server user."""
    secret = string_field(payload, "key")
    key = await services.store.find_api_key(digest(secret))
    if key is None:
        raise ApiError(ErrorCode.AUTH_ERROR, 401, "invalid API key")
    if key.disabled:
        raise ApiError(ErrorCode.AUTH_ERROR, 401, "API key is disabled")
    identity = users.make_identity(services, routes.API_KEY, key.id)
    return Proof(identity, api_key_id=key.id, user_id=key.user_id)


async def create_server_key(services: Services, name: str) -> tuple[ApiKey, str]:
    """A server key and its secret; its user of type ``server`` is created with it.

    ```python
    key, secret = await create_server_key(services, "nightly-export")
    ```
    """
    _name({"name": name})
    if any(k.name == name for k in await list_server_keys(services)):
        raise ApiError(ErrorCode.API_KEY_ALREADY_EXISTS, 409,
                       f"API key with name '{name}' already exists")
    user = UserRecord(users.new_id(), SERVER_USER, False, time.time())
    await services.store.create_user(user, None)
    try:
        key, secret = await _insert(services, user.id, name)
        identity = users.make_identity(services, routes.API_KEY, key.id, {"name": name})
        await services.store.add_identity(user.id, identity)
    except BaseException:
        await services.store.delete_user(user.id)
        raise
    return key, secret


async def list_server_keys(services: Services) -> list[ApiKey]:
    """Every server key, oldest first."""
    keys: list[ApiKey] = []
    for user in await services.store.list_users():
        if user.type == SERVER_USER:
            keys += await services.store.list_api_keys(user.id)
    return sorted(keys, key=lambda k: (k.created_at, k.id))


async def delete_server_key(services: Services, key_id: str) -> bool:
    """Delete a server key with its user and that user's sessions; ``False`` if unknown."""
    key = await services.store.get_api_key(key_id)
    owner = await services.store.get_user(key.user_id) if key else None
    if key is None or owner is None or owner.type != SERVER_USER:
        return False
    return await services.store.delete_user(owner.id)
