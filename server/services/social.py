"""Social login: Google, Apple, Facebook and any OpenID Connect issuer as login providers.

A login body proves a person in one of three ways (protocol section 3.1):

- ``id_token``: an OpenID Connect ID token, checked with PyJWT against the keys the issuer
  publishes (``JwksCache``): signature, one of the configured algorithms, ``iss``, ``aud`` (our
  client id), ``exp`` and ``iat``, and ``nonce`` when the body or the redirect flow gives one.
- ``authCode``: an authorization code, exchanged at the provider's token endpoint by authlib's
  OAuth 2.0 client (with the PKCE verifier of our redirect flow); the ID token it returns is
  checked as above, and what it lacks (name, picture) is read from the userinfo endpoint.
- ``accessToken`` (Facebook): first proven to be issued to *our* app (``debug_token``), then
  the person is read from the Graph API's ``/me``.

The identity id is the provider's ``sub`` (Facebook's ``id``); ``name``, ``email``,
``picture``, ``first_name`` and ``last_name`` become the identity's data, which the profile
merges into ``data``. Nothing is written before every check has passed, so a refused token or an
unreachable provider leaves no user behind. A provider that cannot be reached is 502; a token or
code it refuses, or that fails a check, is 401 ``AuthError`` naming the reason (never the token).

This module maps the claims to an identity and registers the login providers; the steps
before live by concern in ``social_endpoints`` (provider metadata and discovery),
``social_tokens`` (ID token checks) and ``social_exchange`` (code exchange, userinfo and
access token checks).

HTTP-free towards clients: routes reach this through ``providers.prove`` and ``oauth_redirect``;
it never imports Starlette.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..oauth_settings import OAuthProviderSettings
from ..store.base import Identity
from . import users
from .context import Services
from .custom_auth import MAX_ID
from .providers import Proof, ProviderFn, provider, provider_family, string_field

# Re-exported: ``oauth_redirect`` and the tests reach these steps through this module.
from .social_endpoints import endpoints as endpoints
from .social_endpoints import refused as refused
from .social_endpoints import settings_for as settings_for
from .social_endpoints import unreachable as unreachable
from .social_exchange import check_access_token as check_access_token
from .social_exchange import client_secret as client_secret
from .social_exchange import exchange_code as exchange_code
from .social_exchange import userinfo as userinfo
from .social_tokens import verify_id_token as verify_id_token

#: Profile keys taken from the provider's claims (App Services' metadata names).
_METADATA = {
    "name": ("name",),
    "email": ("email",),
    "picture": ("picture",),
    "first_name": ("given_name", "first_name"),
    "last_name": ("family_name", "last_name"),
}


async def claims_from_tokens(services: Services, cfg: OAuthProviderSettings,
                             tokens: dict[str, Any], nonce: str | None = None) -> dict[str, Any]:
    """The person behind a token response: its ID token's claims, completed by userinfo."""
    id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
    if isinstance(id_token, str) and id_token:
        claims = await verify_id_token(services, cfg, id_token, nonce)
        missing = [k for k in ("name", "email", "picture") if k not in claims]
        if missing and isinstance(access_token, str) and (await endpoints(services, cfg)).userinfo:
            info = await userinfo(services, cfg, access_token)
            # OpenID Connect Core 5.3.2: userinfo about somebody else must not be used.
            if info.get("sub") == claims["sub"]:
                claims = {**info, **claims}
        return claims
    if isinstance(access_token, str) and access_token:
        # No ID token (Facebook): the access token came from our own code exchange, so it
        # was issued to us; the person is whoever the userinfo endpoint names.
        return await userinfo(services, cfg, access_token)
    raise unreachable(cfg, "the token endpoint sent neither an ID token nor an access token")


def metadata(claims: dict[str, Any]) -> dict[str, Any]:
    """The profile data in the provider's claims: name, email, picture, first and last name."""
    data: dict[str, Any] = {}
    for key, names in _METADATA.items():
        value = next((claims[n] for n in names if n in claims), None)
        if key == "picture" and isinstance(value, dict):
            value = value.get("data", {}).get("url")  # Facebook: {"data": {"url": ...}}
        if isinstance(value, str) and value:
            data[key] = value
    return data


def identity_for(services: Services, cfg: OAuthProviderSettings, claims: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> Identity:
    """The identity a provider's claims prove: ``sub`` (or Facebook's ``id``) with metadata."""
    subject = claims.get("sub", claims.get("id"))
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or not subject or len(subject) > MAX_ID:
        raise refused(cfg, "the provider named no user ('sub')")
    data = {**metadata(claims), **(extra or {})}
    return users.make_identity(services, cfg.name, subject, data)


async def keep_once_only_data(services: Services, cfg: OAuthProviderSettings,
                              identity: Identity) -> Identity:
    """Apple tells a user's name only at the first sign-in: keep what it told then."""
    if cfg.kind != routes.OAUTH2_APPLE:
        return identity
    owner = await services.store.find_user_by_identity(identity.provider_type, identity.id)
    user = await services.store.get_user(owner) if owner else None
    old = next((i.data for i in (user.identities if user else ())
                if i.provider_type == identity.provider_type and i.id == identity.id), {})
    return replace(identity, data={**old, **identity.data})


async def prove(services: Services, name: str, payload: dict[str, Any]) -> Proof:
    """The identity a login body proves with one of the three kinds of credentials."""
    cfg = settings_for(services, name)
    if "id_token" in payload:
        nonce = payload.get("nonce")
        claims = await verify_id_token(services, cfg, string_field(payload, "id_token"),
                                       nonce if isinstance(nonce, str) else None)
    elif "authCode" in payload:
        code = string_field(payload, "authCode")
        redirect_uri = cfg.code_redirect_uri or _own_callback(services, cfg)
        tokens = await exchange_code(services, cfg, code, redirect_uri=redirect_uri)
        claims = await claims_from_tokens(services, cfg, tokens)
    elif "accessToken" in payload:
        token = string_field(payload, "accessToken")
        await check_access_token(cfg, token)
        claims = await userinfo(services, cfg, token)
    else:
        raise ApiError(ErrorCode.MISSING_PARAMETER, 400,
                       "expected 'id_token', 'authCode' or 'accessToken' in the login body")
    return Proof(await keep_once_only_data(services, cfg, identity_for(services, cfg, claims)))


def _own_callback(services: Services, cfg: OAuthProviderSettings) -> str:
    if cfg.callback_url:
        return cfg.callback_url
    base = services.settings.public_url or services.settings.link_base_url
    if not base:
        raise ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 500,
                       f"{cfg.name}: set public_url or code_redirect_uri to log in with codes")
    return base.rstrip("/") + routes.oauth_callback()


def _login_as(name: str) -> ProviderFn:
    async def login(services: Services, payload: dict[str, Any], address: str) -> Proof:
        return await prove(services, name, payload)

    login.__name__ = f"login_{name.replace('-', '_')}"
    return login


for _kind in routes.SOCIAL_TYPES:
    provider(_kind)(_login_as(_kind))
provider_family(routes.OIDC + "-")(_login_as)
