"""The official realm-web client's ``Credentials.google({ idToken })`` against our server, with ID
tokens from the real OpenID Connect provider (configured on our server as ``oauth2-google``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from tests.interop.test_realm_web import REALM_WEB, run_driver

from .provider import OidcProvider, SocialServer, now

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not REALM_WEB.exists(), reason="realm-web is not installed (npm ci)"),
]


def test_realm_web_google_id_token_login_and_link(
        social_server: Callable[..., SocialServer]) -> None:
    social = social_server()
    provider: OidcProvider = social.provider
    other = provider.register_client("https://other.example/cb")
    expired = provider.mint({"iss": provider.issuer, "aud": social.client.client_id,
                             "sub": "alice", "iat": now() - 7200, "exp": now() - 3600})
    result = run_driver(
        social.live, "google_id_token",
        idToken=provider.id_token(social.client),
        linkIdToken=provider.id_token(social.client, account="bob"),
        badTokens={"otherAudience": provider.id_token(other), "expired": expired},
    )
    user = result["user"]
    assert user["providerType"] == "oauth2-google"
    assert user["identities"] == [{"id": "alice", "providerType": "oauth2-google"}]
    # realm-web renames the metadata keys: picture -> pictureUrl, first_name -> firstName.
    assert user["profile"]["name"] == "Alice Example"
    assert user["profile"]["email"] == "alice@example.com"
    assert user["profile"]["pictureUrl"] == f"{provider.issuer}/pictures/alice.svg"
    assert user["profile"]["firstName"] == "Alice" and user["profile"]["lastName"] == "Example"
    assert result["secondId"] == user["id"]
    for label in ("otherAudience", "expired"):
        bad = result[f"bad_{label}"]
        assert bad["ok"] is False and bad["statusCode"] == 401, bad
        assert bad["errorCode"] == "AuthError", bad
    linked = result["linked"]
    assert [i["providerType"] for i in linked["identities"]] == ["anon-user", "oauth2-google"]
    assert linked["profile"]["name"] == "Bob Example"
