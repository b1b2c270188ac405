"""Social login's calls to the provider: code exchange, userinfo and access token checks.

An authorization code is exchanged at the token endpoint by authlib's OAuth 2.0 client (with
Apple's client secret signed fresh for each exchange); userinfo (Facebook's ``/me``) says who an
access token belongs to; Facebook's ``debug_token`` proves an access token was issued to *our*
app. A provider that cannot be reached is 502, a refusal 401 ``AuthError``.

HTTP-free towards clients (no Starlette, no ``Request``); it never imports the store.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

import httpx
import jwt
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from app.sdk import routes

from ..oauth_settings import OAuthProviderSettings
from .context import Services
from .jwks import FETCH_TIMEOUT
from .social_endpoints import endpoints, refused, unreachable

log = logging.getLogger("latchkey.server")

_APPLE_AUDIENCE = "https://appleid.apple.com"
_APPLE_SECRET_SECONDS = 300


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
