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

HTTP-free towards clients: routes reach this through ``providers.prove`` and ``oauth_redirect``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..oauth_settings import OAuthProviderSettings
from ..store.base import Identity
from . import users
from .context import Services
from .custom_auth import MAX_ID
from .jwks import FETCH_TIMEOUT, JwksCache, KeysUnavailable
from .providers import Proof, ProviderFn, provider, provider_family, string_field

log = logging.getLogger("latchkey.server")

#: Profile keys taken from the provider's claims (App Services' metadata names).
_METADATA = {
    "name": ("name",),
    "email": ("email",),
    "picture": ("picture",),
    "first_name": ("given_name", "first_name"),
    "last_name": ("family_name", "last_name"),
}
_APPLE_AUDIENCE = "https://appleid.apple.com"
_APPLE_SECRET_SECONDS = 300


def settings_for(services: Services, name: str) -> OAuthProviderSettings:
    """The settings of an enabled social provider, or 404 as for any unknown provider."""
    cfg = services.settings.oauth.get(name)
    if cfg is None:
        raise ApiError(ErrorCode.AUTH_PROVIDER_NOT_FOUND, 404,
                       f"authentication via '{name}' is unsupported")
    return cfg


def refused(cfg: OAuthProviderSettings, reason: str) -> ApiError:
    """401 ``AuthError``: the provider's credentials failed a check."""
    return ApiError(ErrorCode.AUTH_ERROR, 401, f"{cfg.name} login failed: {reason}")


def unreachable(cfg: OAuthProviderSettings, what: str) -> ApiError:
    """502: the provider could not be asked (down, refused, or answered nonsense)."""
    return ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 502,
                    f"could not reach the identity provider of {cfg.name} ({what})")


# ------------------------------------------------------------------------------------------
# Endpoints: configured, or discovered once from the issuer


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a provider's authorize, token, key and userinfo endpoints are."""

    authorization: str
    token: str
    jwks_uri: str
    userinfo: str


async def endpoints(services: Services, cfg: OAuthProviderSettings) -> Endpoints:
    """The provider's endpoints; a generic issuer's come from its discovery document."""
    key = f"oauth:endpoints:{cfg.name}"
    found = services.extras.get(key)
    if isinstance(found, Endpoints):
        return found
    doc = await _discover(cfg) if cfg.needs_discovery else {}
    found = Endpoints(
        authorization=cfg.authorization_endpoint or _doc_url(doc, "authorization_endpoint"),
        token=cfg.token_endpoint or _doc_url(doc, "token_endpoint"),
        jwks_uri=cfg.jwks_uri or _doc_url(doc, "jwks_uri"),
        userinfo=cfg.userinfo_endpoint or _doc_url(doc, "userinfo_endpoint"),
    )
    services.extras[key] = found
    return found


async def _discover(cfg: OAuthProviderSettings) -> dict[str, Any]:
    url = cfg.issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        data = await _get_json(url, {})
    except (httpx.HTTPError, ValueError) as exc:
        raise unreachable(cfg, "discovery document") from exc
    if data.get("issuer") != cfg.issuer:
        raise unreachable(cfg, "the discovery document names another issuer")
    return data


def _doc_url(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key, "")
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else ""


