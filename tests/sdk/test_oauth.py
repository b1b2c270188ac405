"""The sans-IO parts of social login: credentials, redirect URLs, fragments, stored results and
waiting for them (tier a: no server, no browser)."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import urlsplit

import pytest

from app.sdk import Credentials, ErrorCode, MemoryStorage, oauth
from app.sdk.errors import AppError
from app.sdk.providers import parse_provider_list
from app.sdk.storage import PrefixedStorage


def test_social_credentials_carry_protocol_payloads() -> None:
    assert Credentials.google(id_token="t").payload == {"id_token": "t"}
    assert Credentials.google(auth_code="c").payload == {"authCode": "c"}
    assert Credentials.apple(id_token="t").provider_name == "oauth2-apple"
    assert Credentials.facebook(access_token="a").payload == {"accessToken": "a"}
    assert Credentials.oidc(id_token="t").provider_name == "oidc"
    named = Credentials.oidc("oidc-corp", auth_code="c")
    assert (named.provider_name, named.payload) == ("oidc-corp", {"authCode": "c"})
    redirect = Credentials.google(redirect_url="https://app.example/")
    assert redirect.redirects and redirect.payload == {}
    assert not Credentials.google(id_token="t").redirects


@pytest.mark.parametrize("make", [
    lambda: Credentials.google(),
    lambda: Credentials.google(id_token="t", auth_code="c"),
    lambda: Credentials.google(id_token=""),
    lambda: Credentials.facebook(redirect_url="no-scheme"),
    lambda: Credentials.apple(redirect_url="https://app.example/#frag"),
    lambda: Credentials.oidc("keycloak", id_token="t"),
])
def test_bad_social_credentials(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_social_credentials_need_strings() -> None:
    with pytest.raises(TypeError):
        Credentials.google(id_token=5)  # type: ignore[arg-type]


def test_new_state_is_twelve_lowercase_letters() -> None:
    states = {oauth.new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) == 12 and s.isalpha() and s.islower() for s in states)


def test_login_path_matches_realm_web() -> None:
    path = oauth.login_path("my-app", "oauth2-google", state="abcdefghijkl",
                            redirect_url="https://app.example/cb?x=1 2", device="eyJ9=")
    assert path == ("/api/client/v2.0/app/my-app/auth/providers/oauth2-google/login?"
                    "state=abcdefghijkl&redirect=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%202"
                    "&device=eyJ9%3D")
    link = oauth.login_path("my-app", "oauth2-google", state="s", redirect_url="https://a.b/",
                            device="ignored", link=True)
    assert urlsplit(link).query == ("link=true&state=s&redirect=https%3A%2F%2Fa.b%2F"
                                    "&providerRedirectHeader=true")


def test_device_is_base64_json_with_a_plain_hex_id() -> None:
    from app.sdk.credentials import device_info

    encoded = oauth.encode_device(device_info("65a0c0ffee0000000000d0d0"))
    decoded = json.loads(base64.b64decode(encoded))
    assert decoded["deviceId"] == "65a0c0ffee0000000000d0d0"
    assert decoded["sdkVersion"]


def test_fragments_are_parsed_and_stored_under_realm_webs_key() -> None:
    storage = MemoryStorage()
    result = oauth.handle_redirect(
        "#_baas_client_app_id=app&_baas_ua=a%24r%24u%24d&_baas_state=abc&other=1", storage)
    assert result == oauth.RedirectResult("abc", "app", "a$r$u$d")
    stored = json.loads(storage.items["oauth2:state(abc):result"])
    assert stored == {"state": "abc", "appId": "app", "userAuth": "a$r$u$d"}
    assert oauth.take_result(storage, "abc") == result
    assert oauth.take_result(storage, "abc") is None
    assert oauth.handle_redirect("#section-2", storage) is None
    assert oauth.handle_redirect("", storage) is None
    with pytest.raises(ValueError, match="Failed to handle OAuth 2.0 redirect: boom"):
        oauth.parse_fragment("_baas_error=boom")


def test_results_become_tokens_or_errors() -> None:
    ok = oauth.RedirectResult("s", "app", "acc$ref$user$dev")
    auth = oauth.auth_from_result(ok, "app")
    assert (auth.access_token, auth.refresh_token, auth.user_id, auth.device_id) == (
        "acc", "ref", "user", "dev")
    assert oauth.auth_from_result(oauth.RedirectResult("s", "app", "acc$$user$dev"),
                                  "app").refresh_token is None
    failed = oauth.RedirectResult("s", "app", error="identity taken",
                                  error_code="IdentityAlreadyLinked")
    with pytest.raises(AppError) as info:
        oauth.auth_from_result(failed, "app")
    assert info.value.code is ErrorCode.IDENTITY_ALREADY_LINKED
    assert info.value.message == "Redirect login failed: identity taken"
    for bad in (oauth.RedirectResult("s", "app", "a$b$c"), oauth.RedirectResult("s", "other",
                                                                                "a$b$c$d")):
        with pytest.raises(AppError) as info:
            oauth.auth_from_result(bad, "app")
        assert info.value.code is ErrorCode.AUTH_ERROR


class FakeWindow:
    """The transport-edge stand-in for a popup: it can be closed, nothing more."""

    def __init__(self) -> None:
        self.closed = False
        self.close_calls = 0

    def close(self) -> None:
        self.closed = True
        self.close_calls += 1


def test_waiting_ends_with_the_result_and_closes_the_window() -> None:
    storage, window = MemoryStorage(), FakeWindow()
    ticks = 0

    async def sleep(_: float) -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            oauth.handle_redirect("_baas_ua=a%24r%24u%24d&_baas_state=st", storage)

    result = asyncio.run(oauth.wait_for_result(storage, "st", window, sleep=sleep))
    assert result.user_auth == "a$r$u$d" and window.close_calls == 1
    assert "oauth2:state(st):result" not in storage.items


def test_waiting_fails_when_the_window_closes() -> None:
    storage, window = MemoryStorage(), FakeWindow()

    async def sleep(_: float) -> None:
        window.closed = True

    with pytest.raises(AppError) as info:
        asyncio.run(oauth.wait_for_result(storage, "st", window, sleep=sleep))
    assert info.value.code is ErrorCode.WINDOW_CLOSED


def test_pending_flows_are_remembered_and_forgotten() -> None:
    storage = MemoryStorage()
    oauth.mark_pending(storage, "s1", app_id="app", mode="page")
    oauth.mark_pending(storage, "s2", app_id="app", mode="popup")
    assert set(oauth.pending(storage)) == {"s1", "s2"}
    oauth.forget_pending(storage, "s2")
    assert set(oauth.pending(storage)) == {"s1"}
    # A result without a pending flow of ours is never used (login CSRF).
    oauth.handle_redirect("_baas_ua=a%24r%24u%24d&_baas_state=forged", storage)
    assert oauth.finished_page_flows(storage, "app") == []
    oauth.handle_redirect("_baas_ua=a%24r%24u%24d&_baas_state=s1", storage)
    [(info, auth)] = oauth.finished_page_flows(storage, "app")
    assert info["mode"] == "page" and not isinstance(auth, AppError) and auth.user_id == "u"
    assert oauth.pending(storage) == {}
    storage.set(oauth.PENDING_KEY, "not json")
    assert oauth.pending(storage) == {}


def test_results_share_realm_webs_storage_layout() -> None:
    # realm-web's browser storage puts everything under "realm-web:"; so does LocalStorage.
    backing = MemoryStorage()
    oauth.handle_redirect("_baas_state=xyz&_baas_error=no", PrefixedStorage(backing, "realm-web"))
    assert "realm-web:oauth2:state(xyz):result" in backing.items


def test_link_answers_need_the_location_header() -> None:
    assert oauth.redirect_location({"X-BAAS-Location": "https://p/auth"}) == "https://p/auth"
    with pytest.raises(AppError, match="Missing x-baas-location header"):
        oauth.redirect_location({})


def test_provider_list_parsing() -> None:
    parsed = parse_provider_list([{"name": "anon-user", "type": "anon-user"},
                                  {"name": "oidc-corp", "type": "oidc", "display_name": "Corp"}])
    assert [(p.name, p.is_social, p.display_name) for p in parsed] == [
        ("anon-user", False, None), ("oidc-corp", True, "Corp")]
    with pytest.raises(ValueError):
        parse_provider_list({"name": "x"})
