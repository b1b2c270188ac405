"""Login: anonymous and email/password, device ids, linking, disabled users (protocol 3, 8;
scenarios 6-8, 16, 19-20, 30-31)."""

from __future__ import annotations

import re
import time

from app.sdk import routes
from server.admin import users_command

from .helpers import PASSWORD, Api, assert_error, claims, userpass_overrides

HEX24 = re.compile(r"^[0-9a-f]{24}$")
ZERO = "0" * 24
REALM_WEB_DEVICE = {"platform": "chrome", "platformVersion": "1", "sdkVersion": "2.0.1"}


def test_anonymous_login_answers_the_four_fields(api: Api) -> None:
    resp = api.anon(REALM_WEB_DEVICE)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"access_token", "refresh_token", "user_id", "device_id"}
    assert all(isinstance(v, str) for v in body.values())
    assert HEX24.match(body["user_id"]) and HEX24.match(body["device_id"])
    assert body["device_id"] != ZERO


def test_every_anonymous_login_is_a_new_user(api: Api) -> None:
    ids = {api.anon_ok()["user_id"] for _ in range(3)}
    assert len(ids) == 3


def test_access_token_claims(api: Api) -> None:
    body = api.anon_ok()
    access = claims(body["access_token"])
    now = time.time()
    assert isinstance(access["exp"], int) and isinstance(access["iat"], int)
    assert abs(access["exp"] - (now + 30 * 60)) < 5
    assert access["sub"] == body["user_id"]
    assert access["baas_device_id"] == body["device_id"]
    assert access.get("user_data", {}) == {}
    # realm-core parses the refresh token as a JWT too.
    refresh = claims(body["refresh_token"])
    assert refresh["exp"] > now + 59 * 86400 and isinstance(refresh["iat"], int)


def test_a_non_zero_client_device_id_is_kept(api: Api) -> None:
    device = "65a0c0ffee0000000000abcd"
    for sent in ({"$oid": device}, device):
        body = api.anon({**REALM_WEB_DEVICE, "deviceId": sent}).json()
        assert body["device_id"] == device
        assert claims(body["access_token"])["baas_device_id"] == device


def test_zero_or_invalid_device_ids_get_a_new_one(api: Api) -> None:
    seen = set()
    for sent in ({"$oid": ZERO}, ZERO, "not-an-id", 5, None):
        body = api.anon({"deviceId": sent}).json()
        assert HEX24.match(body["device_id"]) and body["device_id"] != ZERO
        seen.add(body["device_id"])
    assert len(seen) == 5


def test_realm_core_extras_are_ignored(api: Api) -> None:
    body = {"provider": "anon-user", "options": {"device": {
        "appId": "latchkey-demo", "platform": "Linux", "sdk": "Realm Swift", "cpuArch": "x86_64",
        "coreVersion": "14.0.0", "bundleId": "org.example", "unknown": {"$numberInt": "1"}}}}
    assert api.login("anon-user", body).status_code == 200
    # No options at all is fine too.
    assert api.login("anon-user", {}).status_code == 200


def test_email_password_login(api: Api) -> None:
    body = api.user("ann@example.com")
    assert set(body) == {"access_token", "refresh_token", "user_id", "device_id"}
    again = api.log_in_ok("ann@example.com")
    assert again["user_id"] == body["user_id"]
    assert again["refresh_token"] != body["refresh_token"]


def test_emails_are_one_account_in_any_case(api: Api) -> None:
    tokens = api.user("Case@example.com")
    assert api.log_in_ok("case@EXAMPLE.com")["user_id"] == tokens["user_id"]
    assert_error(api.register("case@example.com"), 409, "AccountNameInUse")


def test_bad_credentials_are_all_the_same_unauthorized(api: Api) -> None:
    tokens = api.user("bob@example.com")
    assert_error(api.log_in("bob@example.com", "wrong password"), 401, "InvalidPassword",
                 "unauthorized")
    assert_error(api.log_in("nobody@example.com"), 401, "InvalidPassword", "unauthorized")
    assert api.delete_user(tokens["access_token"]).status_code == 204
    assert_error(api.log_in("bob@example.com"), 401, "InvalidPassword", "unauthorized")


def test_login_needs_username_and_password_strings(api: Api) -> None:
    assert_error(api.login("local-userpass", {"password": PASSWORD}), 400, "MissingParameter")
    assert_error(api.login("local-userpass", {"username": "a@example.com", "password": 123456}),
                 400, "InvalidParameter")


