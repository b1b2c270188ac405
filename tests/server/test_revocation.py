"""Tokens die with their session (issue 16 items 3 to 5), on SQLite and PostgreSQL alike.

An access token is refused with 401 ``InvalidSession`` from the first request after its session
ends: by logout, by disabling or deleting the API key it was opened with, by disabling or deleting
its user, and by a password reset, which ends every session of the account. Deleting a user takes
its email/password tokens along, so an old link cannot touch a later account of that address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.sdk import AppError, Credentials, ErrorCode, UserState, routes
from app.sdk.adapters.native import make_app
from server.admin import users_command

from .helpers import (
    APP_ID,
    Api,
    assert_empty,
    assert_error,
    auth,
    mail_tokens,
    userpass_overrides,
)

INVALID = "InvalidSession"
NEW_PASSWORD = "battery staple"
KEYS = routes.api_keys()


def _call(api: Api, token: str) -> Any:
    return api.http.post(routes.functions_call(APP_ID),
                         json={"name": "translate", "arguments": ["hello", "en_fr"]},
                         headers=auth(token))


def _link(api: Api, token: str) -> Any:
    return api.log_in("link-other@example.com", link_token=token)


def _delete(api: Api, token: str) -> Any:
    return api.delete_user(token)


#: Every route that takes an access token, with a request that succeeds on a live session.
ACCESS_ROUTES: dict[str, Callable[[Api, str], Any]] = {
    "profile": lambda api, token: api.profile(token),
    "function call": _call,
    "link": _link,
    "delete user": _delete,
}


@pytest.mark.parametrize("route", list(ACCESS_ROUTES))
def test_every_access_token_route_refuses_a_logged_out_session(api: Api, route: str) -> None:
    api.register("link-other@example.com")
    tokens = api.user("every@example.com")
    live = api.log_in_ok("every@example.com")
    assert_empty(api.log_out(tokens["refresh_token"]))
    assert_error(ACCESS_ROUTES[route](api, tokens["access_token"]), 401, INVALID,
                 "invalid session: session ended")
    # The same route on the user's other session still works.
    assert ACCESS_ROUTES[route](api, live["access_token"]).status_code in (200, 204)


def _key_session(api: Api, tokens: dict[str, str]) -> tuple[str, dict[str, str]]:
    resp = api.http.post(KEYS, json={"name": "ci"}, headers=auth(tokens["refresh_token"]))
    assert resp.status_code == 201, resp.text
    key = resp.json()
    login = api.login(routes.API_KEY, {"key": key["key"]})
    assert login.status_code == 200, login.text
    return str(key["_id"]), dict(login.json())


@pytest.mark.parametrize("action", ["disable", "delete"])
def test_an_api_key_disabled_or_deleted_takes_its_access_tokens(make_api, action: str) -> None:
    api = make_api({"providers": {"api-key": {"enabled": True}}})
    owner = api.user("keys@example.com")
    key_id, session = _key_session(api, owner)
    assert api.profile(session["access_token"]).status_code == 200
    rt = auth(owner["refresh_token"])
    if action == "disable":
        assert_empty(api.http.put(f"{KEYS}/{key_id}/disable", headers=rt))
    else:
        assert_empty(api.http.delete(f"{KEYS}/{key_id}", headers=rt))
    assert_error(api.profile(session["access_token"]), 401, INVALID)
    assert_error(_call(api, session["access_token"]), 401, INVALID)
    # The owner's own session was not opened with the key and lives on.
    assert api.profile(owner["access_token"]).status_code == 200


def test_disabling_a_user_ends_every_session_and_token(api: Api) -> None:
    first = api.user("off@example.com")
    second = api.log_in_ok("off@example.com")
    assert api.run(users_command, api.services, "disable", first["user_id"]) == 0
    for tokens in (first, second):
        assert_error(api.profile(tokens["access_token"]), 401, INVALID)
        assert_error(api.refresh(tokens["refresh_token"]), 401, INVALID)
    # Enabling again lets the user log in; the ended sessions stay ended.
    assert api.run(users_command, api.services, "enable", first["user_id"]) == 0
    assert_error(api.refresh(first["refresh_token"]), 401, INVALID)
    assert api.profile(api.log_in_ok("off@example.com")["access_token"]).status_code == 200


def _assert_all_ended(api: Api, sessions: list[dict[str, str]]) -> None:
    for tokens in sessions:
        assert_error(api.profile(tokens["access_token"]), 401, INVALID)
        assert_error(api.refresh(tokens["refresh_token"]), 401, INVALID)


def test_a_reset_by_email_ends_every_session_of_the_account(api: Api) -> None:
    sessions = [api.user("lost@example.com"), api.log_in_ok("lost@example.com")]
    bystander = api.user("bystander@example.com")
    assert_empty(api.action("reset/send", {"email": "lost@example.com"}))
    mail = api.last_mail_tokens("lost@example.com")
    assert_empty(api.action("reset", {**mail, "password": NEW_PASSWORD}))
    _assert_all_ended(api, sessions)
    assert api.profile(bystander["access_token"]).status_code == 200
    fresh = api.log_in_ok("lost@example.com", NEW_PASSWORD)
    assert api.profile(fresh["access_token"]).status_code == 200


def test_a_reset_by_function_ends_every_session_of_the_account(make_api) -> None:
    api = make_api(userpass_overrides(reset="function"))
    sessions = [api.user("fn-reset@example.com"), api.log_in_ok("fn-reset@example.com")]
    body = {"email": "FN-Reset@example.com", "password": NEW_PASSWORD, "arguments": ["let me in"]}
    assert_empty(api.action("reset/call", body))
    _assert_all_ended(api, sessions)
    assert api.log_in_ok("fn-reset@example.com", NEW_PASSWORD)


def test_an_old_reset_link_does_not_work_on_a_later_account_of_that_address(api: Api) -> None:
    first = api.user("again@example.com")
    assert_empty(api.action("reset/send", {"email": "again@example.com"}))
    old_link = api.last_mail_tokens("again@example.com")
    assert_empty(api.delete_user(first["access_token"]))
    second = api.user("again@example.com")
    assert second["user_id"] != first["user_id"]
    assert_error(api.action("reset", {**old_link, "password": "attacker's pick"}), 400,
                 "UserpassTokenInvalid")
    # The new account keeps its password and its session.
    assert api.profile(second["access_token"]).status_code == 200
    assert api.log_in("again@example.com").status_code == 200


def test_an_old_confirmation_link_does_not_confirm_a_later_account(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="email"))
    assert_empty(api.register("confirm-again@example.com"), 201)
    assert_empty(api.action("confirm/send", {"email": "confirm-again@example.com"}))
    first_link, unused_link = [mail_tokens(m["body"]) for m in api.outbox()]
    assert_empty(api.action("confirm", first_link))
    first = api.log_in_ok("confirm-again@example.com")
    assert_empty(api.delete_user(first["access_token"]))
    assert_empty(api.register("confirm-again@example.com"), 201)
    assert_error(api.action("confirm", unused_link), 400, "UserpassTokenInvalid")
    assert_error(api.log_in("confirm-again@example.com"), 401, "AuthError",
                 "confirmation required")


def test_the_sdk_refreshes_then_logs_out_when_its_session_ends(server_factory) -> None:
    """realm-web's contract, with our SDK: a refused access token leads to one refresh, whose
    refusal logs the user out locally; no loop, and the app can log in again."""
    live = server_factory(userpass_overrides(reset="function"))

    async def scenario() -> None:
        app = make_app(live.app_id, live.base_url)
        await app.email_password_auth.register_user("sdk-ended@example.com", "first password")
        user = await app.log_in(Credentials.email_password("sdk-ended@example.com",
                                                           "first password"))
        await user.refresh_profile()
        with httpx.Client(base_url=live.base_url) as http:  # Another device resets the password.
            body = {"email": "sdk-ended@example.com", "password": NEW_PASSWORD,
                    "arguments": ["let me in"]}
            assert_empty(Api(http).action("reset/call", body))
        with pytest.raises(AppError) as info:
            await user.refresh_profile()
        assert info.value.code is ErrorCode.INVALID_SESSION
        assert user.state is UserState.LOGGED_OUT
        again = await app.log_in(Credentials.email_password("sdk-ended@example.com",
                                                            NEW_PASSWORD))
        await again.refresh_profile()

    asyncio.run(scenario())
