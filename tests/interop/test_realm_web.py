"""Interop: the official realm-web 2.0.1 client, run by Node, against our live server.

realm-web is the judge of protocol compatibility (protocol.md). Each test runs one scenario of
``realm_web_driver.mjs`` in a fresh Node process against the ``live_server`` fixture (uvicorn on
loopback) and asserts on the JSON the driver prints. The driver also reports the HTTP exchanges
realm-web made (``requests``), so wire flows such as 401 -> refresh -> retry can be checked too.

Providers and functions that the server may not offer yet (API keys, custom function, custom JWT,
``translate``) are probed first; the test is skipped only when the server answers
``AuthProviderNotFound`` / ``FunctionNotFound``, never on any other failure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER = REPO_ROOT / "tests" / "interop" / "realm_web_driver.mjs"
REALM_WEB = REPO_ROOT / "node_modules" / "realm-web" / "package.json"
NODE_TIMEOUT_SECONDS = 60
CLIENT_API = "/api/client/v2.0"

# The providers of realm-web's integration-test app (protocol.md section 13), in our config
# shape; the demo functions module supplies ``authenticate`` (secret "v3ry-s3cret").
TEMPLATE_FUNCTION_PAYLOAD = {"username": "my-very-own-username", "secret": "v3ry-s3cret"}
TEMPLATE_JWT_SECRET = "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu"
TEMPLATE_PROVIDERS = {
    "providers": {
        "api-key": {"enabled": True},
        "custom-function": {"enabled": True, "function_name": "authenticate"},
        "custom-token": {
            "enabled": True,
            "algorithm": "HS256",
            "signing_keys": [TEMPLATE_JWT_SECRET],
            "metadata_fields": [
                {"name": "mySecretField", "field_name": "secret", "required": True},
            ],
        },
    }
}

HEX24 = re.compile(r"^[0-9a-f]{24}$")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not REALM_WEB.exists(), reason="realm-web is not installed (npm ci)"),
]


@pytest.fixture
def template_server(server_factory: Any) -> Any:
    """The demo app with the extra providers of realm-web's integration-test app enabled."""
    return server_factory(TEMPLATE_PROVIDERS)


# --------------------------------------------------------------------------------------------
# Running the driver


