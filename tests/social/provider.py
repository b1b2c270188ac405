"""A real OpenID Connect provider on loopback (``oidc_server.mjs``) and servers that use it.

``oidc_provider`` (session scope) starts the npm package ``oidc-provider`` in Node with a signing
key made here, so tests can also mint tokens the provider's own key signs (expired ones).
``social_server`` starts our server on a port known in advance, registers a client for it at the
provider (dynamic registration, with our callback URL as redirect URI), and configures that
client as ``oauth2-google`` (explicit endpoints), ``oidc`` (discovery from the issuer) and
``oauth2-facebook`` (code flow, ``/me`` and ``debug_token``).

The helpers drive the provider the way a browser would, with httpx following redirects, and
stop at the first URL that leaves for the app: no step of the protocol is faked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.sdk import routes
from tests.conftest import LiveServer, bind_loopback, make_settings, start_server

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_server.mjs")
PACKAGE = REPO / "node_modules" / "oidc-provider" / "package.json"
KID = "latchkey-test-key"
#: The app page the redirect flow returns to in tests that do not load it.
APP_PAGE = "https://app.example/landing"


@dataclass(frozen=True)
class Client:
    """A client registered at the provider."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class OidcProvider:
    """The running provider: its issuer URL, its signing key, and ways to get tokens from it."""

    issuer: str
    key: rsa.RSAPrivateKey
    process: subprocess.Popen[str]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20))

    def register_client(self, *redirect_uris: str) -> Client:
        """A new confidential client (RFC 7591 dynamic registration)."""
        resp = self.http.post(f"{self.issuer}/reg", json={
            "redirect_uris": list(redirect_uris),
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code"], "response_types": ["code"],
        })
        assert resp.status_code == 201, resp.text
        body = resp.json()
        return Client(body["client_id"], body["client_secret"], tuple(redirect_uris))

    def authorize(self, client: Client, *, account: str = "alice", nonce: str | None = None,
                  scope: str = "openid email profile") -> str:
        """The authorization code the provider sends to the client's first redirect URI."""
        params = {"response_type": "code", "client_id": client.client_id, "scope": scope,
                  "redirect_uri": client.redirect_uris[0], "state": "test-state",
                  "login_hint": account}
        if nonce is not None:
            params["nonce"] = nonce
        url = f"{self.issuer}/auth?{httpx.QueryParams(params)}"
        with httpx.Client(timeout=20) as browser:
            landed = follow(browser, url, client.redirect_uris[0])
        query = parse_qs(urlsplit(landed).query)
        assert "code" in query, landed
        return query["code"][0]

    def tokens(self, client: Client, code: str) -> dict[str, Any]:
        """The token response for a code (the client's own exchange)."""
        resp = self.http.post(f"{self.issuer}/token", data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": client.redirect_uris[0], "client_id": client.client_id,
            "client_secret": client.client_secret,
        })
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def id_token(self, client: Client, **kwargs: Any) -> str:
        """A genuine ID token for the client, from a full code flow."""
        return str(self.tokens(client, self.authorize(client, **kwargs))["id_token"])

    def mint(self, claims: dict[str, Any]) -> str:
        """A token signed with the provider's own key (for claims it would never issue)."""
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})


def follow(browser: httpx.Client, url: str, stop_at: str, limit: int = 12) -> str:
    """Follow redirects like a browser until one leads to a URL starting with ``stop_at``."""
    for _ in range(limit):
        if url.startswith(stop_at):
            return url
        resp = browser.get(url)
        assert resp.status_code in (302, 303), (url, resp.status_code, resp.text[:500])
        url = urljoin(str(resp.url), resp.headers["location"])
    raise AssertionError(f"no redirect to {stop_at} after {limit} steps; last: {url}")


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The OpenID Connect provider, one for the whole session."""
    if shutil.which("node") is None or not PACKAGE.exists():
        pytest.skip("Node.js or the oidc-provider npm package is missing (npm ci)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key)), "kid": KID, "use": "sig",
           "alg": "RS256"}
    proc = subprocess.Popen(["node", str(SCRIPT), json.dumps({"jwks": {"keys": [jwk]}})],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        proc.stdout.close()
        pytest.fail(f"oidc_server.mjs did not start (exit {proc.returncode})")
    provider = OidcProvider(json.loads(line)["issuer"], key, proc)
    yield provider
    provider.http.close()
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


@dataclass
class SocialServer:
    """Our server, with its client at the provider."""

    live: LiveServer
    client: Client
    provider: OidcProvider

    @property
    def base_url(self) -> str:
        return self.live.base_url

    @property
    def callback(self) -> str:
        return self.live.base_url + routes.oauth_callback()

    def login_url(self, provider: str) -> str:
        return self.live.base_url + routes.login(self.live.app_id, provider)


def social_overrides(provider: OidcProvider, client: Client, base_url: str,
                     redirect_uris: list[str]) -> dict[str, Any]:
    """Config for ``oauth2-google``, ``oidc`` and ``oauth2-facebook`` against the provider."""
    issuer = provider.issuer
    secrets = {"client_id": client.client_id, "client_secret": client.client_secret}
    endpoints = {"issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
                 "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                 "userinfo_endpoint": f"{issuer}/me"}
    return {
        "public_url": base_url,
        "oauth": {"redirect_uris": redirect_uris},
        "providers": {
            routes.OAUTH2_GOOGLE: {"enabled": True, **secrets, **endpoints},
            routes.OIDC: {"enabled": True, **secrets, "issuer": issuer},
            # The provider answers /me (its userinfo) only for tokens with the openid scope.
            routes.OAUTH2_FACEBOOK: {"enabled": True, **secrets, **endpoints,
                                     "debug_token_endpoint": f"{issuer}/debug_token",
                                     "scopes": ["openid", "email", "profile"]},
        },
    }


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


@pytest.fixture
def social_server(oidc_provider: OidcProvider,
                  tmp_path: Path) -> Iterator[Callable[..., SocialServer]]:
    """Start our server configured for the provider: ``social_server(extra_overrides)``.

    ``redirect_uris`` (the allowlist) defaults to ``APP_PAGE``; a callable gets the server's
    base URL, for pages the server itself serves.
    """
    started: list[LiveServer] = []

    def factory(extra: dict[str, Any] | None = None, *,
                redirect_uris: Callable[[str], list[str]] | None = None) -> SocialServer:
        sock = bind_loopback()
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = oidc_provider.register_client(base + routes.oauth_callback())
        allowed = redirect_uris(base) if redirect_uris else [APP_PAGE]
        overrides = merge(social_overrides(oidc_provider, client, base, allowed), extra or {})
        settings = make_settings(tmp_path / f"social{len(started)}", overrides)
        live = start_server(settings, sock)
        started.append(live)
        return SocialServer(live, client, oidc_provider)

    yield factory
    for live in started:
        live.stop()


def now() -> int:
    return int(time.time())
