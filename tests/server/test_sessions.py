"""Profile, refresh, logout and user deletion (protocol 4-6; scenarios 9-15, 32)."""

from __future__ import annotations

import time

import pytest

from .helpers import Api, assert_empty, assert_error, claims, hs256

MISSING = "MissingAuthReq"
INVALID = "InvalidSession"


def test_anonymous_profile(api: Api) -> None:
    tokens = api.anon_ok()
    resp = api.profile(tokens["access_token"])
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["type"] == "normal"
    assert body["user_id"] == tokens["user_id"]
    assert isinstance(body["domain_id"], str)
    assert body["data"] == {}
    [identity] = body["identities"]
    assert identity["provider_type"] == "anon-user"
    head, _, letters = identity["id"].partition("-")
    assert len(head) == 24 and len(letters) == 24 and letters.isalpha() and letters.islower()


def test_email_password_profile(api: Api) -> None:
    tokens = api.user("prof@example.com")
    body = api.profile(tokens["access_token"]).json()
    assert body["type"] == "normal"
    assert body["data"]["email"] == "prof@example.com"
    [identity] = body["identities"]
    assert identity["provider_type"] == "local-userpass"
    assert isinstance(identity["id"], str) and isinstance(identity["provider_id"], str)


@pytest.mark.parametrize("header, code", [
    (None, MISSING),
    ("", MISSING),
    ("Bearer", MISSING),
    ("Bearer ", MISSING),
    ("Basic dXNlcjpwYXNz", MISSING),
    ("Bearer null", INVALID),
    ("Bearer undefined", INVALID),
    ("Bearer garbage", INVALID),
    ("Bearer a.b.c", INVALID),
])
def test_profile_refuses_bad_authorization(api: Api, header: str | None, code: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert_error(api.http.get("/api/client/v2.0/auth/profile", headers=headers), 401, code)


def test_profile_refuses_the_refresh_token(api: Api) -> None:
    tokens = api.anon_ok()
    body = assert_error(api.profile(tokens["refresh_token"]), 401, INVALID)
    assert "incorrect token type" in body["error"]


def test_refresh_gives_a_fresh_access_token_and_keeps_the_refresh_token(api: Api) -> None:
    tokens = api.anon_ok()
    before = claims(tokens["access_token"])
    resp = api.refresh(tokens["refresh_token"])
    assert resp.status_code == 201
    assert resp.headers["content-type"] == "application/json"
    assert set(resp.json()) == {"access_token"}
    fresh = resp.json()["access_token"]
    after = claims(fresh)
    assert after["iat"] >= before["iat"] and after["exp"] >= before["exp"]
    assert after["exp"] - after["iat"] == 30 * 60
    assert after["sub"] == tokens["user_id"]
    assert after["baas_device_id"] == tokens["device_id"]
    assert api.profile(fresh).status_code == 200
    # Not rotated: the same refresh token keeps working.
    assert api.refresh(tokens["refresh_token"]).status_code == 201


def test_refresh_refuses_access_tokens_and_garbage(api: Api) -> None:
    tokens = api.anon_ok()
    assert_error(api.refresh(tokens["access_token"]), 401, INVALID,
                 contains="incorrect token type")
    assert_error(api.refresh("garbage"), 401, INVALID)
    assert_error(api.refresh("null"), 401, INVALID)
    assert_error(api.refresh(None), 401, MISSING)


def test_a_refresh_token_signed_with_another_key_is_refused(api: Api) -> None:
    tokens = api.anon_ok()
    forged = hs256(claims(tokens["refresh_token"]), "another key")
    assert_error(api.refresh(forged), 401, INVALID)
    # A token whose signature checks but that no session holds (e.g. a copy with a new jti).
    services = api.services
    twin = services.signer.refresh_token(tokens["user_id"], claims(tokens["refresh_token"])
                                         ["baas_id"], tokens["device_id"], 3600)
    assert_error(api.refresh(twin), 401, INVALID, contains="failed to find refresh token")


def test_foreign_and_expired_access_tokens_are_invalid_sessions(api: Api) -> None:
    tokens = api.anon_ok()
    # The realm-web integration test's foreign token: HS256, another key, exp in 2017.
    foreign = hs256({"sub": "1234567890", "name": "John Doe", "iat": 1516239022,
                     "exp": 1516239022 + 60}, "secret")
    assert_error(api.profile(foreign), 401, INVALID)
    # Our own key, but expired.
    expired = api.services.signer.access_token(tokens["user_id"], "s", tokens["device_id"], {},
                                               -10)
    assert_error(api.profile(expired), 401, INVALID, contains="expired")
    # After a refresh the same request succeeds (the client's retry path).
    fresh = api.refresh(tokens["refresh_token"]).json()["access_token"]
    assert api.profile(fresh).status_code == 200


def test_token_lifetimes_come_from_the_config(make_api) -> None:
    short_access = make_api({"tokens": {"access_token_minutes": 1 / 60}})
    short_refresh = make_api({"tokens": {"refresh_token_days": 1 / 86400}})
    a, r = short_access.anon_ok(), short_refresh.anon_ok()
    assert claims(a["access_token"])["exp"] - claims(a["access_token"])["iat"] == 1
    assert claims(r["refresh_token"])["exp"] - claims(r["refresh_token"])["iat"] == 1
    time.sleep(1.1)
    assert_error(short_access.profile(a["access_token"]), 401, INVALID, contains="expired")
    fresh = short_access.refresh(a["refresh_token"]).json()["access_token"]
    assert short_access.profile(fresh).status_code == 200

    assert_error(short_refresh.refresh(r["refresh_token"]), 401, INVALID, contains="expired")
    # Logging out with it still ends the session, so realm-web's logOut succeeds after a long
    # absence; afterwards the token is unknown, in the text realm-web swallows.
    assert_empty(short_refresh.log_out(r["refresh_token"]))
    assert_error(short_refresh.log_out(r["refresh_token"]), 401, INVALID,
                 contains="failed to find refresh token")


def test_logout_revokes_the_session_only(api: Api) -> None:
    first = api.user("out@example.com")
    second = api.log_in_ok("out@example.com")
    assert_empty(api.log_out(first["refresh_token"]), 204)
    assert_error(api.refresh(first["refresh_token"]), 401, INVALID)
    # Its access tokens die with it (issue 16 item 3), though their exp is minutes away.
    assert_error(api.profile(first["access_token"]), 401, INVALID, contains="session ended")
    assert api.profile(second["access_token"]).status_code == 200
    # The user's other session is untouched.
    assert api.refresh(second["refresh_token"]).status_code == 201


def test_logout_of_an_unknown_session_says_failed_to_find_refresh_token(api: Api) -> None:
    tokens = api.anon_ok()
    assert_empty(api.log_out(tokens["refresh_token"]))
    assert_error(api.log_out(tokens["refresh_token"]), 401, INVALID,
                 contains="failed to find refresh token")
    assert_error(api.log_out(tokens["access_token"]), 401, INVALID)
    assert_error(api.log_out(None), 401, MISSING)


def test_delete_user(api: Api) -> None:
    tokens = api.user("gone@example.com")
    other = api.log_in_ok("gone@example.com")
    assert_empty(api.delete_user(tokens["access_token"]), 204)
    for refresh in (tokens["refresh_token"], other["refresh_token"]):
        assert_error(api.refresh(refresh), 401, INVALID)
        assert_error(api.log_out(refresh), 401, INVALID, contains="failed to find refresh token")
    assert_error(api.profile(tokens["access_token"]), 401, INVALID)
    assert_error(api.delete_user(tokens["access_token"]), 401, INVALID)
    assert_error(api.log_in("gone@example.com"), 401, "InvalidPassword", "unauthorized")
    # The email is free again, for a brand-new user.
    again = api.user("gone@example.com")
    assert again["user_id"] != tokens["user_id"]


def test_delete_user_needs_the_access_token(api: Api) -> None:
    tokens = api.anon_ok()
    assert_error(api.delete_user(tokens["refresh_token"]), 401, INVALID)
    assert_error(api.delete_user(None), 401, MISSING)
    assert api.profile(tokens["access_token"]).status_code == 200


def test_deleting_an_anonymous_user(api: Api) -> None:
    tokens = api.anon_ok()
    assert_empty(api.delete_user(tokens["access_token"]))
    assert_error(api.refresh(tokens["refresh_token"]), 401, INVALID)
