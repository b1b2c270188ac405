"""The browser redirect flow (protocol 3.5), driven over HTTP the way a browser follows it.

An httpx client plays the browser: it follows our 302 to the provider, the provider's own
redirects (its interaction signs the test account in), the redirect to our callback, and stops
at the app's page, whose fragment carries the ``_baas_*`` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from app.sdk import routes
from tests.server.helpers import assert_error, claims

from .helpers import CLIENT_STATE, SocialApi, fragment, query
from .provider import APP_PAGE, SocialServer, follow

GOOGLE = routes.OAUTH2_GOOGLE


@pytest.fixture
def api(social_server: Callable[..., SocialServer]) -> Iterator[SocialApi]:
    wire = SocialApi(social_server())
    yield wire
    wire.close()


def to_callback(api: SocialApi, start: httpx.Response, account: str = "alice") -> str:
    """Follow the flow from our first answer to the provider's redirect to our callback."""
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    if account != "alice":
        authorize += f"&login_hint={account}"
    with httpx.Client(timeout=20) as browser:
        return follow(browser, authorize, api.social.callback)


def finish(api: SocialApi, callback_url: str) -> httpx.Response:
    return api.http.get(callback_url.removeprefix(api.live.base_url))


def run_flow(api: SocialApi, provider: str = GOOGLE, **kwargs: str) -> dict[str, str]:
    resp = finish(api, to_callback(api, api.start_redirect(provider, APP_PAGE), **kwargs))
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"].startswith(APP_PAGE + "#")
    return fragment(resp.headers["location"])


def test_redirect_flow_logs_in_and_returns_to_the_app(api: SocialApi) -> None:
    device = "65a0c0ffee0000000000d0d0"
    start = api.start_redirect(GOOGLE, APP_PAGE, device={"platform": "chrome", "deviceId": device})
    assert start.status_code == 302
    assert start.headers["cache-control"] == "no-store"
    sent = query(start.headers["location"])
    assert start.headers["location"].startswith(api.social.provider.issuer + "/auth?")
    # Our own state, nonce and PKCE go to the provider; the client's state never does.
    assert sent["state"] != CLIENT_STATE and len(sent["state"]) >= 40
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert sent["nonce"] and sent["redirect_uri"] == api.social.callback
    assert sent["client_id"] == api.social.client.client_id
    assert sent["scope"] == "openid email profile"

    resp = finish(api, to_callback(api, start))
    assert resp.status_code == 303
    result = fragment(resp.headers["location"])
    assert list(result) == ["_baas_client_app_id", "_baas_ua", "_baas_state"]
    assert result["_baas_client_app_id"] == api.live.app_id
    assert result["_baas_state"] == CLIENT_STATE
    access, refresh, user_id, device_id = result["_baas_ua"].split("$")
    assert device_id == device
    assert claims(access)["sub"] == user_id and claims(access)["baas_device_id"] == device
    profile = api.profile(access)
    assert profile["identities"][0] == {"id": "alice", "provider_type": GOOGLE,
                                        "provider_id": profile["identities"][0]["provider_id"],
                                        "provider_data": profile["data"]}
    assert profile["data"]["name"] == "Alice Example"
    assert profile["data"]["picture"].endswith("/pictures/alice.svg")
    assert api.refresh(refresh)
    assert not api.state_exists(sent["state"])
    # A second flow finds the same user.
    assert run_flow(api)["_baas_ua"].split("$")[2] == user_id


def test_generic_oidc_and_facebook_redirect_flows(api: SocialApi) -> None:
    oidc = run_flow(api, routes.OIDC, account="bob")
    facebook = run_flow(api, routes.OAUTH2_FACEBOOK, account="bob")
    oidc_user, facebook_user = oidc["_baas_ua"].split("$")[2], facebook["_baas_ua"].split("$")[2]
    assert oidc_user != facebook_user  # Two providers, two identities, two users.
    profile = api.profile(facebook["_baas_ua"].split("$")[0])
    assert profile["identities"][0]["provider_type"] == routes.OAUTH2_FACEBOOK