async def _get_json(url: str, headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
        resp = await client.get(url, headers={"Accept": "application/json", **headers})
    resp.raise_for_status()
    data: Any = resp.json()
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


# ------------------------------------------------------------------------------------------
# ID tokens


# PyJWT's exceptions, most specific first, and the reason a client gets for each.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the ID token has expired"),
    (jwt.ImmatureSignatureError, "the ID token is not valid yet"),
    (jwt.InvalidAudienceError, "the ID token is for another audience"),
    (jwt.InvalidIssuerError, "the ID token is from another issuer"),
    (jwt.MissingRequiredClaimError, "the ID token lacks a required claim"),
    (jwt.InvalidSignatureError, "the ID token's signature does not verify"),
    (jwt.DecodeError, "the ID token is malformed"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the ID token lacks the '{exc.claim}' claim"
    return next((text for kind, text in _REASONS if isinstance(exc, kind)), "invalid ID token")


def _jwks(services: Services, cfg: OAuthProviderSettings, url: str) -> JwksCache:
    key = f"oauth:jwks:{cfg.name}"
    cache = services.extras.get(key)
    if not isinstance(cache, JwksCache) or cache.url != url:
        cache = JwksCache(url, max_age=cfg.jwks_cache_seconds,
                          min_refetch=cfg.jwks_min_refetch_seconds)
        services.extras[key] = cache
    return cache


async def verify_id_token(services: Services, cfg: OAuthProviderSettings, token: str,
                          nonce: str | None = None) -> dict[str, Any]:
    """The claims of an ID token that passes every check, or 401 ``AuthError``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise refused(cfg, "the ID token is malformed") from exc
    alg = header.get("alg")
    if alg not in cfg.algorithms:
        raise refused(cfg, f"ID tokens must be signed with {' or '.join(cfg.algorithms)}")
    ends = await endpoints(services, cfg)
    if not ends.jwks_uri:
        raise refused(cfg, "this provider takes no ID tokens (no jwks_uri)")
    try:
        keys = await _jwks(services, cfg, ends.jwks_uri).keys_for(
            header.get("kid") if isinstance(header.get("kid"), str) else None)
    except KeysUnavailable as exc:
        raise unreachable(cfg, "signing keys") from exc
    error: jwt.PyJWTError = jwt.InvalidSignatureError("no key for this token")
    for key in (k for k in keys if k.algorithm_name == alg):
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=[str(alg)], audience=list(cfg.audiences),
                issuer=list(cfg.issuers) or None, leeway=cfg.leeway_seconds,
                options={"require": ["exp", "iat", "sub", "aud"] + (["iss"] if cfg.issuers
                                                                    else [])},
            )
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError) as exc:
            error = exc  # Another published key may match: issuers rotate keys.
            continue
        except jwt.PyJWTError as exc:
            raise refused(cfg, _reason(exc)) from exc
        _check_nonce(cfg, claims, nonce)
        return claims
    raise refused(cfg, _reason(error)) from error


def _check_nonce(cfg: OAuthProviderSettings, claims: dict[str, Any], nonce: str | None) -> None:
    if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise refused(cfg, "the ID token's nonce does not match")


# ------------------------------------------------------------------------------------------
# Codes, access tokens and userinfo


async def client_secret(cfg: OAuthProviderSettings) -> str:
    """The client secret to send; for Apple with a private key, a fresh ES256-signed JWT."""
    if not cfg.private_key:
        return cfg.client_secret
    now = int(time.time())
    claims = {"iss": cfg.team_id, "iat": now, "exp": now + _APPLE_SECRET_SECONDS,
              "aud": _APPLE_AUDIENCE, "sub": cfg.client_id}
    return jwt.encode(claims, cfg.private_key, algorithm="ES256", headers={"kid": cfg.key_id})


async def exchange_code(services: Services, cfg: OAuthProviderSettings, code: str, *,
                        redirect_uri: str, code_verifier: str | None = None) -> dict[str, Any]:
    """The provider's token response for an authorization code (authlib does the exchange)."""
    ends = await endpoints(services, cfg)
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    client = AsyncOAuth2Client(
        client_id=cfg.client_id, client_secret=await client_secret(cfg),
        token_endpoint_auth_method=cfg.token_auth_method, redirect_uri=redirect_uri,
        timeout=FETCH_TIMEOUT,
    )
    try:
        async with client:
            token = await client.fetch_token(ends.token, code=code, **extra)
    except OAuthError as exc:
        raise refused(cfg, f"the provider refused the code ({exc.error})") from exc
    except Exception as exc:
        # Transport errors (authlib uses httpx, or httpx2 when that is installed) and answers
        # authlib cannot read (HTML, no token, a plain-http URL off loopback) all mean the same
        # to the client: the provider could not be used.
        log.warning("%s: token request failed: %s", cfg.name, type(exc).__name__)
        raise unreachable(cfg, "token endpoint") from exc
    return dict(token)


def _appsecret_proof(cfg: OAuthProviderSettings, access_token: str) -> dict[str, str]:
    if cfg.kind != routes.OAUTH2_FACEBOOK or not cfg.client_secret:
        return {}
    digest = hmac.new(cfg.client_secret.encode(), access_token.encode(), hashlib.sha256)
    return {"appsecret_proof": digest.hexdigest()}


async def userinfo(services: Services, cfg: OAuthProviderSettings,
                   access_token: str) -> dict[str, Any]:
    """What the provider's userinfo (Facebook: ``/me``) endpoint says about a token's owner."""
    url = (await endpoints(services, cfg)).userinfo
    if not url:
        raise refused(cfg, "this provider has no userinfo endpoint")
    params = _appsecret_proof(cfg, access_token)
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
            resp = await client.get(url, params=params, headers={
                "Accept": "application/json", "Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError as exc:
        raise unreachable(cfg, "userinfo endpoint") from exc
    if resp.status_code in (400, 401, 403):
        raise refused(cfg, "the provider does not accept the access token")
    try:
        resp.raise_for_status()
        data: Any = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise unreachable(cfg, "userinfo endpoint") from exc
    if not isinstance(data, dict):
        raise unreachable(cfg, "userinfo endpoint")
    return data


async def check_access_token(cfg: OAuthProviderSettings, access_token: str) -> None:
    """Refuse an access token that was not issued to our app (Facebook's ``debug_token``).

    Without this check, any app's token for the same person would log in as that person.
    """
    if not cfg.debug_token_endpoint:
        raise refused(cfg, "this provider does not take access tokens")
    app_token = f"{cfg.client_id}|{cfg.client_secret}"
    params = {"input_token": access_token, "access_token": app_token}
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
            resp = await client.get(cfg.debug_token_endpoint, params=params)
        data: Any = resp.json() if resp.status_code < 500 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise unreachable(cfg, "debug_token endpoint") from exc
    info = data.get("data") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        raise unreachable(cfg, "debug_token endpoint")
    if info.get("is_valid") is not True:
        raise refused(cfg, "the access token is not valid")
    if str(info.get("app_id")) != cfg.client_id:
        raise refused(cfg, "the access token is for another app")


# ------------------------------------------------------------------------------------------
# From claims to an identity


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