def run_driver_raw(live_server: Any, scenario: str, **params: Any) -> dict[str, Any]:
    """Run one scenario and return the driver's JSON line, whatever its outcome."""
    config = {
        "baseUrl": live_server.base_url,
        "appId": live_server.app_id,
        "scenario": scenario,
        **params,
    }
    proc = subprocess.run(
        ["node", str(DRIVER)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        pytest.fail(
            f"driver printed {len(lines)} stdout lines (exit {proc.returncode})\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    payload: dict[str, Any] = json.loads(lines[0])
    assert (proc.returncode == 0) == (payload.get("ok") is True), (
        f"exit code {proc.returncode} does not match ok={payload.get('ok')}\nstderr:\n{proc.stderr}"
    )
    if payload.get("ok") is not True:
        payload["stderr"] = proc.stderr[-4000:]
    return payload


def run_driver(live_server: Any, scenario: str, **params: Any) -> dict[str, Any]:
    """Run one scenario that must succeed and return its ``result``."""
    payload = run_driver_raw(live_server, scenario, **params)
    if payload.get("ok") is not True:
        pytest.fail(f"realm-web scenario {scenario!r} failed:\n{json.dumps(payload, indent=2)}")
    result: dict[str, Any] = payload["result"]
    return result


# --------------------------------------------------------------------------------------------
# Probes for optional features (plain HTTP, no realm-web)


def _http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as err:
        raw = err.read()
        status = err.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _error_code(body: Any) -> str | None:
    return body.get("error_code") if isinstance(body, dict) else None


def require_provider(live_server: Any, provider: str, body: dict[str, Any]) -> None:
    """Fail when the server reports ``provider`` as not configured (the fixture configures it)."""
    app_url = f"{live_server.base_url}{CLIENT_API}/app/{live_server.app_id}"
    url = f"{app_url}/auth/providers/{provider}/login"
    _status, answer = _http("POST", url, body)
    if _error_code(answer) == "AuthProviderNotFound":
        pytest.fail(f"the server has no {provider!r} provider configured (AuthProviderNotFound)")


def require_function(live_server: Any, name: str, args: list[Any]) -> None:
    """Fail when the server reports function ``name`` as unknown (the demo app has it)."""
    app_url = f"{live_server.base_url}{CLIENT_API}/app/{live_server.app_id}"
    status, login = _http("POST", f"{app_url}/auth/providers/anon-user/login", {})
    assert status == 200, f"anonymous login for the probe failed: {status} {login}"
    _status, answer = _http(
        "POST",
        f"{app_url}/functions/call",
        {"name": name, "arguments": args},
        token=login["access_token"],
    )
    if _error_code(answer) == "FunctionNotFound":
        pytest.fail(f"the server has no function {name!r} (FunctionNotFound)")


def _flow(requests: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """The recorded exchanges as (method, path without prefix/query, status)."""
    out = []
    for entry in requests:
        path = entry["path"].split("?", 1)[0].removeprefix(CLIENT_API)
        out.append((entry["method"], path, entry.get("status", 0)))
    return out


def _is_success(status: int) -> bool:
    return 200 <= status < 300


# --------------------------------------------------------------------------------------------
# Anonymous users, restore, switching


def test_anonymous_login_profile_and_custom_data(live_server: Any) -> None:
    result = run_driver(live_server, "anonymous")
    user = result["user"]
    assert HEX24.match(user["id"]), user["id"]
    assert user["state"] == "active"
    assert user["isLoggedIn"] is True
    assert user["providerType"] == "anon-user"
    assert result["profileType"] == "normal"
    assert [i["providerType"] for i in user["identities"]] == ["anon-user"]
    assert isinstance(user["identities"][0]["id"], str) and user["identities"][0]["id"]
    assert "name" not in user["profile"]
    assert user["customData"] == {}
    assert user["hasRefreshToken"] is True
    claims = user["accessTokenClaims"]
    assert claims["sub"] == user["id"]
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] > time.time()
    assert user["deviceId"] is not None and HEX24.match(user["deviceId"])
    assert user["deviceId"] != "0" * 24
    assert result["currentUserId"] == user["id"]
    assert result["allUserIds"] == [user["id"]]
    # A second anonymous login reuses the user client-side and only re-reads the profile.
    assert result["reusedSameUser"] is True
    assert _flow(result["requestsForReuse"]) == [("GET", "/auth/profile", 200)]
    assert result["toJSONKeys"] == [
        "accessToken",
        "customData",
        "id",
        "profile",
        "refreshToken",
        "state",
    ]
    assert _flow(result["requests"])[:3] == [
        ("GET", f"/app/{live_server.app_id}/location", 200),
        ("POST", f"/app/{live_server.app_id}/auth/providers/anon-user/login", 200),
        ("GET", "/auth/profile", 200),
    ]


def test_second_app_instance_restores_user(live_server: Any) -> None:
    result = run_driver(live_server, "restore")
    assert result["restoredId"] == result["userId"]
    assert result["sameAccessToken"] is True
    assert result["sameRefreshToken"] is True
    assert result["allUserIds"] == [result["userId"]]
    assert result["restoredIdentities"] == ["anon-user"]


def test_two_users_switch_logout_remove(live_server: Any) -> None:
    result = run_driver(live_server, "two_users_switch")
    first, second = result["firstId"], result["secondId"]
    assert first != second
    assert result["afterLogins"] == {"currentUserId": second, "allUserIds": [second, first]}
    assert result["afterSwitchToFirst"] == {"currentUserId": first, "allUserIds": [first, second]}
    assert result["afterSwitchToSecond"] == {"currentUserId": second, "allUserIds": [second, first]}
    assert result["afterLogout"] == {
        "currentUserId": first,
        "allUserIds": [second, first],
        "secondState": "logged-out",
        "firstState": "active",
    }
    assert result["afterRemove"] == {
        "currentUserId": first,
        "allUserIds": [first],
        "secondState": "removed",
        "firstState": "active",
    }
    # Logout revoked the session with the refresh token and the server answered with a success.
    flow = _flow(result["requests"])
    assert any(m == "DELETE" and p == "/auth/session" and _is_success(s) for m, p, s in flow)


# --------------------------------------------------------------------------------------------
# Email/password users, sessions, linking, deletion


def test_register_login_refresh_logout(live_server: Any) -> None:
    result = run_driver(live_server, "register_login")
    user = result["user"]
    assert user["providerType"] == "local-userpass"
    assert user["profile"]["email"] == result["email"]
    assert [i["providerType"] for i in user["identities"]] == ["local-userpass"]
    assert user["state"] == "active"
    assert result["tokenChanged"] is True
    assert result["refreshTokenUnchanged"] is True
    assert result["newClaims"]["sub"] == user["id"]
    assert result["newClaims"]["exp"] >= result["oldClaims"]["exp"]
    assert result["afterLogout"] == {
        "state": "logged-out",
        "isLoggedIn": False,
        "accessToken": None,
        "refreshToken": None,
        "currentUserId": None,
        "allUserIds": [user["id"]],
    }
    # The revoked refresh token fails with 401 InvalidSession and realm-web logs the user out.
    revoked = result["refreshAfterLogout"]
    assert revoked["ok"] is False
    assert revoked["statusCode"] == 401
    assert revoked["errorCode"] == "InvalidSession"
    assert result["stateAfterRevokedRefresh"] == "logged-out"
    flow = _flow(result["requests"])
    assert any(m == "POST" and p == "/auth/session" and _is_success(s) for m, p, s in flow)
    assert any(m == "DELETE" and p == "/auth/session" and _is_success(s) for m, p, s in flow)


def test_foreign_access_token_is_refreshed_then_retried(live_server: Any) -> None:
    result = run_driver(live_server, "refresh_invalid_access_token")
    assert result["tokenChanged"] is True
    assert result["newTokenSub"] == result["userId"]
    assert result["state"] == "active"
    flow = _flow(result["flow"])
    assert flow[0] == ("GET", "/auth/profile", 401)
    assert flow[1][:2] == ("POST", "/auth/session") and _is_success(flow[1][2])
    assert flow[2] == ("GET", "/auth/profile", 200)
    assert len(flow) == 3


def test_foreign_access_token_function_call_retried(live_server: Any) -> None:
    require_function(live_server, "translate", ["hello", "en_fr"])
    result = run_driver(live_server, "refresh_invalid_access_token", useFunction=True)
    assert result["value"] == "bonjour"
    assert result["tokenChanged"] is True
    call = f"/app/{live_server.app_id}/functions/call"
    flow = _flow(result["flow"])
    assert flow[0] == ("POST", call, 401)
    assert flow[1][:2] == ("POST", "/auth/session") and _is_success(flow[1][2])
    assert flow[2] == ("POST", call, 200)


def test_link_email_password_to_anonymous_user(live_server: Any) -> None:
    result = run_driver(live_server, "link")
    anon_id = result["anonId"]
    assert result["otherId"] != anon_id
    assert result["identities"] == ["anon-user", "local-userpass"]
    assert result["subBefore"] == anon_id
    assert result["subAfter"] == anon_id
    # Linking does not change the current user (the second anonymous user).
    assert result["currentUserId"] == result["otherId"]
    # The linked email/password now logs in as the anonymous user.
    assert result["emailLoginUserId"] == anon_id
    assert result["emailLoginSameObject"] is True
    assert result["identitiesAfterEmailLogin"] == ["anon-user", "local-userpass"]
    login = next(e for e in result["requests"] if "link=true" in e["path"])
    assert login["method"] == "POST" and login["status"] == 200


def test_delete_user_then_login_fails(live_server: Any) -> None:
    result = run_driver(live_server, "delete")
    assert result["afterDelete"] == {"state": "removed", "currentUserId": None, "allUserIds": []}
    relogin = result["relogin"]
    assert relogin["ok"] is False
    assert "unauthorized" in relogin["message"]
    assert relogin["statusCode"] == 401
    flow = _flow(result["requests"])
    assert any(m == "DELETE" and p == "/auth/delete" and _is_success(s) for m, p, s in flow)


def test_email_password_error_texts(live_server: Any) -> None:
    result = run_driver(live_server, "email_password_errors")
    email = result["email"]

    def failed(name: str, error: str, status: int | None = None, code: str | None = None) -> None:
        got = result[name]
        assert got["ok"] is False, f"{name} unexpectedly succeeded: {got}"
        assert got["error"] == error, f"{name}: {got}"
        if status is not None:
            assert got["statusCode"] == status, f"{name}: {got}"
        if code is not None:
            assert got["errorCode"] == code, f"{name}: {got}"

    failed("registerAgain", "name already in use", code="AccountNameInUse")
    failed("shortPassword", "password must be between 6 and 128 characters", status=400)
    failed("confirmInvalid", "invalid token data", status=400)
    failed("resendConfirmation", "already confirmed", status=400)
    failed(
        "retryCustomConfirmation",
        f"cannot run confirmation for {email}: automatic confirmation is enabled",
        status=400,
    )
    failed("wrongPassword", "unauthorized", status=401, code="InvalidPassword")
    failed("unknownEmail", "unauthorized", status=401, code="InvalidPassword")
    failed("resetInvalid", "invalid token data", status=400)
    # The demo app resets by email: sending the email works, the reset function is refused.
    assert result["sendResetPasswordEmail"]["ok"] is True, result["sendResetPasswordEmail"]
    failed("callResetPasswordFunction", "reset by function is not enabled", status=400)


def test_email_password_reset_by_function_texts(server_factory: Any) -> None:
    # The realm-web test app resets passwords through a function that always fails.
    live = server_factory({"providers": {"local-userpass": {"reset": "function"}}})
    result = run_driver(live, "email_password_errors")
    email = result["email"]
    send = result["sendResetPasswordEmail"]
    assert send["ok"] is False and send["statusCode"] == 400, send
    assert send["error"] == "please use reset password via function"
    call = result["callResetPasswordFunction"]
    assert call["ok"] is False and call["statusCode"] == 400, call
    assert call["error"] == f'failed to reset password for user "{email}"'


# --------------------------------------------------------------------------------------------
# API keys, custom function, custom JWT


def test_api_keys_lifecycle(template_server: Any) -> None:
    require_provider(template_server, "api-key", {"key": "probe"})
    result = run_driver(template_server, "api_keys", keyName="interop-key")
    user_id = result["userId"]
    assert result["initialList"] == []
    created = result["created"]
    key_id = created["_id"]
    assert created["idType"] == "string" and created["keyType"] == "string"
    assert HEX24.match(key_id)
    assert created["name"] == "interop-key"
    assert created["disabled"] is False
    assert created["key"]
    summary = {"_id": key_id, "name": "interop-key"}
    assert result["listAfterCreate"] == [{**summary, "disabled": False}]
    assert result["fetched"] == {**summary, "disabled": False}
    assert result["disableResult"] is None
    assert result["fetchedDisabled"] == {**summary, "disabled": True}
    assert result["loginDisabledKey"]["ok"] is False
    assert result["enableResult"] is None
    assert result["fetchedEnabled"] == {**summary, "disabled": False}
    assert result["keyLoginUserId"] == user_id
    assert result["keyLoginSameObject"] is True
    deleting_own = result["deleteFromKeySession"]
    assert deleting_own["ok"] is False and deleting_own["statusCode"] == 403, deleting_own
    assert deleting_own["errorCode"] == "BadRequest", deleting_own
    assert result["reloginUserId"] == user_id
    assert result["deleteResult"] == {"ok": True, "value": None}
    assert result["listAfterDelete"] == []
    fetch_deleted = result["fetchDeleted"]
    assert fetch_deleted["ok"] is False and fetch_deleted["errorCode"] == "APIKeyNotFound"
    assert result["loginDeletedKey"]["ok"] is False


def test_custom_function_login_maps_to_same_user(template_server: Any) -> None:
    payload = TEMPLATE_FUNCTION_PAYLOAD
    require_provider(template_server, "custom-function", dict(payload))
    bad = {**payload, "secret": "not-the-secret"}
    result = run_driver(template_server, "custom_function", payload=payload, badPayload=bad)
    first = result["first"]
    assert HEX24.match(first["id"])
    assert first["providerType"] == "custom-function"
    assert [i["providerType"] for i in first["identities"]] == ["custom-function"]
    assert result["secondId"] == first["id"]
    assert result["sameObject"] is True
    assert result["badPayload"]["ok"] is False
    assert 400 <= result["badPayload"]["statusCode"] < 500


def _jwt(secret: str, app_id: str, **claims: Any) -> str:
    import jwt  # PyJWT, a server dependency

    body = {"sub": "interop-jwt-user", "aud": app_id, "exp": 4070908800, "iat": int(time.time())}
    body.update(claims)
    return jwt.encode(body, secret, algorithm="HS256")


def test_custom_jwt_login_profile(template_server: Any) -> None:
    secret = TEMPLATE_JWT_SECRET
    app_id = template_server.app_id
    token = _jwt(secret, app_id, mySecretField="s3cret-value")
    require_provider(template_server, "custom-token", {"token": token})
    bad = {
        "signature": _jwt("another-key-that-is-long-enough-for-hs256!", app_id, mySecretField="x"),
        "expired": _jwt(secret, app_id, mySecretField="x", exp=1516239022, iat=1516239000),
        "missingField": _jwt(secret, app_id),
    }
    result = run_driver(template_server, "custom_jwt", token=token, repeat=True, badTokens=bad)
    user = result["user"]
    assert user["providerType"] == "custom-token"
    assert [i["providerType"] for i in user["identities"]] == ["custom-token"]
    assert result["profileKeys"] == ["secret"]
    assert user["profile"] == {"secret": "s3cret-value"}
    assert result["secondId"] == user["id"]
    for label in bad:
        got = result[f"bad_{label}"]
        assert got["ok"] is False, f"{label}: {got}"
        assert 400 <= got["statusCode"] < 500, f"{label}: {got}"


# --------------------------------------------------------------------------------------------
# Functions and custom user data


def test_function_call_translate(live_server: Any) -> None:
    require_function(live_server, "translate", ["hello", "en_fr"])
    result = run_driver(live_server, "function_call", name="translate", args=["hello", "en_fr"])
    assert result["value"] == "bonjour"
    assert result["jsType"] == "string"
    back = run_driver(live_server, "function_call", name="translate", args=["bonjour", "fr_en"])
    assert back["value"] == "hello"
    failing = run_driver_raw(
        live_server, "function_call", name="translate", args=["hello", "xx_yy"]
    )
    assert failing["ok"] is False
    assert failing["errorCode"] == "FunctionExecutionError", failing


def test_function_call_unknown_function(live_server: Any) -> None:
    payload = run_driver_raw(live_server, "function_call", name="noSuchFunction", args=[])
    assert payload["ok"] is False
    assert payload["errorCode"] == "FunctionNotFound", payload
    assert "function not found" in payload["error"]


def test_refresh_custom_data_anonymous(live_server: Any) -> None:
    result = run_driver(live_server, "refresh_custom_data", credentials={"type": "anonymous"})
    assert result["before"] == {}
    assert result["refreshed"] == {}
    assert result["after"] == {}
    flow = _flow(result["requests"])
    assert flow[-1][:2] == ("POST", "/auth/session") and _is_success(flow[-1][2])


def test_refresh_custom_data_after_function_writes_it(live_server: Any) -> None:
    require_function(live_server, "set_favorite_color", ["probe"])
    result = run_driver(
        live_server,
        "refresh_custom_data",
        credentials={"type": "anonymous"},
        setup={"name": "set_favorite_color", "args": ["green"]},
    )
    assert result["before"] == {}
    assert result["setupValue"]["favorite_color"] == "green"
    # The old access token keeps its stale copy; only a refreshed token carries the new data.
    assert result["beforeRefresh"] == {}
    assert result["refreshed"]["favorite_color"] == "green"
    assert result["after"] == result["refreshed"]
    assert result["tokenChanged"] is True


def test_refresh_custom_data_email_password(live_server: Any) -> None:
    email = f"custom-data-{time.time_ns()}@example.com"
    credentials = {
        "type": "emailPassword",
        "email": email,
        "password": "custom-data-pw",
        "register": True,
    }
    result = run_driver(live_server, "refresh_custom_data", credentials=credentials)
    assert isinstance(result["refreshed"], dict)
    assert result["refreshed"] == result["after"]


# --------------------------------------------------------------------------------------------
# Email confirmation and password reset through the links the mailer sent


def _link_params(live: Any, kind: str) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    mails = [m for m in live.outbox() if f"/{kind}.html" in m["body"]]
    assert mails, f"no {kind} mail in the outbox"
    url = next(word for word in mails[-1]["body"].split() if word.startswith("http"))
    query = parse_qs(urlsplit(url).query)
    return {"token": query["token"][0], "tokenId": query["tokenId"][0]}


def test_email_confirmation_and_reset_links(server_factory: Any) -> None:
    live = server_factory({"providers": {"local-userpass": {"confirmation": "email"}}})
    email, password = "confirm-me@example.com", "first-password"
    pending = run_driver(live, "register_only", email=email, password=password)["pendingLogin"]
    assert pending["ok"] is False and pending["statusCode"] == 401
    confirmed = run_driver(live, "confirm_and_log_in", email=email, password=password,
                           **_link_params(live, "confirm"))
    assert confirmed["email"] == email
    assert confirmed["confirmAgain"]["ok"] is False
    assert confirmed["confirmAgain"]["error"] == "token already used"
    run_driver(live, "send_reset", email=email)
    reset = run_driver(live, "reset_and_log_in", email=email, password="second-password",
                       **_link_params(live, "reset"))
    assert reset["userId"] == confirmed["userId"]


# --------------------------------------------------------------------------------------------
# BSON types through functions and custom data (issue 16, item 15)


def test_bson_types_round_trip_with_realm_web(server_factory: Any) -> None:
    functions = REPO_ROOT / "tests" / "server" / "functions_for_calls.py"
    live = server_factory({"functions": str(functions)})
    result = run_driver(live, "bson_round_trip")
    # What realm-web put on the wire comes back unchanged: small Longs stay $numberLong, UUIDs
    # and user subtypes keep their subtype, integral doubles stay $numberDouble.
    assert result["echoed"] == result["sent"]
    assert result["sent"][0] == {"$numberLong": "5"}
    assert result["sent"][3]["$binary"]["subType"] == "04"
    assert result["sent"][8] == {"$numberDouble": "2.0"}
    # realm-web decodes them into the types it sent (a UUID arrives as a subtype 4 Binary).
    sent_types = ["Binary" if t == "UUID" else t for t in result["sentTypes"]]
    assert result["echoedTypes"] == sent_types
    assert result["echoedSubtypes"][3:7] == [4, 4, 0, 128]
    # Custom user data keeps them too, read back by a function...
    read = {k: v for k, v in result["customRead"].items() if k.startswith("v")}
    assert read == result["customSent"]
    # ... and in the access token's relaxed form, as App Services writes it.
    assert result["customData"]["v3"] == {"$binary": {"base64": "OyQRAeK7QlWMr0E2xWapYg==",
                                                      "subType": "04"}}
    assert result["customData"]["v7"] == {"$numberDecimal": "1.10"}


# --------------------------------------------------------------------------------------------
# Second factors (issue 14): what a realm-web app sees for a user who has one


def test_realm_web_sees_a_second_factor_as_a_failed_login(live_server: Any) -> None:
    import pyotp

    from app.sdk import routes

    base = f"{live_server.base_url}{routes.API_PREFIX}/app/{live_server.app_id}"
    email, password = "two-step@example.com", "s3cret-pass"
    assert _http("POST", f"{base}/auth/providers/local-userpass/register",
                 {"email": email, "password": password})[0] == 201
    status, session = _http("POST", f"{base}/auth/providers/local-userpass/login",
                            {"username": email, "password": password})
    assert status == 200, session
    token = session["access_token"]
    base_url = live_server.base_url
    status, shown = _http("POST", base_url + routes.mfa(live_server.app_id, routes.MFA_TOTP),
                          {}, token)
    assert status == 200, shown
    code = pyotp.TOTP(shown["secret"]).now()
    assert _http("POST", base_url + routes.mfa(live_server.app_id, routes.MFA_TOTP_CONFIRM),
                 {"code": code}, token)[0] == 200
    payload = run_driver_raw(live_server, "function_call", name="translate",
                             args=["hello", "en_fr"],
                             credentials={"type": "emailPassword", "email": email,
                                          "password": password})
    # A MongoDBRealmError: no tokens, no user, no crash, and no refresh-and-retry loop.
    assert payload["ok"] is False
    assert (payload["step"], payload["statusCode"], payload["errorCode"]) == (
        "login", 401, "SecondFactorRequired"), payload
    assert payload["error"].endswith(": second factor required (status 401 Unauthorized)")