def test_a_pending_user_cannot_log_in(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="email"))
    assert api.register("pending@example.com").status_code == 201
    body = assert_error(api.log_in("pending@example.com"), 401, "AuthError")
    assert "confirm" in body["error"]
    # The wrong password for a pending user gives the ordinary answer (nothing leaks).
    assert_error(api.log_in("pending@example.com", "wrong password"), 401, "InvalidPassword",
                 "unauthorized")


def test_unknown_and_disabled_providers(api: Api) -> None:
    assert_error(api.login("no-such-provider", {}), 404, "AuthProviderNotFound")
    assert_error(api.login(routes.OAUTH2_GOOGLE, {"authCode": "x"}), 404, "AuthProviderNotFound")


def test_email_password_provider_can_be_disabled(make_api) -> None:
    api = make_api(userpass_overrides(enabled=False))
    assert_error(api.log_in("a@example.com"), 404, "AuthProviderNotFound")
    assert_error(api.register("a@example.com"), 404, "AuthProviderNotFound")
    assert_error(api.action("reset/send", {"email": "a@example.com"}), 404,
                 "AuthProviderNotFound")


# Linking (?link=true).

def test_link_anonymous_user_to_email_password(api: Api) -> None:
    anon = api.anon_ok()
    assert api.register("link@example.com").status_code == 201
    resp = api.log_in("link@example.com", link_token=anon["access_token"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user_id"] == anon["user_id"]
    assert isinstance(body["device_id"], str)
    assert claims(body["access_token"])["sub"] == anon["user_id"]
    profile = api.profile(body["access_token"]).json()
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user", "local-userpass"]
    assert profile["data"]["email"] == "link@example.com"
    # The old refresh token still works, and logging in by email now finds the same user.
    assert api.refresh(anon["refresh_token"]).status_code == 201
    assert api.log_in_ok("link@example.com")["user_id"] == anon["user_id"]


def test_link_refuses_an_identity_of_another_user(api: Api) -> None:
    api.user("taken@example.com")
    anon = api.anon_ok()
    assert_error(api.log_in("taken@example.com", link_token=anon["access_token"]), 409,
                 "IdentityAlreadyLinked")
    profile = api.profile(anon["access_token"]).json()
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user"]


def test_link_needs_a_valid_access_token(api: Api) -> None:
    anon = api.anon_ok()
    assert api.register("lonely@example.com").status_code == 201
    path = routes.login(api.app_id, "local-userpass", link=True)
    body = {"username": "lonely@example.com", "password": PASSWORD}
    assert_error(api.http.post(path, json=body), 401, "MissingAuthReq")
    assert_error(api.log_in("lonely@example.com", link_token="garbage"), 401, "InvalidSession")
    assert_error(api.log_in("lonely@example.com", link_token=anon["refresh_token"]), 401,
                 "InvalidSession")
    # Nothing was linked by the failed attempts.
    assert api.log_in_ok("lonely@example.com")["user_id"] != anon["user_id"]


def test_link_with_wrong_credentials_is_refused(api: Api) -> None:
    anon = api.anon_ok()
    api.register("right@example.com")
    resp = api.log_in("right@example.com", "wrong password", link_token=anon["access_token"])
    assert resp.status_code == 401
    assert resp.json()["error_code"] != "InvalidSession"
    assert api.profile(anon["access_token"]).status_code == 200


def test_bad_link_credentials_do_not_send_realm_web_into_a_refresh_loop(api: Api) -> None:
    anon = api.anon_ok()
    api.register("loop@example.com")
    resp = api.log_in("loop@example.com", "wrong password", link_token=anon["access_token"])
    body = resp.json()
    assert resp.status_code >= 400
    # realm-web refreshes and retries, without limit, a 401 whose text is exactly
    # "unauthorized" (protocol 3.4, 6.3), so link failures must say more.
    assert body["error_code"] != "InvalidSession" and body["error"] != "unauthorized"
    assert "unauthorized" in body["error"]


# Disabled users.

def test_disabled_user_cannot_log_in_or_refresh(api: Api, capsys) -> None:
    tokens = api.user("dis@example.com")
    assert api.run(users_command, api.services, "disable", tokens["user_id"]) == 0
    assert_error(api.log_in("dis@example.com"), 401, "UserDisabled")
    # Disabling ended its sessions (issue 16 item 4), so enabling does not bring them back.
    assert_error(api.refresh(tokens["refresh_token"]), 401, "InvalidSession")
    assert_error(api.profile(tokens["access_token"]), 401, "InvalidSession")
    assert api.run(users_command, api.services, "enable", tokens["user_id"]) == 0
    assert_error(api.refresh(tokens["refresh_token"]), 401, "InvalidSession")
    assert api.log_in_ok("dis@example.com")["user_id"] == tokens["user_id"]
    out = capsys.readouterr().out
    assert "disabled" in out and "enabled" in out
