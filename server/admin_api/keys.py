"""Admin keys and the Admin API's sessions: making keys on the server, logging in with one,
refreshing, logging out, and checking an admin bearer token.

Rule 1: an admin key is a pair: a public key (8 lowercase letters, as App Services' programmatic
keys have, shown in lists) and a private key (64 letters and digits, shown once, at creation;
the store keeps only its SHA-256, as for users' API keys).

Rule 2: admin tokens are apart from client tokens: their ``typ`` is ``admin_access`` or
``admin_refresh`` and their sessions are rows of ``admin_sessions``, so a client token never
opens an admin route and an admin token never opens a client route (both answer 401
``InvalidSession``). An access token lives only as long as its session, and disabling or
deleting the key ends every session of it at once.

Rule 3: admin logins are rate limited like email/password logins: per client address
(``login_attempts_per_address``) and per public key and address (``login_failures_per_account``
failures, cleared by a success). Error texts never hold a key or a token.

HTTP-free: ``server.admin_api.auth`` (the routes and ``require_admin``) calls these.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass

from app.sdk.errors import ErrorCode

from ..errors import ApiError, bad_request, invalid_session
from ..services import audit, ratelimit
from ..services.context import Services
from ..services.sessions import bearer, new_device_id
from ..services.tokens import TokenError, digest, same_digest
from ..services.users import new_id
from ..store.base import AdminKey, AdminSession, Conflict

ACCESS = "admin_access"
REFRESH = "admin_refresh"
PRIVATE_ALPHABET = string.ascii_letters + string.digits
PRIVATE_LENGTH = 64
PUBLIC_LENGTH = 8
MAX_NAME = 128
#: The provider type an admin's profile shows, as App Services' profile does.
PROVIDER = "mongodb-cloud"


@dataclass(frozen=True, slots=True)
class AdminCaller:
    """The admin key behind a valid admin access token, and its session."""

    key: AdminKey
    session_id: str
    device_id: str


def _check_name(name: str) -> str:
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
        raise bad_request(f"admin key names are 1 to {MAX_NAME} printable characters",
                          ErrorCode.INVALID_PARAMETER)
    return name


async def create_key(services: Services, name: str) -> tuple[AdminKey, str]:
    """A new enabled admin key and its private key (shown only now).

    ```python
    key, private = await create_key(services, "ops laptop")
    ```
    """
    _check_name(name)
    for _ in range(5):
        private = "".join(secrets.choice(PRIVATE_ALPHABET) for _ in range(PRIVATE_LENGTH))
        public = "".join(secrets.choice(string.ascii_lowercase) for _ in range(PUBLIC_LENGTH))
        key = AdminKey(new_id(), name, public, digest(private), False, time.time())
        if any(k.name == name for k in await services.store.list_admin_keys()):
            break
        try:
            await services.store.create_admin_key(key)
        except Conflict:
            continue  # Most likely the name, else a public key drawn twice: look again.
        return key, private
    raise ApiError(ErrorCode.API_KEY_ALREADY_EXISTS, 409,
                   f"an admin key named '{name}' exists already")


async def list_keys(services: Services) -> list[AdminKey]:
    """Every admin key, oldest first."""
    return await services.store.list_admin_keys()


async def find_key(services: Services, ref: str) -> AdminKey | None:
    """The admin key with this id, public key or name."""
    for key in await services.store.list_admin_keys():
        if ref in (key.id, key.public_key, key.name):
            return key
    return None


async def set_disabled(services: Services, key: AdminKey, disabled: bool) -> bool:
    """Enable or disable a key; disabling ends all its sessions."""
    return await services.store.set_admin_key_disabled(key.id, disabled)


async def delete_key(services: Services, key: AdminKey) -> bool:
    """Delete a key with all its sessions."""
    return await services.store.delete_admin_key(key.id)


def _refused() -> ApiError:
    return ApiError(ErrorCode.AUTH_ERROR, 401, "invalid admin API key")


async def log_in(services: Services, public: str, private: str,
                 address: str) -> dict[str, str]:
    """Open an admin session: ``{access_token, refresh_token, user_id, device_id}``."""
    try:
        return await _log_in(services, public, private, address)
    except ApiError as exc:
        # Neither key is recorded: a private key pasted as the public one would be a secret.
        audit.record(services, "admin_login_error", reason=exc.code.value, provider=PROVIDER)
        raise


async def _log_in(services: Services, public: str, private: str,
                  address: str) -> dict[str, str]:
    security = services.settings.security
    await ratelimit.limit(services, "admin-login-address",
                          security.login_attempts_per_address).take(
        address, ratelimit.LOGIN_MESSAGE)
    failures = ratelimit.limit(services, "admin-login-key", security.login_failures_per_account)
    source = f"{public}|{address}"
    await failures.take(source, ratelimit.LOGIN_MESSAGE)
    key = await services.store.find_admin_key(public)
    if key is None or not same_digest(private, key.key_hash):
        raise _refused()
    await failures.reset(source)
    if key.disabled:
        raise ApiError(ErrorCode.AUTH_ERROR, 401, "admin API key is disabled")
    now, device_id = time.time(), new_device_id()
    lifetime = services.settings.refresh_token_seconds
    session_id = new_id()
    refresh = services.signer.admin_token(REFRESH, key.id, session_id, device_id, lifetime)
    await services.store.create_admin_session(
        AdminSession(session_id, key.id, digest(refresh), device_id, now, now + lifetime))
    audit.record(services, "admin_login", actor=key.id, provider=PROVIDER, device_id=device_id,
                 admin_name=key.name, session_id=session_id)
    return {"access_token": _access(services, key.id, session_id, device_id),
            "refresh_token": refresh, "user_id": key.id, "device_id": device_id}


def _access(services: Services, key_id: str, session_id: str, device_id: str) -> str:
    return services.signer.admin_token(ACCESS, key_id, session_id, device_id,
                                       services.settings.access_token_seconds)


async def check_access(services: Services, authorization: str | None) -> AdminCaller:
    """The admin behind an admin access token; 401 for anything else (client tokens too)."""
    token = bearer(authorization)
    try:
        claims = services.signer.verify(token, ACCESS)
    except TokenError as exc:
        raise invalid_session(str(exc)) from exc
    key = await services.store.get_admin_key_for_session(claims.sub, claims.session_id)
    if key is None:
        raise invalid_session("session ended")
    if key.disabled:  # Disabling ends the sessions; this covers a race with that.
        raise invalid_session("admin API key is disabled")
    return AdminCaller(key, claims.session_id, claims.device_id)


async def _refresh_session(services: Services, authorization: str | None) -> AdminSession:
    token = bearer(authorization)
    try:
        claims = services.signer.verify(token, REFRESH)
    except TokenError as exc:
        raise invalid_session(str(exc)) from exc
    session = await services.store.get_admin_session(claims.session_id)
    if session is None or not same_digest(token, session.token_hash):
        raise invalid_session("failed to find refresh token")
    return session


async def refresh(services: Services, authorization: str | None) -> dict[str, str]:
    """A new admin access token for an admin refresh token: ``{access_token}``."""
    session = await _refresh_session(services, authorization)
    if session.expires_at <= time.time():
        raise invalid_session("refresh token expired")
    return {"access_token": _access(services, session.key_id, session.id, session.device_id)}


async def log_out(services: Services, authorization: str | None) -> None:
    """End the admin session of a refresh token."""
    session = await _refresh_session(services, authorization)
    await services.store.delete_admin_session(session.id)
    audit.record(services, "admin_logout", actor=session.key_id, provider=PROVIDER,
                 device_id=session.device_id, session_id=session.id)


def profile(services: Services, caller: AdminCaller, group_id: str) -> dict[str, object]:
    """``GET /auth/profile``: the key as App Services shows an admin, with its one role."""
    key = caller.key
    return {
        "user_id": key.id,
        "domain_id": group_id,
        "identities": [{"id": key.public_key, "provider_type": PROVIDER,
                        "provider_id": group_id}],
        "data": {"name": key.name},
        "type": "normal",
        "roles": [{"role_name": "GROUP_OWNER", "group_id": group_id}],
    }
