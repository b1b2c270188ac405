"""Social login's ID tokens: an OpenID Connect ID token checked against the issuer's keys.

``verify_id_token`` checks with PyJWT the signature (one of the configured algorithms, a key the
issuer publishes at its ``jwks_uri``, through ``JwksCache``), ``iss``, ``aud`` (our client id),
``exp``, ``iat`` and ``nonce`` when one is given; a failed check is 401 ``AuthError`` naming the
reason, never the token.

HTTP-free towards clients (no Starlette, no ``Request``); it never imports the store.
"""

from __future__ import annotations

import hmac
from typing import Any

import jwt

from ..oauth_settings import OAuthProviderSettings
from .context import Services
from .jwks import JwksCache, KeysUnavailable
from .social_endpoints import endpoints, refused, unreachable

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