def test_redirect_url_not_on_the_allowlist_is_refused(api: SocialApi) -> None:
    for target in ("https://evil.example/landing", APP_PAGE + "/more", APP_PAGE + "?x=1", ""):
        resp = api.start_redirect(GOOGLE, target)
        assert_error(resp, 400, "InvalidParameter", contains="is not allowed for oauth2-google")
        assert "location" not in resp.headers


def test_client_state_is_required(api: SocialApi) -> None:
    for state in ("", "has space", "x" * 129):
        resp = api.start_redirect(GOOGLE, APP_PAGE, state=state)
        assert_error(resp, 400, "InvalidParameter", contains="expected a 'state'")


def test_tampered_state_is_refused_and_the_real_one_still_works(api: SocialApi) -> None:
    callback = to_callback(api, api.start_redirect(GOOGLE, APP_PAGE))
    state = query(callback)["state"]
    for bad in (state[:-1] + ("A" if state[-1] != "A" else "B"), "", "x" * 500):
        tampered = callback.replace(f"state={state}", f"state={bad}")
        resp = finish(api, tampered)
        assert_error(resp, 400, "InvalidParameter", contains="invalid OAuth state")
        assert "location" not in resp.headers
    assert api.user_count() == 0
    resp = finish(api, callback)
    assert resp.status_code == 303 and "_baas_ua" in fragment(resp.headers["location"])


def test_reused_state_is_refused(api: SocialApi) -> None:
    callback = to_callback(api, api.start_redirect(GOOGLE, APP_PAGE))
    assert finish(api, callback).status_code == 303
    assert_error(finish(api, callback), 400, "InvalidParameter", contains="already used")


def test_expired_state_is_refused(social_server: Callable[..., SocialServer]) -> None:
    wire = SocialApi(social_server({"oauth": {"state_seconds": 1}}))
    try:
        callback = to_callback(wire, wire.start_redirect(GOOGLE, APP_PAGE))
        time.sleep(1.1)
        assert_error(finish(wire, callback), 400, "InvalidParameter", contains="expired")
        assert wire.user_count() == 0
        # An abandoned flow's record is swept by the next flow once it has expired.
        abandoned = query(wire.start_redirect(GOOGLE, APP_PAGE).headers["location"])["state"]
        assert wire.state_exists(abandoned)
        time.sleep(1.1)
        fresh = query(wire.start_redirect(GOOGLE, APP_PAGE).headers["location"])["state"]
        assert not wire.state_exists(abandoned) and wire.state_exists(fresh)
    finally:
        wire.close()


def test_provider_refusal_comes_back_as_baas_error(api: SocialApi) -> None:
    result = run_flow(api, account="deny")
    assert "_baas_ua" not in result
    assert result["_baas_error"] == (
        "oauth2-google login failed: the provider answered: The user declined to sign in.")
    assert result["_baas_error_code"] == "AuthError"
    assert result["_baas_state"] == CLIENT_STATE
    assert api.user_count() == 0


def test_provider_down_at_the_exchange_creates_nothing(
        social_server: Callable[..., SocialServer]) -> None:
    wire = SocialApi(social_server({"providers": {GOOGLE: {
        "token_endpoint": "http://127.0.0.1:9/token"}}}))
    try:
        start = wire.start_redirect(GOOGLE, APP_PAGE)
        resp = finish(wire, to_callback(wire, start))
        result = fragment(resp.headers["location"])
        assert result["_baas_error"] == (
            "could not reach the identity provider of oauth2-google (token endpoint)")
        assert result["_baas_error_code"] == "InternalServerError"
        assert wire.user_count() == 0
        assert not wire.state_exists(query(start.headers["location"])["state"])
    finally:
        wire.close()


def test_linking_through_the_redirect_flow(api: SocialApi) -> None:
    anon = api.anonymous()
    start = api.start_redirect(GOOGLE, APP_PAGE, link_token=anon["access_token"])
    assert start.status_code == 200, start.text
    assert "content-type" not in start.headers and start.content == b""
    location = start.headers["x-baas-location"]
    assert location.startswith(api.social.provider.issuer + "/auth?")
    with httpx.Client(timeout=20) as browser:
        callback = follow(browser, location, api.social.callback)
    resp = finish(api, callback)
    result = fragment(resp.headers["location"])
    assert result["_baas_link"] == "ok"
    access, refresh, user_id, device_id = result["_baas_ua"].split("$")
    assert refresh == "" and user_id == anon["user_id"] and device_id == anon["device_id"]
    assert claims(access)["sub"] == anon["user_id"]
    profile = api.profile(access)
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user", GOOGLE]
    assert profile["data"]["email"] == "alice@example.com"
    # The anonymous user's own refresh token still works, and Google now logs in as it.
    assert api.refresh(anon["refresh_token"])
    assert run_flow(api)["_baas_ua"].split("$")[2] == anon["user_id"]


