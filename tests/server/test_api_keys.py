"""User API keys (routes 15 to 20), the ``api-key`` provider and server keys, over loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

from .auth_helpers import BASE, LiveApi, assert_empty, assert_error, bearer, run_admin
from .helpers import dump_database

KEYS = f"{BASE}/auth/api_keys"


@pytest.fixture
def wire(live_server: LiveServer) -> Iterator[LiveApi]:
    client = LiveApi(live_server)
    yield client
    client.close()


@pytest.fixture
def member(wire: LiveApi) -> dict[str, Any]:
    """A logged-in email/password user (API keys need a non-anonymous identity)."""
    return wire.email_user("member@example.com")


def _create(wire: LiveApi, refresh_token: str, name: str) -> dict[str, Any]:
    resp = wire.http.post(KEYS, json={"name": name}, headers=bearer(refresh_token))
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def _key_login(wire: LiveApi, secret: str) -> httpx.Response:
    return wire.login_raw("api-key", {"key": secret})


def test_lifecycle_shapes(wire: LiveApi, member: dict[str, Any]) -> None:
    rt = member["refresh_token"]
    assert wire.http.get(KEYS, headers=bearer(rt)).json() == []
    created = _create(wire, rt, "ci")
    assert set(created) == {"_id", "key", "name", "disabled"}
    assert isinstance(created["_id"], str) and len(created["_id"]) == 24
    assert created["name"] == "ci" and created["disabled"] is False
    assert isinstance(created["key"], str) and len(created["key"]) == 64
    summary = {"_id": created["_id"], "name": "ci", "disabled": False}
    assert wire.http.get(KEYS, headers=bearer(rt)).json() == [summary]
    assert wire.http.get(f"{KEYS}/{created['_id']}", headers=bearer(rt)).json() == summary
    assert_empty(wire.http.put(f"{KEYS}/{created['_id']}/disable", headers=bearer(rt)))
    fetched = wire.http.get(f"{KEYS}/{created['_id']}", headers=bearer(rt)).json()
    assert fetched == {**summary, "disabled": True}
    assert_empty(wire.http.put(f"{KEYS}/{created['_id']}/disable", headers=bearer(rt)))
    assert_empty(wire.http.put(f"{KEYS}/{created['_id']}/enable", headers=bearer(rt)))
    assert wire.http.get(f"{KEYS}/{created['_id']}", headers=bearer(rt)).json() == summary
    assert_empty(wire.http.delete(f"{KEYS}/{created['_id']}", headers=bearer(rt)))
    assert wire.http.get(KEYS, headers=bearer(rt)).json() == []


def test_secret_is_stored_only_as_hash(wire: LiveApi, live_server: LiveServer, member: dict[str,
                                       Any]) -> None:
    created = _create(wire, member["refresh_token"], "hashed")
    dump = dump_database(live_server.settings.database_url)
    assert created["key"] not in dump
    assert hashlib.sha256(created["key"].encode()).hexdigest() in dump


def test_key_logs_in_as_its_maker(wire: LiveApi, member: dict[str, Any]) -> None:
    created = _create(wire, member["refresh_token"], "login")
    session = wire.login("api-key", {"key": created["key"]})
    assert session["user_id"] == member["user_id"]
    profile = wire.profile(session["access_token"])
    assert profile["user_id"] == member["user_id"] and profile["type"] == "normal"
    assert [i["provider_type"] for i in profile["identities"]] == ["local-userpass"]
    again = wire.login("api-key", {"key": created["key"]})
    assert again["user_id"] == member["user_id"]
    assert again["refresh_token"] != session["refresh_token"]


def test_disabled_key_cannot_log_in_until_enabled(wire: LiveApi, member: dict[str, Any]) -> None:
    rt = member["refresh_token"]
    created = _create(wire, rt, "toggle")
    wire.http.put(f"{KEYS}/{created['_id']}/disable", headers=bearer(rt))
    assert_error(_key_login(wire, created["key"]), 401, "AuthError", "API key is disabled")
    wire.http.put(f"{KEYS}/{created['_id']}/enable", headers=bearer(rt))
    assert _key_login(wire, created["key"]).json()["user_id"] == member["user_id"]


def test_deleting_the_key_behind_the_session_is_refused(wire: LiveApi, member: dict[str,
                                                        Any]) -> None:
    created = _create(wire, member["refresh_token"], "self")
    key_session = wire.login("api-key", {"key": created["key"]})
    resp = wire.http.delete(f"{KEYS}/{created['_id']}",
                            headers=bearer(key_session["refresh_token"]))
    assert_error(resp, 403, "BadRequest",
                 "cannot delete the API key used to authenticate this session")
    # The refused delete logs nobody out, and the key still works.
    wire.refresh(key_session["refresh_token"])
    assert _key_login(wire, created["key"]).status_code == 200
    assert_empty(wire.http.delete(f"{KEYS}/{created['_id']}",
                                 headers=bearer(member["refresh_token"])))


def test_deleted_key_is_gone_and_its_name_reusable(wire: LiveApi, member: dict[str, Any]) -> None:
    rt = member["refresh_token"]
    old = _create(wire, rt, "rotate")
    assert_empty(wire.http.delete(f"{KEYS}/{old['_id']}", headers=bearer(rt)))
    assert_error(_key_login(wire, old["key"]), 401, "AuthError", "invalid API key")
    for method, path in [("GET", ""), ("DELETE", ""), ("PUT", "/enable"), ("PUT", "/disable")]:
        resp = wire.http.request(method, f"{KEYS}/{old['_id']}{path}", headers=bearer(rt))
        assert_error(resp, 404, "APIKeyNotFound", "API key not found")
    new = _create(wire, rt, "rotate")
    assert new["_id"] != old["_id"] and new["key"] != old["key"]
    assert_error(_key_login(wire, old["key"]), 401, "AuthError")
    assert _key_login(wire, new["key"]).json()["user_id"] == member["user_id"]


def test_names_are_unique_per_user(wire: LiveApi, member: dict[str, Any]) -> None:
    other = wire.email_user("other@example.com")
    _create(wire, member["refresh_token"], "shared-name")
    resp = wire.http.post(KEYS, json={"name": "shared-name"},
                          headers=bearer(member["refresh_token"]))
    assert_error(resp, 409, "APIKeyAlreadyExists")
    _create(wire, other["refresh_token"], "shared-name")


@pytest.mark.parametrize("body, code", [
    ({}, "MissingParameter"),
    ({"name": ""}, "InvalidParameter"),
    ({"name": 5}, "InvalidParameter"),
    ({"name": "x" * 129}, "InvalidParameter"),
    ({"name": "tab\tname"}, "InvalidParameter"),
])
def test_bad_names(wire: LiveApi, member: dict[str, Any], body: Any, code: Any) -> None:
    resp = wire.http.post(KEYS, json=body, headers=bearer(member["refresh_token"]))
    assert_error(resp, 400, code)


def test_keys_are_private_to_their_user(wire: LiveApi, member: dict[str, Any]) -> None:
    other = wire.email_user("other@example.com")
    mine = _create(wire, member["refresh_token"], "mine")
    theirs = bearer(other["refresh_token"])
    assert wire.http.get(KEYS, headers=theirs).json() == []
    for method, path in [("GET", ""), ("DELETE", ""), ("PUT", "/enable"), ("PUT", "/disable")]:
        resp = wire.http.request(method, f"{KEYS}/{mine['_id']}{path}", headers=theirs)
        assert_error(resp, 404, "APIKeyNotFound")
    assert wire.http.get(f"{KEYS}/{mine['_id']}",
                        headers=bearer(member["refresh_token"])).json()["disabled"] is False


def test_routes_need_the_refresh_token(wire: LiveApi, member: dict[str, Any]) -> None:
    assert_error(wire.http.get(KEYS), 401, "MissingAuthReq")
    assert_error(wire.http.get(KEYS, headers=bearer(member["access_token"])), 401, "InvalidSession")
    resp = wire.http.post(KEYS, json={"name": "x"}, headers=bearer(member["access_token"]))
    assert_error(resp, 401, "InvalidSession")
    wire.http.delete(f"{BASE}/auth/session", headers=bearer(member["refresh_token"]))
    assert_error(wire.http.get(KEYS, headers=bearer(member["refresh_token"])), 401,
                 "InvalidSession")


def test_unknown_and_malformed_ids(wire: LiveApi, member: dict[str, Any]) -> None:
    rt = bearer(member["refresh_token"])
    assert_error(wire.http.get(f"{KEYS}/{'0' * 24}", headers=rt), 404, "APIKeyNotFound")
    assert_error(wire.http.get(f"{KEYS}/not-an-id", headers=rt), 404, "APIKeyNotFound")


def test_anonymous_users_cannot_make_keys(wire: LiveApi) -> None:
    anon = wire.anonymous()
    resp = wire.http.post(KEYS, json={"name": "nope"}, headers=bearer(anon["refresh_token"]))
    assert_error(resp, 400, "BadRequest", "anonymous users cannot have API keys")
    assert wire.http.get(KEYS, headers=bearer(anon["refresh_token"])).json() == []


def test_at_most_twenty_keys(wire: LiveApi, member: dict[str, Any]) -> None:
    for n in range(20):
        _create(wire, member["refresh_token"], f"k{n}")
    resp = wire.http.post(KEYS, json={"name": "k20"}, headers=bearer(member["refresh_token"]))
    assert_error(resp, 400, "BadRequest")


def test_bad_key_logins(wire: LiveApi) -> None:
    assert_error(_key_login(wire, "x" * 64), 401, "AuthError", "invalid API key")
    assert_error(wire.login_raw("api-key", {}), 400, "MissingParameter")
    assert_error(wire.login_raw("api-key", {"key": 12}), 400, "InvalidParameter")


def test_key_of_a_deleted_user_cannot_log_in(wire: LiveApi, member: dict[str, Any]) -> None:
    created = _create(wire, member["refresh_token"], "orphan")
    resp = wire.http.delete(f"{BASE}/auth/delete", headers=bearer(member["access_token"]))
    assert_empty(resp)
    assert_error(_key_login(wire, created["key"]), 401, "AuthError", "invalid API key")


def test_api_keys_cannot_be_linked(wire: LiveApi, member: dict[str, Any]) -> None:
    created = _create(wire, member["refresh_token"], "link")
    anon = wire.anonymous()
    resp = wire.login_raw("api-key", {"key": created["key"]}, link_token=anon["access_token"])
    assert_error(resp, 400, "BadRequest")


def test_provider_can_be_turned_off(server_factory: Callable[..., LiveServer]) -> None:
    wire = LiveApi(server_factory({"providers": {"api-key": {"enabled": False}}}))
    try:
        assert_error(_key_login(wire, "x" * 64), 404, "AuthProviderNotFound")
    finally:
        wire.close()


def test_server_keys_from_the_admin_command(wire: LiveApi, live_server: LiveServer) -> None:
    made = run_admin(live_server, "server-keys", "create", "nightly-export")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    key_id = made.stdout.split()[3]
    assert len(secret) == 64 and len(key_id) == 24
    session = wire.login("api-key", {"key": secret})
    profile = wire.profile(session["access_token"])
    assert profile["type"] == "server"
    assert [(i["provider_type"], i["id"]) for i in profile["identities"]] == [("api-key", key_id)]
    assert wire.login("api-key", {"key": secret})["user_id"] == session["user_id"]
    listed = run_admin(live_server, "server-keys", "list")
    assert key_id in listed.stdout and "nightly-export" in listed.stdout
    assert secret not in listed.stdout
    dup = run_admin(live_server, "server-keys", "create", "nightly-export")
    assert dup.returncode == 1 and "already exists" in dup.stdout
    # A server user manages no user keys of its own.
    resp = wire.http.post(KEYS, json={"name": "x"}, headers=bearer(session["refresh_token"]))
    assert_error(resp, 400, "BadRequest")
    gone = run_admin(live_server, "server-keys", "delete", key_id)
    assert gone.returncode == 0, gone.stdout
    assert_error(_key_login(wire, secret), 401, "AuthError", "invalid API key")
    resp = wire.http.post(f"{BASE}/auth/session", headers=bearer(session["refresh_token"]))
    assert_error(resp, 401, "InvalidSession")
    assert run_admin(live_server, "server-keys", "delete", key_id).returncode == 1
    assert run_admin(live_server, "server-keys", "list").stdout.strip() == ""


def test_server_key_admin_refuses_user_keys(wire: LiveApi, live_server: LiveServer,
                                            member: dict[str, Any]) -> None:
    created = _create(wire, member["refresh_token"], "users-own")
    result = run_admin(live_server, "server-keys", "delete", created["_id"])
    assert result.returncode == 1
    assert _key_login(wire, created["key"]).status_code == 200
    assert run_admin(live_server, "server-keys", "create").returncode == 2


@pytest.mark.parametrize("action", ["disable", "delete"])
def test_disabling_or_deleting_a_key_ends_its_sessions(wire: LiveApi, member: dict[str, Any],
                                                       action: str) -> None:
    rt = member["refresh_token"]
    created = _create(wire, rt, "leaked")
    key_session = wire.login("api-key", {"key": created["key"]})
    wire.refresh(key_session["refresh_token"])
    if action == "disable":
        assert_empty(wire.http.put(f"{KEYS}/{created['_id']}/disable", headers=bearer(rt)))
    else:
        assert_empty(wire.http.delete(f"{KEYS}/{created['_id']}", headers=bearer(rt)))
    resp = wire.http.post(f"{BASE}/auth/session", headers=bearer(key_session["refresh_token"]))
    assert_error(resp, 401, "InvalidSession")
    # The maker's own session is untouched.
    wire.refresh(rt)
