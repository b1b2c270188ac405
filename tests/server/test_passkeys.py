"""Passkeys over the client API (issue 14), with the software authenticator of
``tests/soft_authenticator.py``: every ceremony, and every refusal the server must make.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.sdk import routes
from tests.soft_authenticator import SoftAuthenticator

from .helpers import Api, assert_error, auth

ORIGIN = "http://localhost:8000"
PASSKEY = {"enabled": True, "rp_id": "localhost", "rp_name": "Latchkey test",
           "origins": [ORIGIN], "user_verification": "required"}


@pytest.fixture
def api(make_api: Any) -> Api:
    return make_api({"providers": {"passkey": PASSKEY}})


def path(api: Api, action: str) -> str:
    return routes.passkey(api.app_id, action)


def options(api: Api, action: str, token: str | None = None, **body: Any) -> dict[str, Any]:
    resp = api.http.post(path(api, action), json=body, headers=auth(token))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def register(api: Api, device: SoftAuthenticator, token: str | None = None,
             name: str | None = None) -> Any:
    ceremony = options(api, routes.PASSKEY_REGISTER_OPTIONS, token, user_name="ada")
    body: dict[str, Any] = {"challenge_id": ceremony["challenge_id"],
                            "credential": device.make(ceremony["options"])}
    if name is not None:
        body["name"] = name
    return api.http.post(path(api, routes.PASSKEY_REGISTER), json=body, headers=auth(token))


def log_in(api: Api, device: SoftAuthenticator) -> Any:
    ceremony = options(api, routes.PASSKEY_LOGIN_OPTIONS)
    return api.login(routes.PASSKEY, {"challenge_id": ceremony["challenge_id"],
                                      "credential": device.sign(ceremony["options"]),
                                      "options": {"device": {}}})


def test_a_new_account_with_only_a_passkey_logs_in_again(api: Api) -> None:
    device = SoftAuthenticator(ORIGIN)
    resp = register(api, device, name="My laptop")
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == {"access_token", "refresh_token", "user_id", "device_id", "passkey"}
    assert created["passkey"]["name"] == "My laptop" and created["passkey"]["backed_up"]
    profile = api.profile(created["access_token"]).json()
    assert [i["provider_type"] for i in profile["identities"]] == ["passkey"]
    assert profile["identities"][0]["id"] == created["passkey"]["id"]
    assert profile["data"] == {}  # No key material or passkey name in the profile.
    again = log_in(api, device)
    assert again.status_code == 200, again.text
    assert set(again.json()) == {"access_token", "refresh_token", "user_id", "device_id"}
    assert again.json()["user_id"] == created["user_id"]
    listed = api.http.get(path(api, routes.PASSKEY_CREDENTIALS),
                          headers=auth(again.json()["access_token"])).json()
    assert [p["id"] for p in listed] == [created["passkey"]["id"]]
    assert listed[0]["last_used_at"] >= listed[0]["created_at"]
    providers = api.http.get(routes.providers(api.app_id)).json()
    assert {"name": "passkey", "type": "passkey"} in providers


def test_refusals_origin_rp_id_user_verification_and_unknown_passkeys(api: Api) -> None:
    for knob, reason in (({"origin_override": "http://evil.test"}, "origin"),
                         ({"rp_id_override": "evil.test"}, "RP ID"),
                         ({"user_verifying": False}, "verif")):
        resp = register(api, SoftAuthenticator(ORIGIN, **knob))
        assert_error(resp, 401, "PasskeyInvalid")
        assert reason.lower() in resp.json()["error"].lower(), resp.json()
    device = SoftAuthenticator(ORIGIN)
    assert register(api, device).status_code == 201
    for knob in ("origin_override", "rp_id_override"):
        setattr(device, knob, "http://evil.test" if knob == "origin_override" else "evil.test")
        if knob == "rp_id_override":
            device.credentials[0].rp_id = "evil.test"
        assert_error(log_in(api, device), 401, "PasskeyInvalid")
        setattr(device, knob, None)
        device.credentials[0].rp_id = "localhost"
    device.user_verifying = False
    assert_error(log_in(api, device), 401, "PasskeyInvalid")
    device.user_verifying = True
    stranger = SoftAuthenticator(ORIGIN)
    stranger.make({"rp": {"id": "localhost"}, "user": {"id": "eA", "name": "x"},
                   "challenge": "AA"})
    resp = log_in(api, stranger)
    assert_error(resp, 401, "PasskeyInvalid", "passkey refused: this passkey is not registered "
                 "here")
    assert log_in(api, device).status_code == 200


def test_a_challenge_is_used_once(api: Api) -> None:
    device = SoftAuthenticator(ORIGIN)
    assert register(api, device).status_code == 201
    ceremony = options(api, routes.PASSKEY_LOGIN_OPTIONS)
    body = {"challenge_id": ceremony["challenge_id"],
            "credential": device.sign(ceremony["options"])}
    assert api.login(routes.PASSKEY, body).status_code == 200
    replay = api.login(routes.PASSKEY, body)
    assert_error(replay, 401, "PasskeyInvalid",
                 "passkey refused: the challenge is unknown, used or expired")
    # A registration challenge does not log in, and a login challenge does not register.
    reg = options(api, routes.PASSKEY_REGISTER_OPTIONS)
    wrong = {"challenge_id": reg["challenge_id"], "credential": device.sign(
        {"rpId": "localhost", "challenge": reg["options"]["challenge"]})}
    assert_error(api.login(routes.PASSKEY, wrong), 401, "PasskeyInvalid")


def test_an_expired_challenge_is_refused(make_api: Any) -> None:
    api = make_api({"providers": {"passkey": {**PASSKEY, "challenge_seconds": 0.3}}})
    device = SoftAuthenticator(ORIGIN)
    ceremony = options(api, routes.PASSKEY_REGISTER_OPTIONS)
    credential = device.make(ceremony["options"])
    time.sleep(0.4)
    resp = api.http.post(path(api, routes.PASSKEY_REGISTER),
                         json={"challenge_id": ceremony["challenge_id"], "credential": credential})
    assert_error(resp, 401, "PasskeyInvalid",
                 "passkey refused: the challenge is unknown, used or expired")


def test_a_cloned_authenticator_is_caught_by_its_counter(api: Api) -> None:
    device = SoftAuthenticator(ORIGIN)
    assert register(api, device).status_code == 201
    clone = device.clone()
    assert log_in(api, device).status_code == 200  # Counter 1.
    assert log_in(api, device).status_code == 200  # Counter 2.
    resp = log_in(api, clone)  # Counter 1 again: behind the server's 2.
    assert_error(resp, 401, "PasskeyInvalid")
    assert "sign count" in resp.json()["error"]
    # An authenticator without a counter (always 0) is fine.
    flat = SoftAuthenticator(ORIGIN, counter_step=0)
    assert register(api, flat).status_code == 201
    assert log_in(api, flat).status_code == 200 and log_in(api, flat).status_code == 200


def test_linking_listing_renaming_and_deleting(api: Api) -> None:
    member = api.user("ada@example.com")
    token = member["access_token"]
    device = SoftAuthenticator(ORIGIN)
    resp = register(api, device, token, name="Phone")
    assert resp.status_code == 201, resp.text
    assert set(resp.json()) == {"user_id", "passkey"}
    assert resp.json()["user_id"] == member["user_id"]
    # The same authenticator cannot register twice for the user (excludeCredentials).
    with pytest.raises(PermissionError):
        register(api, device, token)
    profile = api.profile(token).json()
    assert [i["provider_type"] for i in profile["identities"]] == ["local-userpass", "passkey"]
    assert profile["data"] == {"email": "ada@example.com"}
    assert log_in(api, device).json()["user_id"] == member["user_id"]
    cred_id = resp.json()["passkey"]["id"]
    one = routes.passkey_credential(api.app_id, cred_id)
    renamed = api.http.patch(one, json={"name": "Work phone"}, headers=auth(token))
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work phone"
    assert_error(api.http.patch(one, json={"name": ""}, headers=auth(token)), 400,
                 "InvalidParameter")
    other = api.user("bob@example.com")["access_token"]
    assert_error(api.http.patch(one, json={"name": "Mine"}, headers=auth(other)), 404,
                 "PasskeyNotFound")
    assert_error(api.http.delete(one, headers=auth(other)), 404, "PasskeyNotFound")
    assert api.http.delete(one, headers=auth(token)).status_code == 204
    assert api.http.get(path(api, routes.PASSKEY_CREDENTIALS), headers=auth(token)).json() == []
    assert_error(log_in(api, device), 401, "PasskeyInvalid")
    # A passkey-only account keeps its last way in.
    solo = register(api, SoftAuthenticator(ORIGIN)).json()
    last = routes.passkey_credential(api.app_id, solo["passkey"]["id"])
    assert_error(api.http.delete(last, headers=auth(solo["access_token"])), 409, "LastIdentity")


def test_a_registration_is_bound_to_whom_it_was_started_for(api: Api) -> None:
    ada = api.user("ada@example.com")["access_token"]
    ceremony = options(api, routes.PASSKEY_REGISTER_OPTIONS, ada)
    body = {"challenge_id": ceremony["challenge_id"],
            "credential": SoftAuthenticator(ORIGIN).make(ceremony["options"])}
    resp = api.http.post(path(api, routes.PASSKEY_REGISTER), json=body)  # Anonymously.
    assert_error(resp, 401, "PasskeyInvalid",
                 "passkey refused: the challenge was made for another user")
    assert_error(api.http.post(path(api, routes.PASSKEY_REGISTER), json={"challenge_id": "x",
                                                                        "credential": {}}),
                 400, "InvalidParameter")


def test_off_unless_enabled(make_api: Any) -> None:
    api = make_api({"providers": {"passkey": {"enabled": False}}})
    resp = api.http.post(path(api, routes.PASSKEY_LOGIN_OPTIONS))
    assert_error(resp, 404, "AuthProviderNotFound")
    assert_error(api.login(routes.PASSKEY, {}), 404, "AuthProviderNotFound")


def test_a_passkey_name_with_a_nul_character_is_refused_on_both_stores(api: Api) -> None:
    # Found in review: SQLite stored "Lap\x00top"; PostgreSQL answered 500.
    resp = register(api, SoftAuthenticator(ORIGIN), name="Lap\x00top")
    assert_error(resp, 400, "InvalidParameter")
    created = register(api, SoftAuthenticator(ORIGIN), name="Laptop").json()
    one = routes.passkey_credential(api.app_id, created["passkey"]["id"])
    renamed = api.http.patch(one, json={"name": "Old\x00laptop"},
                             headers=auth(created["access_token"]))
    assert_error(renamed, 400, "InvalidParameter")