def test_linking_needs_a_live_session(api: SocialApi) -> None:
    resp = api.start_redirect(GOOGLE, APP_PAGE, link_token="garbage")
    assert_error(resp, 401, "InvalidSession")
    anon = api.anonymous()
    start = api.start_redirect(GOOGLE, APP_PAGE, link_token=anon["access_token"])
    with httpx.Client(timeout=20) as browser:
        callback = follow(browser, start.headers["x-baas-location"], api.social.callback)
    # The user logs out before the provider sends the browser back: nothing is linked.
    api.http.delete("/api/client/v2.0/auth/session",
                    headers={"Authorization": f"Bearer {anon['refresh_token']}"})
    result = fragment(finish(api, callback).headers["location"])
    assert result["_baas_error_code"] == "InvalidSession" and "_baas_ua" not in result


def test_linking_refuses_the_access_token_of_a_logged_out_session(api: SocialApi) -> None:
    anon = api.anonymous()
    api.http.delete("/api/client/v2.0/auth/session",
                    headers={"Authorization": f"Bearer {anon['refresh_token']}"})
    resp = api.start_redirect(GOOGLE, APP_PAGE, link_token=anon["access_token"])
    assert_error(resp, 401, "InvalidSession", "invalid session: session ended")


def test_form_post_callback_with_apple_names(social_server: Callable[..., SocialServer]) -> None:
    base = social_server()
    cfg = {"enabled": True, "client_id": base.client.client_id,
           "client_secret": base.client.client_secret, "issuer": base.provider.issuer,
           "authorization_endpoint": f"{base.provider.issuer}/auth",
           "token_endpoint": f"{base.provider.issuer}/token",
           "jwks_uri": f"{base.provider.issuer}/jwks", "scopes": ["openid", "email"],
           "callback_url": base.callback}
    wire = SocialApi(social_server({"providers": {routes.OAUTH2_APPLE: cfg}}))
    try:
        start = wire.start_redirect(routes.OAUTH2_APPLE, APP_PAGE)
        assert query(start.headers["location"])["response_mode"] == "form_post"
        # The provider answers with a self-submitting form aimed at the callback; post it, plus
        # the "user" field Apple adds at a person's first sign-in.
        with httpx.Client(timeout=20) as browser:
            page = browser.get(start.headers["location"], follow_redirects=True)
        fields = dict(_hidden_inputs(page.text))
        assert set(fields) >= {"code", "state"}
        fields["user"] = '{"name": {"firstName": "Alice", "lastName": "Appleseed"}}'
        resp = wire.http.post(routes.oauth_callback(), data=fields)
        result = fragment(resp.headers["location"])
        profile = wire.profile(result["_baas_ua"].split("$")[0])
        assert profile["data"]["name"] == "Alice Appleseed"
        assert profile["data"]["email"] == "alice@example.com"
        # Later sign-ins carry no name; the one Apple sent first is kept.
        with httpx.Client(timeout=20) as browser:
            page = browser.get(wire.start_redirect(routes.OAUTH2_APPLE, APP_PAGE)
                               .headers["location"], follow_redirects=True)
        resp = wire.http.post(routes.oauth_callback(), data=dict(_hidden_inputs(page.text)))
        again = fragment(resp.headers["location"])["_baas_ua"].split("$")[0]
        assert wire.profile(again)["data"]["last_name"] == "Appleseed"
    finally:
        wire.close()


def _hidden_inputs(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)


def test_callback_urls_are_the_servers_own(api: SocialApi) -> None:
    start = api.start_redirect(GOOGLE, APP_PAGE)
    redirect_uri = query(start.headers["location"])["redirect_uri"]
    assert urlsplit(redirect_uri).path == routes.oauth_callback()


