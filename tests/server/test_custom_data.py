"""Custom user data: a document per user in the store, copied into the access token's
``user_data`` claim at login and at every refresh; written by functions and the admin command."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.settings import DEFAULT_CONFIG
from tests.conftest import LiveServer

from .auth_helpers import LiveApi, assert_error, claims, run_admin

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
PASSWORD = "p4ssword!"


@pytest.fixture
def wire(live_server: LiveServer) -> Iterator[LiveApi]:
    client = LiveApi(live_server)
    yield client
    client.close()


def _user_data(token: str) -> Any:
    return claims(token)["user_data"]


def test_admin_set_reaches_tokens_at_refresh_and_login(wire: LiveApi,
                                                       live_server: LiveServer) -> None:
    user = wire.email_user("data@example.com", PASSWORD)
    uid = user["user_id"]
    assert _user_data(user["access_token"]) == {}
    made = run_admin(live_server, "custom-data", "set", uid, '{"plan": "pro", "seats": 3}')
    assert made.returncode == 0, made.stdout + made.stderr
    assert _user_data(user["access_token"]) == {}, "an older token keeps its copy"
    expected = {"plan": "pro", "seats": 3, "user_id": uid}
    assert _user_data(wire.refresh(user["refresh_token"])) == expected
    again = wire.login("local-userpass", {"username": "data@example.com", "password": PASSWORD})
    assert _user_data(again["access_token"]) == expected
    got = run_admin(live_server, "custom-data", "get", uid)
    assert got.returncode == 0 and json.loads(got.stdout) == expected
    gone = run_admin(live_server, "custom-data", "delete", uid)
    assert gone.returncode == 0 and "Deleted" in gone.stdout
    assert _user_data(wire.refresh(user["refresh_token"])) == {}
    assert run_admin(live_server, "custom-data", "get", uid).stdout.strip() == "null"
    assert "No custom data" in run_admin(live_server, "custom-data", "delete", uid).stdout


@pytest.mark.parametrize("doc, status, text", [
    ("not json", 2, "must be a JSON object"),
    ("[1, 2]", 2, "must be a JSON object"),
    (None, 2, "must be a JSON object"),
])
def test_admin_set_refuses_bad_documents(wire: LiveApi, live_server: LiveServer, doc: Any,
                                         status: Any, text: Any) -> None:
    uid = wire.anonymous()["user_id"]
    args = ["custom-data", "set", uid] + ([doc] if doc is not None else [])
    result = run_admin(live_server, *args)
    assert result.returncode == status and text in result.stdout


def test_admin_set_refuses_unknown_users(live_server: LiveServer) -> None:
    result = run_admin(live_server, "custom-data", "set", "0" * 24, '{"plan": "pro"}')
    assert result.returncode == 1 and "No user" in result.stdout
    # Review finding L: `get` printed null and exited 0 for a user that does not exist.
    result = run_admin(live_server, "custom-data", "get", "0" * 24)
    assert result.returncode == 1 and "No user" in result.stdout


def test_admin_command_when_the_feature_is_off(live_server: LiveServer, tmp_path: Path) -> None:
    text = DEFAULT_CONFIG.read_text()
    text = text.replace('functions = "demo_functions.py"',
                        f'functions = "{DEFAULT_CONFIG.parent / "demo_functions.py"}"')
    text = text.replace("[custom_user_data]\nenabled = true", "[custom_user_data]\nenabled = false")
    config = tmp_path / "off.toml"
    config.write_text(text)
    result = run_admin(live_server, "custom-data", "set", "0" * 24, '{"plan": "pro"}',
                       config=config)
    assert result.returncode == 2 and "not enabled" in result.stdout


def test_functions_write_and_read_custom_data(server_factory: Callable[..., LiveServer]) -> None:
    wire = LiveApi(server_factory({"functions": str(FUNCTIONS)}))
    try:
        user = wire.email_user("fn@example.com", PASSWORD)
        token = user["access_token"]
        doc = {"when": {"$date": {"$numberLong": "1704164645000"}},
               "ref": {"$oid": "65a0c0ffee0000000000aaaa"}, "n": {"$numberLong": "5"},
               "tags": ["a"], "nested": {"x": {"$numberDouble": "1.5"}}}
        assert wire.call(token, "set_custom", doc) is None
        fresh = wire.refresh(user["refresh_token"])
        assert _user_data(fresh) == {
            "when": {"$date": "2024-01-02T03:04:05Z"}, "ref": {"$oid": "65a0c0ffee0000000000aaaa"},
            "n": 5, "tags": ["a"], "nested": {"x": 1.5}, "user_id": user["user_id"]}
        # Functions see the document as Python and BSON values, and send it back exactly.
        assert wire.call(fresh, "custom_data") == {**doc, "user_id": user["user_id"]}
        assert wire.call(fresh, "set_plan", "team")["plan"] == "team"
        assert _user_data(wire.refresh(user["refresh_token"]))["plan"] == "team"
    finally:
        wire.close()


def test_demo_function_writes_custom_data(wire: LiveApi) -> None:
    user = wire.anonymous()
    doc = wire.call(user["access_token"], "set_favorite_color", "teal")
    assert doc["favorite_color"] == "teal"
    assert _user_data(wire.refresh(user["refresh_token"])) == {
        "favorite_color": "teal", "user_id": user["user_id"]}


def test_configured_user_id_field(server_factory: Callable[..., LiveServer]) -> None:
    overrides = {"functions": str(FUNCTIONS),
                 "custom_user_data": {"collection": "profiles", "user_id_field": "owner"}}
    wire = LiveApi(server_factory(overrides))
    try:
        user = wire.anonymous()
        wire.call(user["access_token"], "set_plan", "pro")
        assert _user_data(wire.refresh(user["refresh_token"])) == {
            "plan": "pro", "owner": user["user_id"]}
    finally:
        wire.close()


def test_feature_off(server_factory: Callable[..., LiveServer]) -> None:
    wire = LiveApi(server_factory({"functions": str(FUNCTIONS),
                                   "custom_user_data": {"enabled": False}}))
    try:
        user = wire.anonymous()
        resp = wire.call_raw(user["access_token"], "set_plan", "pro")
        assert_error(resp, 400, "FunctionExecutionError",
                     "Custom user data is not enabled in the app config.")
        assert _user_data(wire.refresh(user["refresh_token"])) == {}
        assert wire.call(user["access_token"], "custom_data") == {}
    finally:
        wire.close()


def test_demo_function_keeps_custom_data_small_enough_for_a_token(wire: LiveApi) -> None:
    # Found in review: a 60,000-character color made every later access token 80 KB.
    user = wire.anonymous()
    resp = wire.call_raw(user["access_token"], "set_favorite_color", "x" * 65)
    assert resp.status_code == 400 and resp.json()["error_code"] == "FunctionExecutionError"
    assert "at most 64 characters" in resp.json()["error"]
    assert wire.call(user["access_token"], "set_favorite_color", "x" * 64)["favorite_color"]
