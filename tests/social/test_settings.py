"""Social provider settings: presets, overrides, secrets, checks, and the public provider list."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.sdk import routes
from server.services.social import client_secret
from server.settings import ConfigError
from tests.conftest import LiveServer, make_settings

from .helpers import SocialApi
from .provider import SocialServer


def load(tmp_path: Path, providers: dict[str, Any], **top: Any) -> Any:
    return make_settings(tmp_path / "data", {"providers": providers, **top})


def test_presets_fill_in_the_well_known_endpoints(tmp_path: Path) -> None:
    settings = load(tmp_path, {
        routes.OAUTH2_GOOGLE: {"enabled": True, "client_id": "g"},
        routes.OAUTH2_APPLE: {"enabled": True, "client_id": "a"},
        routes.OAUTH2_FACEBOOK: {"enabled": True, "client_id": "f", "client_secret": "s"},
    })
    google = settings.oauth[routes.OAUTH2_GOOGLE]
    assert google.issuers == ("https://accounts.google.com", "accounts.google.com")
    assert google.jwks_uri == "https://www.googleapis.com/oauth2/v3/certs"
    assert google.audiences == ("g",) and google.pkce is True
    apple = settings.oauth[routes.OAUTH2_APPLE]
    assert apple.token_endpoint == "https://appleid.apple.com/auth/token"
    assert apple.response_mode == "form_post" and apple.pkce is False
    facebook = settings.oauth[routes.OAUTH2_FACEBOOK]
    assert facebook.debug_token_endpoint.endswith("/debug_token")
    assert not any(s.needs_discovery for s in settings.oauth.values())


def test_every_url_can_be_overridden(tmp_path: Path) -> None:
    settings = load(tmp_path, {routes.OAUTH2_GOOGLE: {
        "enabled": True, "client_id": "g", "issuer": "http://127.0.0.1:1",
        "token_endpoint": "http://127.0.0.1:1/token", "audiences": ["g", "g-android"],
        "redirect_uris": ["https://app.example/a"]}}, oauth={"redirect_uris": [
            "https://app.example/b"]})
    google = settings.oauth[routes.OAUTH2_GOOGLE]
    assert google.issuers == ("http://127.0.0.1:1",)
    assert google.token_endpoint == "http://127.0.0.1:1/token"
    assert google.authorization_endpoint.startswith("https://accounts.google.com/")
    assert google.audiences == ("g", "g-android")
    assert google.redirect_uris == ("https://app.example/a", "https://app.example/b")


def test_generic_providers_and_disabled_ones(tmp_path: Path) -> None:
    settings = load(tmp_path, {
        "oidc": {"enabled": True, "client_id": "o", "issuer": "https://id.example"},
        "oidc-corp": {"enabled": True, "client_id": "c", "issuer": "https://corp.example"},
        routes.OAUTH2_GOOGLE: {"enabled": False},
    })
    assert set(settings.oauth) == {"oidc", "oidc-corp"}
    assert settings.oauth["oidc-corp"].kind == "oidc"
    assert settings.oauth["oidc"].needs_discovery


@pytest.mark.parametrize(("cfg", "message"), [
    ({}, "needs client_id"),
    ({"client_id": "x"}, "needs an issuer"),
    ({"client_id": "x", "issuer": "ftp://id.example"}, "must be an http(s) URL"),
    ({"client_id": "x", "issuer": "https://id.example", "algorithms": ["HS256"]}, "algorithms"),
    ({"client_id": "x", "issuer": "https://id.example", "redirect_uris": ["/relative"]},
     "must be an absolute http(s) URL"),
    ({"client_id": "x", "issuer": "https://id.example", "redirect_uris": ["https://a.b/#x"]},
     "without a fragment"),
    ({"client_id": "x", "issuer": "https://id.example", "client_secret_env": "NO_SUCH_VAR_X"},
     "NO_SUCH_VAR_X, which is not set"),
    ({"client_id": "x", "issuer": "https://id.example", "token_auth_method": "private_key_jwt"},
     "token_auth_method"),
])
def test_config_errors(tmp_path: Path, cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, {"oidc": {"enabled": True, **cfg}})


def test_secrets_from_the_environment_and_files(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATCHKEY_TEST_SECRET", "from-env")
    settings = load(tmp_path, {"oidc": {"enabled": True, "client_id": "x",
                                        "issuer": "https://id.example",
                                        "client_secret_env": "LATCHKEY_TEST_SECRET"}})
    assert settings.oauth["oidc"].client_secret == "from-env"
    assert "from-env" not in repr(settings.oauth["oidc"])


def test_apple_client_secret_is_a_jwt_signed_with_the_team_key(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    (tmp_path / "apple.p8").write_text(pem)
    settings = load(tmp_path, {routes.OAUTH2_APPLE: {
        "enabled": True, "client_id": "com.example.web", "team_id": "TEAM123456",
        "key_id": "KEY1234567", "private_key_file": str(tmp_path / "apple.p8")}})
    secret = asyncio.run(client_secret(settings.oauth[routes.OAUTH2_APPLE]))
    assert jwt.get_unverified_header(secret)["kid"] == "KEY1234567"
    decoded = jwt.decode(secret, key.public_key(), algorithms=["ES256"],
                         audience="https://appleid.apple.com")
    assert decoded["iss"] == "TEAM123456" and decoded["sub"] == "com.example.web"
    with pytest.raises(ConfigError, match="needs team_id and key_id"):
        load(tmp_path, {routes.OAUTH2_APPLE: {"enabled": True, "client_id": "a",
                                              "private_key": pem}})


def test_the_demo_has_no_social_provider(live_server: LiveServer) -> None:
    assert live_server.settings.oauth == {}


def test_enabled_providers_are_listed(social_server: Callable[..., SocialServer]) -> None:
    wire = SocialApi(social_server({"providers": {"api-key": {"enabled": False}}}))
    try:
        resp = wire.http.get(routes.providers(wire.live.app_id))
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
        assert resp.json() == [
            {"name": "anon-user", "type": "anon-user"},
            {"name": "local-userpass", "type": "local-userpass"},
            {"name": "custom-function", "type": "custom-function"},
            {"name": "passkey", "type": "passkey"},
            {"name": "oauth2-google", "type": "oauth2-google", "display_name": "Google"},
            {"name": "oidc", "type": "oidc", "display_name": "OpenID Connect"},
            {"name": "oauth2-facebook", "type": "oauth2-facebook", "display_name": "Facebook"},
        ]
        assert wire.http.get(routes.providers("other-app")).status_code == 404
    finally:
        wire.close()
