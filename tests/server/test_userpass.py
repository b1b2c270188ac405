"""The email/password provider: registration, confirmation, password reset (protocol 8;
scenarios 16-26)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .app_functions import recorded_calls
from .helpers import FUNCTIONS, PASSWORD, Api, assert_empty, assert_error, userpass_overrides

NEW_PASSWORD = "battery staple"
LENGTH = "password must be between 6 and 128 characters"


def recording(**options: Any) -> dict[str, Any]:
    """Overrides that run ``app_functions.py`` (recording confirm/reset functions)."""
    return {"functions": str(FUNCTIONS), **userpass_overrides(
        confirmation_function="confirm_user", reset_function="reset_password", **options)}


def calls(api: Api, kind: str, email: str) -> list[dict[str, Any]]:
    return [c for c in recorded_calls() if c["kind"] == kind and c["username"] == email]


# Registration.

def test_register_answers_an_empty_201_and_auto_confirms(api: Api) -> None:
    assert_empty(api.register("new@example.com"), 201)
    assert api.log_in("new@example.com").status_code == 200


def test_register_twice_is_name_already_in_use(api: Api) -> None:
    api.register("twice@example.com")
    assert_error(api.register("twice@example.com", "another password"), 409, "AccountNameInUse",
                 "name already in use")
    # The first password is still the one that works.
    assert api.log_in("twice@example.com").status_code == 200


@pytest.mark.parametrize("length, ok", [(5, False), (6, True), (128, True), (129, False)])
def test_password_length(api: Api, length: int, ok: bool) -> None:
    resp = api.register(f"len{length}@example.com", "p" * length)
    if ok:
        assert_empty(resp, 201)
    else:
        assert_error(resp, 400, "BadRequest", LENGTH)


def test_register_needs_an_email_and_a_password(api: Api) -> None:
    assert_error(api.action("register", {"password": PASSWORD}), 400, "MissingParameter")
    assert_error(api.action("register", {"email": "a@example.com"}), 400, "MissingParameter")
    assert_error(api.register("not-an-email"), 400, "InvalidParameter")
    assert_error(api.register("a b@example.com"), 400, "InvalidParameter")
    assert_error(api.register("x" * 250 + "@example.com"), 400, "InvalidParameter")


def test_emails_with_control_characters_are_refused(api: Api) -> None:
    # PostgreSQL text cannot hold NUL; no real address holds any control character.
    for email in ("a\x00@example.com", "a\x1b[31m@example.com", "a\u200b@example.com"):
        assert_error(api.register(email), 400, "InvalidParameter", "invalid email address")
        assert_error(api.action("reset/send", {"email": email}), 400, "InvalidParameter")
    # Logins look the name up without checking it: such a name is simply unknown.
    assert_error(api.log_in("a\x00@example.com"), 401, "InvalidPassword")


def test_unknown_emails_are_user_not_found(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="email"))
    for action in ("confirm/send", "reset/send"):
        assert_error(api.action(action, {"email": "nobody@example.com"}), 404, "UserNotFound",
                     "user not found")
    func = make_api(userpass_overrides(confirmation="function", reset="function"))
    assert_error(func.action("confirm/call", {"email": "nobody@example.com"}), 404,
                 "UserNotFound", "user not found")
    assert_error(func.action("reset/call", {"email": "nobody@example.com",
                                            "password": NEW_PASSWORD, "arguments": []}),
                 404, "UserNotFound", "user not found")


# Confirmation by email.

@pytest.fixture
def by_email(make_api) -> Api:
    return make_api(userpass_overrides(confirmation="email", confirm_subject="Please confirm"))


def test_confirmation_by_email(by_email: Api) -> None:
    api = by_email
    assert_empty(api.register("mail@example.com"), 201)
    [mail] = api.outbox()
    assert mail["to"] == "mail@example.com" and mail["subject"] == "Please confirm"
    tokens = api.last_mail_tokens("mail@example.com")
    assert_error(api.log_in("mail@example.com"), 401, "AuthError")
    assert_empty(api.action("confirm", tokens))
    assert api.log_in("mail@example.com").status_code == 200
    # The token is single-use.
    assert_error(api.action("confirm", tokens), 400, "UserpassTokenInvalid")
    # And a confirmed user gets no more mail.
    assert_error(api.action("confirm/send", {"email": "mail@example.com"}), 400,
                 "UserAlreadyConfirmed", "already confirmed")


def test_resend_confirmation(by_email: Api) -> None:
    api = by_email
    api.register("again@example.com")
    first = api.last_mail_tokens("again@example.com")
    assert_empty(api.action("confirm/send", {"email": "again@example.com"}))
    second = api.last_mail_tokens("again@example.com")
    assert second != first and len(api.outbox()) == 2
    assert_empty(api.action("confirm", second))
    assert api.log_in("again@example.com").status_code == 200


def test_confirm_with_bad_tokens_is_invalid_token_data(by_email: Api) -> None:
    api = by_email
    api.register("bad@example.com")
    good = api.last_mail_tokens("bad@example.com")
    for body in ({"token": "0" * 64, "tokenId": good["tokenId"]},
                 {"token": good["token"], "tokenId": "0" * 24},
                 {"token": good["token"]},
                 {"token": 5, "tokenId": good["tokenId"]},
                 {}):
        assert_error(api.action("confirm", body), 400, "UserpassTokenInvalid",
                     "invalid token data")
    # A confirmation token does not reset a password.
    assert_error(api.action("reset", {**good, "password": NEW_PASSWORD}), 400,
                 "UserpassTokenInvalid", "invalid token data")
    # The failed attempts did not spend the good token.
    assert_empty(api.action("confirm", good))


def test_mail_links_are_absolute_with_a_public_url(make_api) -> None:
    api = make_api({"public_url": "https://auth.example.org/",
                    **userpass_overrides(confirmation="email")})
    api.register("abs@example.com")
    api.action("reset/send", {"email": "abs@example.com"})
    confirm, reset = (m["body"] for m in api.outbox())
    assert "https://auth.example.org/confirm.html?token=" in confirm
    assert "https://auth.example.org/reset.html?token=" in reset


def test_expired_confirmation_token(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="email", token_minutes=0.001))
    api.register("late@example.com")
    tokens = api.last_mail_tokens("late@example.com")
    time.sleep(0.1)
    body = assert_error(api.action("confirm", tokens), 400, "UserpassTokenInvalid")
    assert "expired" in body["error"]
    assert_error(api.log_in("late@example.com"), 401, "AuthError")


def test_confirm_call_needs_function_confirmation(by_email: Api) -> None:
    by_email.register("fn@example.com")
    assert_error(by_email.action("confirm/call", {"email": "fn@example.com"}), 400, "BadRequest")


# Automatic confirmation.

def test_confirm_call_with_automatic_confirmation(api: Api) -> None:
    api.register("auto@example.com")
    assert_error(api.action("confirm/call", {"email": "auto@example.com"}), 400, "BadRequest",
                 "cannot run confirmation for auto@example.com: automatic confirmation is enabled")
    assert_error(api.action("confirm/send", {"email": "auto@example.com"}), 400,
                 "UserAlreadyConfirmed", "already confirmed")


# Confirmation by function.

def test_demo_confirmation_function(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="function"))
    assert_empty(api.register("yes@example.com"), 201)
    assert api.log_in("yes@example.com").status_code == 200
    assert_empty(api.register("maybe@example.org"), 201)
    assert_error(api.log_in("maybe@example.org"), 401, "AuthError")
    # Retrying runs the function again; it is still pending.
    assert_empty(api.action("confirm/call", {"email": "maybe@example.org"}))
    assert_error(api.log_in("maybe@example.org"), 401, "AuthError")
    assert_error(api.action("confirm/call", {"email": "yes@example.com"}), 400,
                 "UserAlreadyConfirmed", "already confirmed")


def test_pending_confirmation_finishes_with_the_token_pair(make_api) -> None:
    api = make_api(recording(confirmation="function"))
    assert_empty(api.register("wait@example.org"), 201)
    [call] = calls(api, "confirm", "wait@example.org")
    assert set(call) == {"kind", "token", "tokenId", "username"}
    assert_error(api.log_in("wait@example.org"), 401, "AuthError")
    assert_empty(api.action("confirm", {"token": call["token"], "tokenId": call["tokenId"]}))
    assert api.log_in("wait@example.org").status_code == 200


@pytest.mark.parametrize("email", ["no@example.org", "boom@example.org"])
def test_failed_confirmation_function(make_api, email: str) -> None:
    api = make_api(recording(confirmation="function"))
    assert_error(api.register(email), 400, "BadRequest", f'failed to confirm user "{email}"')
    assert_error(api.log_in(email), 401, "AuthError")
    # A failed confirmation leaves no usable token behind.
    [call] = calls(api, "confirm", email)
    assert_error(api.action("confirm", {"token": call["token"], "tokenId": call["tokenId"]}),
                 400, "UserpassTokenInvalid")


def test_successful_confirmation_spends_its_token(make_api) -> None:
    api = make_api(recording(confirmation="function"))
    assert_empty(api.register("ok@example.org"), 201)
    [call] = calls(api, "confirm", "ok@example.org")
    assert_error(api.action("confirm", {"token": call["token"], "tokenId": call["tokenId"]}),
                 400, "UserpassTokenInvalid")


# Password reset by email.

def test_reset_by_email(api: Api) -> None:
    api.user("forgot@example.com")
    assert_empty(api.action("reset/send", {"email": "forgot@example.com"}))
    [mail] = api.outbox()
    assert mail["to"] == "forgot@example.com" and mail["subject"] == "Reset your password"
    tokens = api.last_mail_tokens("forgot@example.com")
    assert_error(api.action("reset", {**tokens, "password": "short"}), 400, "BadRequest", LENGTH)
    assert_empty(api.action("reset", {**tokens, "password": NEW_PASSWORD}))
    assert_error(api.log_in("forgot@example.com"), 401, "InvalidPassword", "unauthorized")
    assert api.log_in("forgot@example.com", NEW_PASSWORD).status_code == 200
    assert_error(api.action("reset", {**tokens, "password": "third password"}), 400,
                 "UserpassTokenInvalid")
    assert api.log_in("forgot@example.com", NEW_PASSWORD).status_code == 200


def test_reset_with_bad_tokens_is_invalid_token_data(api: Api) -> None:
    api.user("reset@example.com")
    assert_error(api.action("reset", {"token": "x", "tokenId": "y", "password": NEW_PASSWORD}),
                 400, "UserpassTokenInvalid", "invalid token data")


def test_expired_reset_token(make_api) -> None:
    api = make_api(userpass_overrides(token_minutes=0.001))
    api.user("slow@example.com")
    api.action("reset/send", {"email": "slow@example.com"})
    tokens = api.last_mail_tokens("slow@example.com")
    time.sleep(0.1)
    assert_error(api.action("reset", {**tokens, "password": NEW_PASSWORD}), 400,
                 "UserpassTokenInvalid")
    assert api.log_in("slow@example.com").status_code == 200


def test_reset_call_needs_function_reset(api: Api) -> None:
    api.user("fn@example.com")
    body = {"email": "fn@example.com", "password": NEW_PASSWORD, "arguments": ["let me in"]}
    assert_error(api.action("reset/call", body), 400, "BadRequest")


# Password reset by function.

@pytest.fixture
def by_function(make_api) -> Api:
    return make_api(userpass_overrides(reset="function"))


def test_reset_send_with_a_reset_function(by_function: Api) -> None:
    by_function.user("f@example.com")
    assert_error(by_function.action("reset/send", {"email": "f@example.com"}), 400, "BadRequest",
                 "please use reset password via function")


def test_demo_reset_function(by_function: Api) -> None:
    api = by_function
    api.user("r@example.com")
    body = {"email": "r@example.com", "password": NEW_PASSWORD}
    assert_error(api.action("reset/call", {**body, "arguments": ["please"]}), 400, "BadRequest",
                 'failed to reset password for user "r@example.com"')
    assert_error(api.action("reset/call", {**body, "arguments": []}), 400, "BadRequest",
                 'failed to reset password for user "r@example.com"')
    assert api.log_in("r@example.com").status_code == 200
    assert_empty(api.action("reset/call", {**body, "arguments": ["let me in"]}))
    assert_error(api.log_in("r@example.com"), 401, "InvalidPassword")
    assert api.log_in("r@example.com", NEW_PASSWORD).status_code == 200


def test_reset_call_checks_its_body(by_function: Api) -> None:
    api = by_function
    api.user("body@example.com")
    base = {"email": "body@example.com", "password": NEW_PASSWORD}
    assert_error(api.action("reset/call", {**base, "arguments": "let me in"}), 400,
                 "InvalidParameter")
    assert_error(api.action("reset/call", {**base, "password": "short", "arguments": []}), 400,
                 "BadRequest", LENGTH)


def test_reset_function_receives_canonical_ejson_arguments(make_api) -> None:
    api = make_api(recording(reset="function"))
    api.user("ok@example.org")
    args = [{"$numberInt": "7"}, {"$oid": "65a0c0ffee0000000000abcd"}, {"a": {"$numberLong": "1"}}]
    body = {"email": "ok@example.org", "password": NEW_PASSWORD, "arguments": args}
    assert_empty(api.action("reset/call", body))
    [call] = calls(api, "reset", "ok@example.org")
    assert call["args"][0] == 7 and str(call["args"][1]) == "65a0c0ffee0000000000abcd"
    assert call["args"][2] == {"a": 1}
    assert call["password"] == NEW_PASSWORD
    assert api.log_in("ok@example.org", NEW_PASSWORD).status_code == 200
    # Success spent the token that the function saw.
    assert_error(api.action("reset", {"token": call["token"], "tokenId": call["tokenId"],
                                      "password": "third password"}),
                 400, "UserpassTokenInvalid")


def test_pending_reset_finishes_with_the_token_pair(make_api) -> None:
    api = make_api(recording(reset="function"))
    api.user("wait@example.org")
    body = {"email": "wait@example.org", "password": NEW_PASSWORD, "arguments": []}
    assert_empty(api.action("reset/call", body))
    assert api.log_in("wait@example.org").status_code == 200
    [call] = calls(api, "reset", "wait@example.org")
    assert_empty(api.action("reset", {"token": call["token"], "tokenId": call["tokenId"],
                                      "password": NEW_PASSWORD}))
    assert api.log_in("wait@example.org", NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("email", ["no@example.org", "boom@example.org"])
def test_failed_reset_function_leaves_no_usable_token(make_api, email: str) -> None:
    api = make_api(recording(reset="function"))
    api.user(email)
    body = {"email": email, "password": NEW_PASSWORD, "arguments": []}
    assert_error(api.action("reset/call", body), 400, "BadRequest",
                 f'failed to reset password for user "{email}"')
    [call] = calls(api, "reset", email)
    assert_error(api.action("reset", {"token": call["token"], "tokenId": call["tokenId"],
                                      "password": NEW_PASSWORD}),
                 400, "UserpassTokenInvalid")
    assert api.log_in(email).status_code == 200
