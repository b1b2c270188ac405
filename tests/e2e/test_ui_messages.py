"""The words the pages show (``app.messages``) and the embed bridge (``app.embed``), under CPython.

No browser: the bridge runs with the CPython transport against a live server, which is what the
browser does with ``fetch``, minus the Pyodide start.
"""

from __future__ import annotations

import json

import pytest

from app.embed import Bridge
from app.messages import (
    email_problem,
    friendly,
    password_problem,
    picture_url,
    popup_blocked,
    provider_name,
    social_label,
    social_text,
    token_outcome,
)
from app.sdk import AppError, ErrorCode, MemoryStorage
from app.sdk.adapters.native import UrllibTransport
from app.sdk.providers import AuthProviderInfo

from .ui_helpers import run_async


def error(code: ErrorCode, text: str = "", status: int = 400) -> AppError:
    return AppError(f"Request failed: {text}", code=code, status=status, error=text)


@pytest.mark.parametrize(("err", "action", "words"), [
    (error(ErrorCode.INVALID_PASSWORD, "unauthorized", 401), "login", "don't match"),
    (error(ErrorCode.AUTH_ERROR, "invalid API key", 401), "apikey", "API key isn't valid"),
    (error(ErrorCode.AUTH_ERROR, "confirmation required", 401), "login", "Confirm your email"),
    (error(ErrorCode.ACCOUNT_NAME_IN_USE, "name already in use", 409), "register",
     "already an account"),
    (error(ErrorCode.TOO_MANY_REQUESTS, "too many login attempts", 429), "login",
     "Too many attempts"),
    (AppError("Request failed: fetch failed", code=ErrorCode.NETWORK_ERROR), "anon",
     "Can't reach the server"),
    (error(ErrorCode.INVALID_PARAMETER, "invalid email address"), "register",
     "doesn't look like an email"),
    (error(ErrorCode.BAD_REQUEST, "password must be between 6 and 128 characters"), "register",
     "6 to 128 characters"),
    (error(ErrorCode.NOT_FOUND, "not found", 404), "function", "doesn't offer this function"),
    (error(ErrorCode.FUNCTION_EXECUTION_ERROR, "no translation", 400), "function",
     "The function failed: no translation"),
    (error(ErrorCode.INTERNAL_SERVER_ERROR, "boom", 500), "login", "server ran into a problem"),
    (error(ErrorCode.USERPASS_TOKEN_INVALID, "token expired"), "confirm", "has expired"),
])
def test_friendly_messages(err, action, words):
    assert words in friendly(err, action)


def test_token_outcomes_and_names():
    assert token_outcome(error(ErrorCode.USERPASS_TOKEN_INVALID, "token expired")) == "expired"
    assert token_outcome(error(ErrorCode.USERPASS_TOKEN_INVALID, "token already used")) == "used"
    assert token_outcome(error(ErrorCode.USERPASS_TOKEN_INVALID, "invalid token data")) == \
        "invalid"
    assert token_outcome(error(ErrorCode.BAD_REQUEST, "token expired")) is None
    assert provider_name("local-userpass") == "Email and password"
    assert provider_name("something-new") == "something-new"


def redirect_error(text: str, code: str | None = None) -> AppError:
    # What the SDK raises for a redirect login's _baas_error (or a closed window).
    return AppError.redirect(text, code)


@pytest.mark.parametrize(("err", "provider", "words"), [
    (redirect_error("Window closed", "WindowClosed"), "Google",
     "The Google sign-in window was closed before you finished"),
    (redirect_error("Window closed", "WindowClosed"), None,
     "The sign-in window was closed before you finished"),
    (redirect_error("oauth2-google login failed: the provider answered: The user declined",
                    "AuthError"), "Google", "Google didn't let you sign in"),
    (redirect_error("oauth2-google login failed: the provider answered: no", "AuthError"),
     None, "The sign-in service didn't let you sign in"),
    (redirect_error("could not reach the identity provider of oauth2-google (token endpoint)",
                    "InternalServerError"), "Google", "Can't reach Google right now"),
    (redirect_error("oauth2-google login failed: the ID token has expired", "AuthError"),
     "Google", "We couldn't check your sign-in with Google"),
    (error(ErrorCode.INVALID_PARAMETER, "redirect URL not allowed: https://x.example/"),
     "Google", "isn't on the server's list of pages"),
    (redirect_error("identity already linked", "IdentityAlreadyLinked"), "Google",
     "already belongs to another account"),
    (AppError("Request failed: fetch failed", code=ErrorCode.NETWORK_ERROR), "Google",
     "Can't reach the server"),
])
def test_social_messages(err, provider, words):
    text = social_text(err) if provider is None else social_text(err, provider)
    assert words in text


