"""TOTP second factors and recovery codes over the client API (issue 14): enrolment, the login
challenge and its second step, replayed and wrong codes, rate limits, passkeys as the second
step, apps that require a factor, and the administrators' reset.

Codes are computed here with ``pyotp`` from the secret the enrolment shows. The server accepts
one step of clock drift either way (``totp_window = 1``), so a test uses the steps before, at
and after now; it starts right after a step begins, so no step boundary falls inside it.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from app.sdk import routes
from tests.soft_authenticator import SoftAuthenticator

from .helpers import Api, assert_error, auth

ORIGIN = "http://localhost:8000"
MFA = {"enabled": True}
PASSKEY = {"enabled": True, "rp_id": "localhost", "origins": [ORIGIN]}


@pytest.fixture(autouse=True)
def _fresh_step() -> None:
    # Leave at least 6 seconds before the next 30-second step begins.
    left = 30 - time.time() % 30
    if left < 6:
        time.sleep(left + 0.05)


@pytest.fixture
def api(make_api: Any) -> Api:
    return make_api({"mfa": MFA, "providers": {"passkey": PASSKEY}})


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset)


def post(api: Api, action: str, body: dict[str, Any], token: str | None = None) -> Any:
    return api.http.post(routes.mfa(api.app_id, action), json=body, headers=auth(token))


def enrol(api: Api, token: str) -> tuple[str, list[str]]:
    """Enrol and confirm with the code of the step before now; the secret and the codes."""
    shown = post(api, routes.MFA_TOTP, {}, token)
    assert shown.status_code == 200, shown.text
    secret = shown.json()["secret"]
    confirmed = post(api, routes.MFA_TOTP_CONFIRM, {"code": code(secret, -1)}, token)
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def challenge(api: Api, email: str = "ada@example.com") -> dict[str, Any]:
    resp = api.log_in(email)
    assert_error(resp, 401, "SecondFactorRequired", "second factor required")
    return dict(resp.json())


def test_enrol_then_every_password_login_asks_for_a_code(api: Api) -> None:
    token = api.user("ada@example.com")["access_token"]
    status = api.http.get(routes.mfa(api.app_id), headers=auth(token)).json()
    assert status == {"totp": False, "recovery_codes_left": 0, "passkeys": 0, "required": False}
    shown = post(api, routes.MFA_TOTP, {}, token).json()
    assert set(shown) == {"secret", "otpauth_uri", "qr_svg"}
    assert shown["otpauth_uri"].startswith("otpauth://totp/Latchkey%20demo:ada%40example.com?")
    assert shown["qr_svg"].startswith("<svg") and "</svg>" in shown["qr_svg"]
    assert api.log_in("ada@example.com").status_code == 200  # Not active before confirmation.
    assert_error(post(api, routes.MFA_TOTP_CONFIRM, {"code": "000000"}, token), 401,
                 "SecondFactorInvalid")
    confirmed = post(api, routes.MFA_TOTP_CONFIRM, {"code": code(shown["secret"], -1)}, token)
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_error(post(api, routes.MFA_TOTP, {}, token), 409, "SecondFactorExists")

    pending = challenge(api)
    assert set(pending) == {"error", "error_code", "link", "mfa_token", "factors", "expires_in"}
    assert pending["factors"] == ["totp", "recovery_code"] and pending["expires_in"] == 300
    wrong = post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"], "code": "123456"})
    assert_error(wrong, 401, "SecondFactorInvalid", "the code is wrong or was used already")
    # The code of the confirmation's step is used already.
    used = post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"],
                                         "code": code(shown["secret"], -1)})
    assert_error(used, 401, "SecondFactorInvalid")
    current = code(shown["secret"])
    ok = post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"], "code": current})
    assert ok.status_code == 200, ok.text
    assert set(ok.json()) == {"access_token", "refresh_token", "user_id", "device_id"}
    assert api.profile(ok.json()["access_token"]).status_code == 200
    # The login is finished: its token is gone.
    again = post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"],
                                          "code": code(shown["secret"], 1)})
    assert_error(again, 401, "SecondFactorInvalid",
                 "the login expired or was finished already; log in again")
    # A replayed code (same time step) on a new login is refused; the next step's passes.
    second = challenge(api)["mfa_token"]
    replay = post(api, routes.MFA_VERIFY, {"mfa_token": second, "code": current})
    assert_error(replay, 401, "SecondFactorInvalid")
    assert post(api, routes.MFA_VERIFY, {"mfa_token": second,
                                         "code": code(shown["secret"], 1)}).status_code == 200
    # Recovery codes work once each, in any spelling.
    third = challenge(api)["mfa_token"]
    spelt = codes[0].lower().replace("-", " ")
    assert post(api, routes.MFA_VERIFY, {"mfa_token": third,
                                         "recovery_code": spelt}).status_code == 200
    fourth = challenge(api)["mfa_token"]
    assert_error(post(api, routes.MFA_VERIFY, {"mfa_token": fourth, "recovery_code": codes[0]}),
                 401, "SecondFactorInvalid")
    left = api.http.get(routes.mfa(api.app_id), headers=auth(token)).json()
    assert left["totp"] and left["recovery_codes_left"] == 9


def test_wrong_codes_are_rate_limited_like_passwords(make_api: Any) -> None:
    api = make_api({"mfa": MFA, "security": {"login_failures_per_account": 3}})
    token = api.user("ada@example.com")["access_token"]
    secret, _ = enrol(api, token)
    pending = challenge(api)["mfa_token"]
    statuses = [post(api, routes.MFA_VERIFY, {"mfa_token": pending, "code": "000000"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = post(api, routes.MFA_VERIFY, {"mfa_token": pending, "code": code(secret)})
    assert_error(blocked, 429, "TooManyRequests")


def test_a_passkey_answers_the_second_step(api: Api) -> None:
    token = api.user("ada@example.com")["access_token"]
    enrol(api, token)
    device = SoftAuthenticator(ORIGIN)
    ceremony = api.http.post(routes.passkey(api.app_id, routes.PASSKEY_REGISTER_OPTIONS),
                             json={}, headers=auth(token)).json()
    registered = api.http.post(routes.passkey(api.app_id, routes.PASSKEY_REGISTER),
                               json={"challenge_id": ceremony["challenge_id"],
                                     "credential": device.make(ceremony["options"])},
                               headers=auth(token))
    assert registered.status_code == 201
    pending = challenge(api)
    assert pending["factors"] == ["totp", "recovery_code", "passkey"]
    opts = post(api, routes.MFA_PASSKEY_OPTIONS, {"mfa_token": pending["mfa_token"]}).json()
    assert [c["id"] for c in opts["options"]["allowCredentials"]] == [
        registered.json()["passkey"]["id"]]
    answer = {"challenge_id": opts["challenge_id"], "credential": device.sign(opts["options"])}
    ok = post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"], "passkey": answer})
    assert ok.status_code == 200, ok.text
    # Another user's passkey cannot answer.
    stranger = SoftAuthenticator(ORIGIN)
    api.http.post(routes.passkey(api.app_id, routes.PASSKEY_REGISTER), json={})  # (400)
    solo_opts = api.http.post(routes.passkey(api.app_id, routes.PASSKEY_REGISTER_OPTIONS),
                              json={}).json()
    api.http.post(routes.passkey(api.app_id, routes.PASSKEY_REGISTER),
                  json={"challenge_id": solo_opts["challenge_id"],
                        "credential": stranger.make(solo_opts["options"])})
    pending = challenge(api)
    opts = post(api, routes.MFA_PASSKEY_OPTIONS, {"mfa_token": pending["mfa_token"]}).json()
    with pytest.raises(PermissionError):
        stranger.sign(opts["options"])  # Not among the allowed credentials.
    forged = {"challenge_id": opts["challenge_id"],
              "credential": stranger.sign({"rpId": "localhost",
                                              "challenge": opts["options"]["challenge"]})}
    assert_error(post(api, routes.MFA_VERIFY, {"mfa_token": pending["mfa_token"],
                                               "passkey": forged}), 401, "PasskeyInvalid")


def test_disable_needs_a_code_and_new_recovery_codes_replace_the_old(api: Api) -> None:
    token = api.user("ada@example.com")["access_token"]
    secret, codes = enrol(api, token)
    assert_error(post(api, routes.MFA_RECOVERY_CODES, {"code": "000000"}, token), 401,
                 "SecondFactorInvalid")
    fresh = post(api, routes.MFA_RECOVERY_CODES, {"code": code(secret)}, token)
    assert fresh.status_code == 200 and fresh.json()["recovery_codes"] != codes
    assert_error(post(api, routes.MFA_TOTP_DISABLE, {"recovery_code": codes[1]}, token), 401,
                 "SecondFactorInvalid")
    done = post(api, routes.MFA_TOTP_DISABLE,
                {"recovery_code": fresh.json()["recovery_codes"][0]}, token)
    assert done.status_code == 204, done.text
    assert api.log_in("ada@example.com").status_code == 200
    assert_error(post(api, routes.MFA_TOTP_DISABLE, {"code": code(secret)}, token), 404,
                 "SecondFactorNotFound")


def test_an_app_that_requires_a_factor_makes_users_enrol_at_login(make_api: Any) -> None:
    api = make_api({"mfa": {"enabled": True, "required": True}})
    assert api.register("ada@example.com").status_code == 201
    resp = api.log_in("ada@example.com")
    assert_error(resp, 401, "SecondFactorEnrolmentRequired", "set up a second factor to log in")
    token = resp.json()["mfa_token"]
    assert resp.json()["factors"] == []
    assert_error(post(api, routes.MFA_VERIFY, {"mfa_token": token, "code": "123456"}), 404,
                 "SecondFactorNotFound")
    shown = post(api, routes.MFA_TOTP, {"mfa_token": token}).json()
    done = post(api, routes.MFA_TOTP_CONFIRM, {"mfa_token": token,
                                               "code": code(shown["secret"])})
    assert done.status_code == 200, done.text
    assert set(done.json()) == {"recovery_codes", "access_token", "refresh_token", "user_id",
                                "device_id"}
    assert_error(api.log_in("ada@example.com"), 401, "SecondFactorRequired")
    # Anonymous logins are not password logins: no second factor.
    assert api.anon().status_code == 200


def test_off_unless_enabled(make_api: Any) -> None:
    off = make_api({"mfa": {"enabled": False}})
    token = off.user("ada@example.com")["access_token"]
    assert_error(post(off, routes.MFA_TOTP, {}, token), 404, "NotFound")


def test_the_admin_command_resets_a_users_factors(live_server: Any) -> None:
    import httpx

    from .test_admin import admin

    with httpx.Client(base_url=live_server.base_url) as http:
        api = Api(http)
        token = api.user("ann@example.com")["access_token"]
        enrol(api, token)
        user_id = challenge(api, "ann@example.com")["error"] and api.profile(token).json()[
            "user_id"]
        done = admin(live_server, "reset-factors", user_id)
        assert done.returncode == 0 and "removed" in done.stdout, done.stderr
        assert api.log_in("ann@example.com").status_code == 200
        again = admin(live_server, "reset-factors", user_id)
        assert again.returncode == 0 and "has no authenticator" in again.stdout


def test_a_token_that_is_no_mfa_token_is_refused_as_what_it_is(api: Api) -> None:
    # Found in review: a present but long token (an access token sent by mistake) or one of
    # the wrong type was "expected a string field", MissingParameter.
    access = api.login("anon-user", {}).json()["access_token"]
    assert_error(post(api, routes.MFA_VERIFY, {"mfa_token": access, "code": "123456"}),
                 401, "SecondFactorInvalid")
    assert_error(post(api, routes.MFA_VERIFY, {"mfa_token": 5, "code": "123456"}),
                 400, "InvalidParameter")
    assert_error(post(api, routes.MFA_VERIFY, {"code": "123456"}), 400, "MissingParameter")
