"""The words the pages show (``app.messages``) and the embed bridge (``app.embed``), under CPython.

No browser: the bridge runs with the CPython transport against a live server, which is what the
browser does with ``fetch``, minus the Pyodide start.
"""

from __future__ import annotations

import json

import pytest

from app.embed import Bridge
from app.messages import friendly, provider_name, token_outcome
from app.sdk import AppError, ErrorCode, MemoryStorage
from app.sdk.adapters.native import UrllibTransport

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


def test_bridge_answers_json_and_notifies_settled_state(live_server):
    sent: list[dict] = []
    bridge = Bridge("latchkey-demo", live_server.base_url, lambda s: sent.append(json.loads(s)),
                    transport=UrllibTransport(), storage=MemoryStorage())

    calls = [("register", ["amy@example.com", "s3cret-pass"]),
             ("logIn", ["emailPassword", "amy@example.com", "s3cret-pass"]),
             ("callFunction", ["translate", "hello", "en_fr"]),
             ("logIn", ["emailPassword", "amy@example.com", "wrong!"]),
             ("logIn", ["carrier-pigeon"]),
             ("nope", [])]

    async def story() -> list[dict]:
        return [json.loads(await bridge.call(name, json.dumps(args))) for name, args in calls]

    registered, logged_in, translated, refused, unknown, missing = run_async(story())
    assert registered == {"ok": True, "value": None}
    assert logged_in["value"]["email"] == "amy@example.com"
    assert logged_in["value"]["isCurrent"] is True
    assert translated == {"ok": True, "value": "bonjour"}
    assert refused["ok"] is False and refused["code"] == "InvalidPassword"
    assert "don't match" in refused["message"] and "401" in refused["detail"]
    assert unknown["code"] == missing["code"] == "InvalidArgument"
    # Subscribers hear the state once it has settled (with the profile), and no repeats.
    assert sent[-1]["currentUser"]["label"] == "amy@example.com"
    assert all(a != b for a, b in zip(sent, sent[1:], strict=False))