def test_a_blocked_popup_is_told_from_a_closed_window():
    try:
        try:
            raise OSError("the browser blocked the popup")
        except OSError as exc:
            raise AppError.redirect("could not open the login window", "WindowClosed") from exc
    except AppError as err:
        blocked = err
    assert popup_blocked(blocked)
    assert not popup_blocked(redirect_error("Window closed", "WindowClosed"))
    assert not popup_blocked(error(ErrorCode.NETWORK_ERROR, "fetch failed", 0))


def test_social_labels():
    assert social_label(AuthProviderInfo("oauth2-google", "oauth2-google", "Google")) == "Google"
    assert social_label(AuthProviderInfo("oidc-sso", "oidc", "Company SSO")) == "Company SSO"
    assert social_label(AuthProviderInfo("oidc", "oidc")) == "OpenID Connect"


class _Profile:
    def __init__(self, url):
        self.picture_url = url


class _User:
    def __init__(self, url):
        self.profile = _Profile(url)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://lh3.googleusercontent.com/a/x=s96-c", True),
    ("http://127.0.0.1:5555/pictures/alice.svg", True),
    ("HTTPS://example.com/p.png", True),
    ("javascript:alert(1)", False),
    ("data:image/svg+xml,<svg onload=alert(1)>", False),
    ("//evil.example/p.png", False),
    ("/static/favicon.svg", False),
    ("https://", False),
    ('https://example.com/a" onerror="alert(1)', False),
    ("https://example.com/a b.png", False),
    ("", False),
    (None, False),
    (42, False),
])
def test_only_http_pictures_are_shown(url, shown):
    assert picture_url(_User(url)) == (url if shown else None)


def test_bridge_answers_json_and_notifies_settled_state(live_server):
    sent: list[dict] = []
    bridge = Bridge("latchkey-demo", live_server.base_url, lambda s: sent.append(json.loads(s)),
                    transport=UrllibTransport(), storage=MemoryStorage())

    calls = [("register", ["amy@example.com", "s3cret-pass"]),
             ("logIn", ["emailPassword", "amy@example.com", "s3cret-pass"]),
             ("callFunction", ["translate", "hello", "en_fr"]),
             ("logIn", ["emailPassword", "amy@example.com", "wrong!"]),
             ("logIn", ["carrier-pigeon"]),
             ("nope", []),
             ("sendResetPasswordEmail", ["  "]),
             ("logIn", ["emailPassword", "amy", "s3cret-pass"]),
             ("resendConfirmationEmail", ["amy@example.com"]),
             ("authProviders", []),
             ("deleteUser", [])]

    async def story() -> list[dict]:
        return [json.loads(await bridge.call(name, json.dumps(args))) for name, args in calls]

    (registered, logged_in, translated, refused, unknown, missing, empty, malformed, resent,
     providers, deleted) = run_async(story())
    assert registered == {"ok": True, "value": None}
    assert logged_in["value"]["email"] == "amy@example.com"
    assert logged_in["value"]["isCurrent"] is True
    assert translated == {"ok": True, "value": "bonjour"}
    assert refused["ok"] is False and refused["code"] == "InvalidPassword"
    assert "don't match" in refused["message"] and "401" in refused["detail"]
    assert unknown["code"] == missing["code"] == "InvalidArgument"
    # An empty or malformed email gets the page's words, never an internal message.
    assert empty["message"] == "Enter your email address."
    assert malformed["message"] == "That doesn't look like an email address."
    assert resent["ok"] is False and resent["code"] == "UserAlreadyConfirmed"
    assert "already confirmed" in resent["message"]
    assert {"name": "anon-user", "type": "anon-user", "displayName": None} in providers["value"]
    assert deleted == {"ok": True, "value": None}
    # Subscribers hear the state once it has settled (with the profile), and no repeats.
    assert sent[-1]["currentUser"] is None
    assert all(a != b for a, b in zip(sent, sent[1:], strict=False))


@pytest.mark.parametrize("email, problem", [
    ("", "Enter your email address."),
    ("ada", "That doesn't look like an email address."),
    ("ada@", "That doesn't look like an email address."),
    ("@example.com", "That doesn't look like an email address."),
    ("ada @example.com", "That doesn't look like an email address."),
    ("ada@example.com", None),
])
def test_email_checks_before_any_request(email, problem):
    assert email_problem(email) == problem


def test_password_checks_before_any_request():
    assert password_problem("", new=False) == "Enter your password."
    assert password_problem("x", new=False) is None
    assert password_problem("short", new=True) == "Use a password of 6 to 128 characters."
    assert password_problem("x" * 129, new=True) == "Use a password of 6 to 128 characters."
    assert password_problem("long enough", new=True) is None
