"""Social login providers' metadata: the enabled provider by name, where its endpoints are, and
the two errors every step of a social login can end in.

A preset's endpoints come from the config; a generic OpenID Connect issuer's are discovered once
from ``<issuer>/.well-known/openid-configuration`` and kept in ``Services.extras``.

HTTP-free towards clients (no Starlette, no ``Request``); it never imports the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..oauth_settings import OAuthProviderSettings
from .context import Services
from .jwks import FETCH_TIMEOUT


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
