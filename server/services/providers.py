"""Authentication providers: turn a login body into the identity it proves.

Each provider is an async function ``(services, payload, address) -> Proof`` registered in
``PROVIDERS`` under its type. ``payload`` is the EJSON-decoded body without ``options``. A provider
raises ``ApiError`` for credentials it rejects; it never creates users itself (``users`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import Identity
from . import bruteforce, passwords, ratelimit, users
from .context import Services


@dataclass(frozen=True, slots=True)
class Proof:
    """What a provider proved: an identity, the user type, and the API key used if any."""

    identity: Identity
    user_type: str = "normal"
    api_key_id: str | None = None
    #: When set, the proof names an existing user directly (API keys), not an identity owner.
    user_id: str | None = None


ProviderFn = Callable[[Services, dict[str, Any], str], Awaitable[Proof]]
PROVIDERS: dict[str, ProviderFn] = {}
#: Providers whose names share a prefix (``oidc-keycloak``, ``oidc-entra``): the factory makes
#: the provider function for one name.
ProviderFactory = Callable[[str], ProviderFn]
FAMILIES: dict[str, ProviderFactory] = {}
_Fn = TypeVar("_Fn", bound=ProviderFn)


def provider(name: str) -> Callable[[_Fn], _Fn]:
    """Register a provider function under its type."""
    def register(fn: _Fn) -> _Fn:
        PROVIDERS[name] = fn
        return fn

    return register


def provider_family(prefix: str) -> Callable[[ProviderFactory], ProviderFactory]:
    """Register a factory for every provider name that starts with ``prefix``."""
    def register(factory: ProviderFactory) -> ProviderFactory:
        FAMILIES[prefix] = factory
        return factory

    return register


def find(provider_name: str) -> ProviderFn | None:
    """The provider function for a name, registered directly or through its family."""
    fn = PROVIDERS.get(provider_name)
    if fn is None:
        prefix = next((p for p in FAMILIES if provider_name.startswith(p)), None)
        fn = FAMILIES[prefix](provider_name) if prefix is not None else None
    return fn


def unauthorized() -> ApiError:
    """The answer to bad email/password credentials (App Services' exact text and code)."""
    return ApiError(ErrorCode.INVALID_PASSWORD, 401, "unauthorized")


def string_field(payload: dict[str, Any], name: str) -> str:
    """A required string field of a body, or 400."""
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        code = ErrorCode.MISSING_PARAMETER if value is None else ErrorCode.INVALID_PARAMETER
        raise ApiError(code, 400, f"expected a string field '{name}'")
    return value


async def prove(services: Services, provider_name: str, payload: dict[str, Any],
                address: str, device_id: str = "") -> Proof:
    """The proof for a login body, after checking the provider is enabled and the limits.

    ``device_id`` is the device the session will be for: a known device of an email/password
    account gets past that account's slow-down (``bruteforce``).
    """
    fn = find(provider_name)
    if fn is None or not services.settings.provider_enabled(provider_name):
        raise ApiError(ErrorCode.AUTH_PROVIDER_NOT_FOUND, 404,
                       f"authentication via '{provider_name}' is unsupported")
    if provider_name == routes.LOCAL_USERPASS:
        return await email_password(services, payload, address, device_id)
    await ratelimit.login_attempt(services, address)
    proof = await fn(services, payload, address)
    await ratelimit.identity_login(services, proof.identity)
    return proof


def enabled(services: Services) -> list[dict[str, str]]:
    """The enabled providers a client can log in with: ``{name, type, display_name?}``."""
    from ..oauth_settings import social_kind

    out = []
    for name, cfg in services.settings.providers.items():
        if not cfg.get("enabled", False) or find(name) is None:
            continue
        item = {"name": name, "type": social_kind(name) or name}
        social = services.settings.oauth.get(name)
        if social is not None:
            item["display_name"] = social.display_name
        out.append(item)
    return out


@provider(routes.ANON_USER)
async def anonymous(services: Services, payload: dict[str, Any], address: str) -> Proof:
    """Every anonymous login is a new user."""
    return Proof(users.make_identity(services, routes.ANON_USER, users.anonymous_identity_id()))


@provider(routes.LOCAL_USERPASS)
async def email_password(services: Services, payload: dict[str, Any], address: str,
                         device_id: str = "") -> Proof:
    """A confirmed email/password account with the right password."""
    email = string_field(payload, "username")
    password = string_field(payload, "password")
    account = await services.store.get_userpass(email)
    key = bruteforce.account_key(account.id if account else None, email)
    attempt = await bruteforce.admit(services, key, address, device_id)
    ok = await passwords.verify_password(account.password_hash if account else None, password)
    if account is None or not ok:
        raise unauthorized()
    await attempt.succeeded(remember_device=account.confirmed)
    if not account.confirmed:
        raise ApiError(ErrorCode.AUTH_ERROR, 401, "confirmation required")
    return Proof(users.make_identity(services, routes.LOCAL_USERPASS, account.id,
                                     {"email": account.email}))