def test_a_link_flow_finished_in_another_browser_links_nothing(api: SocialApi) -> None:
    # The attacker starts linking Google to their own account and sends the provider's URL to
    # a victim. The victim signs in as Bob there and their browser, with a cookie jar of its
    # own, arrives at our callback.
    attacker = api.anonymous()
    start = api.start_redirect(GOOGLE, APP_PAGE, link_token=attacker["access_token"])
    assert start.status_code == 200, start.text
    location = start.headers["x-baas-location"] + "&login_hint=bob"
    with httpx.Client(base_url=api.live.base_url, timeout=20) as victim:
        callback = follow(victim, location, api.social.callback)
        resp = victim.get(callback.removeprefix(api.live.base_url))
    assert_error(resp, 400, "InvalidParameter", contains="started in another browser")
    assert "location" not in resp.headers
    # Bob's Google identity went nowhere: not to the attacker, and it is still free.
    assert [i["provider_type"] for i in api.profile(attacker["access_token"])["identities"]] == [
        "anon-user"]
    assert api.user_count() == 1
    # Nor can the attacker replay the callback in their own browser now.
    assert_error(finish(api, callback), 400, "InvalidParameter", contains="already used")
    bob = run_flow(api, account="bob")["_baas_ua"].split("$")[2]
    assert bob != attacker["user_id"]


def test_a_login_flow_finished_in_another_browser_logs_nobody_in(api: SocialApi) -> None:
    # Login CSRF: the attacker signs in at the provider as Alice, keeps the callback URL and
    # has a victim's browser open it; the victim would be working in the attacker's account.
    callback = to_callback(api, api.start_redirect(GOOGLE, APP_PAGE))
    with httpx.Client(base_url=api.live.base_url, timeout=20) as victim:
        # The victim has a flow of their own going: its cookie is no key to another flow.
        own = victim.get(routes.login(api.live.app_id, GOOGLE), params={
            "state": CLIENT_STATE, "redirect": APP_PAGE})
        assert own.status_code == 302 and len(victim.cookies) == 1
        resp = victim.get(callback.removeprefix(api.live.base_url))
    assert_error(resp, 400, "InvalidParameter", contains="started in another browser")
    assert api.user_count() == 0


def test_the_binding_cookie_is_private_to_the_callback_and_cleared(api: SocialApi) -> None:
    for link in (None, api.anonymous()["access_token"]):
        start = api.start_redirect(GOOGLE, APP_PAGE, link_token=link)
        cookie = start.headers["set-cookie"]
        name, value = cookie.split(";")[0].split("=", 1)
        assert name.startswith("latchkey-oauth-") and len(value) >= 40
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        # Plain http: Secure is impossible, so Lax (https gets Secure and SameSite=None).
        assert attributes == {"httponly", "max-age=600", f"path={routes.oauth_callback()}",
                              "samesite=lax"}
        location = start.headers.get("location") or start.headers["x-baas-location"]
        assert value not in location  # Only the browser holds the nonce.
        with httpx.Client(timeout=20) as browser:
            callback = follow(browser, location, api.social.callback)
        resp = finish(api, callback)
        assert resp.status_code == 303, resp.text
        assert f'{name}=""; ' in resp.headers["set-cookie"]
        assert "max-age=0" in resp.headers["set-cookie"].lower()
        assert name not in api.http.cookies


def test_an_https_callback_gets_a_secure_cookie_that_survives_a_form_post(
        social_server: Callable[..., SocialServer]) -> None:
    # Behind TLS (here: the callback URL registered at the provider is https), the cookie is
    # Secure and SameSite=None, so Apple's cross-site form POST to the callback carries it.
    callback = "https://auth.example" + routes.oauth_callback()
    wire = SocialApi(social_server({"providers": {GOOGLE: {"callback_url": callback}}}))
    try:
        start = wire.start_redirect(GOOGLE, APP_PAGE)
        assert query(start.headers["location"])["redirect_uri"] == callback
        attributes = {a.strip().lower() for a in start.headers["set-cookie"].split(";")[1:]}
        assert attributes == {"httponly", "max-age=600", f"path={routes.oauth_callback()}",
                              "samesite=none", "secure"}
    finally:
        wire.close()
