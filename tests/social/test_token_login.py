"""Social login with credentials the client already holds: ID tokens, codes, access tokens.

Every token comes from the real OpenID Connect provider on loopback (``oidc_server.mjs``), or is
signed with its own key for claims it would never issue (an expired token).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.sdk import routes
from tests.server.helpers import assert_error, claims

from .helpers import SocialApi
from .provider import KID, OidcProvider, SocialServer, now

GOOGLE, OIDC, FACEBOOK = routes.OAUTH2_GOOGLE, routes.OIDC, routes.OAUTH2_FACEBOOK


@pytest.fixture
def api(social_server: Callable[..., SocialServer]) -> Iterator[SocialApi]:
    wire = SocialApi(social_server())
    yield wire
    wire.close()


def refused(wire: SocialApi, provider: str, body: dict[str, str], reason: str) -> None:
    resp = wire.social_login(provider, body)
    assert_error(resp, 401, "AuthError", f"{provider} login failed: {reason}")


def test_id_token_login_creates_the_user_with_metadata(api: SocialApi) -> None:
    token = api.social.provider.id_token(api.social.client)
    first = api.login(GOOGLE, {"id_token": token})
    profile = api.profile(first["access_token"])
    assert [(i["provider_type"], i["id"]) for i in profile["identities"]] == [(GOOGLE, "alice")]
    issuer = api.social.provider.issuer
    assert profile["data"] == {
        "name": "Alice Example", "email": "alice@example.com", "first_name": "Alice",
        "last_name": "Example", "picture": f"{issuer}/pictures/alice.svg",
    }
    again = api.login(GOOGLE, {"id_token": api.social.provider.id_token(api.social.client)})
    assert again["user_id"] == first["user_id"]
    assert api.user_count() == 1


def test_generic_oidc_provider_finds_its_endpoints_by_discovery(api: SocialApi) -> None:
    token = api.social.provider.id_token(api.social.client, account="bob")
    session = api.login(OIDC, {"id_token": token})
    profile = api.profile(session["access_token"])
    assert [(i["provider_type"], i["id"]) for i in profile["identities"]] == [(OIDC, "bob")]
    assert profile["data"]["email"] == "bob@example.com"


def test_several_named_oidc_providers(social_server: Callable[..., SocialServer]) -> None:
    base = social_server()
    cfg = {"enabled": True, "client_id": base.client.client_id,
           "client_secret": base.client.client_secret, "issuer": base.provider.issuer,
           "display_name": "Corp SSO"}
    corp = social_server({"providers": {"oidc-corp": cfg}})
    wire = SocialApi(corp)
    try:
        # The token's audience is the first server's client, which oidc-corp is configured as.
        token = corp.provider.id_token(base.client)
        session = wire.login("oidc-corp", {"id_token": token})
        profile = wire.profile(session["access_token"])
        assert [i["provider_type"] for i in profile["identities"]] == ["oidc-corp"]
        listed = wire.http.get(routes.providers(corp.live.app_id)).json()
        assert {"name": "oidc-corp", "type": "oidc", "display_name": "Corp SSO"} in listed
        assert_error(wire.social_login("oidc-other", {"id_token": token}), 404,
                     "AuthProviderNotFound")
    finally:
        wire.close()


def test_id_token_for_another_audience_is_refused(api: SocialApi) -> None:
    other = api.social.provider.register_client("https://other.example/cb")
    token = api.social.provider.id_token(other)
    refused(api, GOOGLE, {"id_token": token}, "the ID token is for another audience")
    assert api.user_count() == 0


def test_expired_id_token_is_refused(api: SocialApi) -> None:
    provider: OidcProvider = api.social.provider
    token = provider.mint({"iss": provider.issuer, "aud": api.social.client.client_id,
                           "sub": "alice", "iat": now() - 7200, "exp": now() - 3600})
    refused(api, GOOGLE, {"id_token": token}, "the ID token has expired")
    assert api.user_count() == 0


def test_forged_and_foreign_id_tokens_are_refused(api: SocialApi) -> None:
    provider: OidcProvider = api.social.provider
    good = {"iss": provider.issuer, "aud": api.social.client.client_id, "sub": "alice",
            "iat": now(), "exp": now() + 600}
    assert api.login(GOOGLE, {"id_token": provider.mint(good)})["user_id"]
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(good, stranger, algorithm="RS256", headers={"kid": KID})
    refused(api, GOOGLE, {"id_token": forged}, "the ID token's signature does not verify")
    other_issuer = provider.mint({**good, "iss": "https://accounts.example"})
    refused(api, GOOGLE, {"id_token": other_issuer}, "the ID token is from another issuer")
    hs256 = jwt.encode(good, api.social.client.client_secret, algorithm="HS256")
    refused(api, GOOGLE, {"id_token": hs256}, "ID tokens must be signed with RS256 or ES256")
    no_sub = provider.mint({k: v for k, v in good.items() if k != "sub"})
    refused(api, GOOGLE, {"id_token": no_sub}, "the ID token lacks the 'sub' claim")
    refused(api, GOOGLE, {"id_token": "not-a-token"}, "the ID token is malformed")


def test_nonce_is_checked_when_given(api: SocialApi) -> None:
    token = api.social.provider.id_token(api.social.client, nonce="n-0123")
    refused(api, GOOGLE, {"id_token": token, "nonce": "n-other"},
            "the ID token's nonce does not match")
    assert api.login(GOOGLE, {"id_token": token, "nonce": "n-0123"})["user_id"]


def test_code_login_exchanges_the_code_once(api: SocialApi) -> None:
    code = api.social.provider.authorize(api.social.client, account="carol")
    session = api.login(GOOGLE, {"authCode": code})
    profile = api.profile(session["access_token"])
    assert profile["identities"][0]["id"] == "carol"
    assert profile["data"]["name"] == "Carol Example"
    resp = api.social_login(GOOGLE, {"authCode": code})
    assert_error(resp, 401, "AuthError", contains="the provider refused the code (invalid_grant)")


def test_facebook_access_token_login(api: SocialApi) -> None:
    provider: OidcProvider = api.social.provider
    tokens = provider.tokens(api.social.client, provider.authorize(api.social.client))
    session = api.login(FACEBOOK, {"accessToken": tokens["access_token"]})
    profile = api.profile(session["access_token"])
    assert [(i["provider_type"], i["id"]) for i in profile["identities"]] == [(FACEBOOK, "alice")]
    assert profile["data"]["first_name"] == "Alice"
    # A token the provider issued to another app must not log anybody in.
    other = provider.register_client("https://other.example/cb")
    foreign = provider.tokens(other, provider.authorize(other, account="dave"))["access_token"]
    refused(api, FACEBOOK, {"accessToken": foreign}, "the access token is for another app")
    refused(api, FACEBOOK, {"accessToken": "made-up"}, "the access token is not valid")
    assert api.user_count() == 1


def test_linking_an_id_token_to_an_anonymous_user(api: SocialApi) -> None:
    anon = api.anonymous()
    token = api.social.provider.id_token(api.social.client)
    resp = api.social_login(GOOGLE, {"id_token": token}, link_token=anon["access_token"])
    assert resp.status_code == 200, resp.text
    linked = resp.json()
    assert linked["user_id"] == anon["user_id"]
    assert claims(linked["access_token"])["sub"] == anon["user_id"]
    profile = api.profile(linked["access_token"])
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user", GOOGLE]
    assert profile["data"]["name"] == "Alice Example"
    # From now on, Google logs in as that same user.
    again = api.login(GOOGLE, {"id_token": api.social.provider.id_token(api.social.client)})
    assert again["user_id"] == anon["user_id"]
    # The identity cannot be linked to a second user.
    other = api.anonymous()
    resp = api.social_login(GOOGLE, {"id_token": token}, link_token=other["access_token"])
    assert_error(resp, 409, "IdentityAlreadyLinked")


def test_provider_down_is_a_clear_error_and_creates_nothing(
        social_server: Callable[..., SocialServer]) -> None:
    dead = "http://127.0.0.1:9/jwks"  # The discard port: nothing listens on loopback there.
    wire = SocialApi(social_server({"providers": {GOOGLE: {"jwks_uri": dead},
                                                  OIDC: {"token_endpoint": "http://127.0.0.1:9/t",
                                                         "authorization_endpoint":
                                                             "http://127.0.0.1:9/a",
                                                         "jwks_uri": dead}}}))
    try:
        token = wire.social.provider.id_token(wire.social.client)
        resp = wire.social_login(GOOGLE, {"id_token": token})
        assert_error(resp, 502, "InternalServerError",
                     f"could not reach the identity provider of {GOOGLE} (signing keys)")
        resp = wire.social_login(OIDC, {"authCode": "any-code"})
        assert_error(resp, 502, "InternalServerError",
                     f"could not reach the identity provider of {OIDC} (token endpoint)")
        assert wire.user_count() == 0
    finally:
        wire.close()


def test_bad_bodies_and_unconfigured_providers(api: SocialApi) -> None:
    assert_error(api.social_login(GOOGLE, {}), 400, "MissingParameter")
    assert_error(api.social_login(GOOGLE, {"id_token": 5}), 400, "InvalidParameter")
    token = api.social.provider.id_token(api.social.client)
    assert_error(api.social_login(routes.OAUTH2_APPLE, {"id_token": token}), 404,
                 "AuthProviderNotFound")
    assert_error(api.social_login(GOOGLE, {"accessToken": "x"}), 401, "AuthError",
                 f"{GOOGLE} login failed: this provider does not take access tokens")
