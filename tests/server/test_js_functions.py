"""JavaScript functions written for App Services, run unchanged in the function workers (issue 13):
sync, async and arrow functions, BSON types both ways, the context (user, values, environment,
functions, services), JavaScript and Python calling each other, the custom user data stand-in,
custom-function login and confirmation/reset functions in JavaScript, and the isolation limits
(an endless loop and a memory hog stop; everybody else is served). One live server for all."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.settings import ConfigError, Settings
from tests.conftest import LiveServer, make_settings, start_server

from .auth_helpers import LiveApi, assert_error, claims

HERE = Path(__file__).parent
JS = HERE / "js_app"
LIMIT = 1.5
PRIVATE = {"hidden", "login", "confirm", "reset"}
SETTINGS: dict[str, Any] = {
    "functions": str(HERE / "functions_for_js.py"),
    "function_time_limit_seconds": LIMIT,
    "function_memory_limit_mib": 160,
    "environment": "staging",
    "values": {"greeting": "Bonjour", "limits": {"daily": 5}},
    "js_functions": {p.stem: {"source": str(p), "private": p.stem in PRIVATE}
                     for p in sorted(JS.glob("*.js"))},
    "custom_user_data": {"enabled": True, "collection": "custom_data", "user_id_field": "user_id"},
    "providers": {
        "custom-function": {"enabled": True, "function_name": "login"},
        "local-userpass": {"enabled": True, "confirmation": "function",
                           "confirmation_function": "confirm", "reset": "function",
                           "reset_function": "reset"},
    },
}


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    live: LiveServer = start_server(make_settings(tmp_path_factory.mktemp("js"), SETTINGS))
    client = LiveApi(live)
    yield client
    client.close()
    live.stop()


@pytest.fixture(scope="module")
def token(wire: LiveApi) -> str:
    return str(wire.anonymous()["access_token"])


def _int(n: int) -> dict[str, str]:
    return {"$numberInt": str(n)}


def test_sync_async_and_arrow_functions(wire: LiveApi, token: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "latchkey.functions"):
        assert wire.call(token, "add", 2, 3) == _int(5)
    assert "function add: adding 2 and 3" in caplog.text  # console.log, one line per call.
    assert wire.call(token, "asyncArrow", "Ada") == {"message": "Bonjour, Ada", "tag": "staging"}
    assert wire.call(token, "add", "a", "b") == "ab"
    assert wire.call(token, "later", 50) == {"value": "done", "waited": True}


BSON_ARGS = [
    _int(5), {"$numberLong": "9007199254740993"}, {"$numberDouble": "1.5"}, "s", True, None,
    [_int(1)], {"k": _int(2)}, {"$date": {"$numberLong": "1704164645000"}},
    {"$oid": "65a0c0ffee0000000000aaaa"}, {"$numberDecimal": "12.50"},
    {"$binary": {"base64": "AAE=", "subType": "00"}},
    {"$binary": {"base64": "D4+tW9nLRp+hZXCGdyiVDg==", "subType": "04"}},
    {"$binary": {"base64": "eA==", "subType": "80"}},
]


def test_bson_types_round_trip(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "echo", *BSON_ARGS) == BSON_ARGS
    assert wire.call(token, "describe", *BSON_ARGS) == [
        "number", "Long", "number", "string", "boolean", "null", "Array", "object", "Date",
        "ObjectId", "Decimal128", "Binary", "Binary", "Binary"]
    made = wire.call(token, "makeBson")
    assert made["oid"] == {"$oid": "65a0c0ffee0000000000aaaa"} and made["fresh"] is True
    assert made["long"] == {"$numberLong": "9007199254740993"}
    assert made["dec"] == {"$numberDecimal": "12.50"}
    assert made["bin"] == {"$binary": {"base64": "AAE=", "subType": "00"}}
    assert made["uuid"] == BSON_ARGS[12]
    assert made["when"] == {"$date": {"$numberLong": "1704164645000"}}
    assert json.loads(made["text"]) == {"n": _int(1), "l": {"$numberLong": "7"}}
    assert made["parsed"] is True


def test_utils_crypto_as_app_services(wire: LiveApi, token: str) -> None:
    made = wire.call(token, "makeBson")
    assert made["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert made["md5"] == "kAFQmDzST7DWlj99KOF/cg=="
    assert made["hmac"] == "6e9ef29b75fffc5b7abae527d58fdadb2fe42e7219011976917343065f58ed4a"
    assert made["hmac64"] == "IIjfdNXyFGtIFGyvSWU3fp0L46Q="


def test_node_style_globals_and_what_is_not_there(wire: LiveApi, token: str) -> None:
    out = wire.call(token, "nodeish", "héllo")
    assert out["b64"] == "aMOpbGxv" and out["back"] == "héllo" and out["hex"] == "68c3a96c6c6f"
    assert out["btoa"] == "aGk=" and out["atob"] == "hi"
    assert out["required"].startswith('require("axios"): Latchkey runs functions without npm')
    assert out["httpError"] == "context.http.post (no network) is not available in Latchkey"


def test_values_and_environment_in_both_languages(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "py_values") == {"greeting": "Bonjour", "tag": "staging"}


def test_javascript_and_python_call_each_other(wire: LiveApi, token: str) -> None:
    # JS -> Python (py_double) -> JS (add); and JS -> a private JS function.
    assert wire.call(token, "callPython", 21) == {"doubled": _int(42), "secret": "hidden 21"}
    assert wire.call(token, "py_double", 4) == _int(8)  # Python -> JS from a client call.
    assert wire.call(token, "py_chain", 5) == {"doubled": _int(10), "secret": "hidden 5"}


def test_request_context_of_client_calls(wire: LiveApi, token: str) -> None:
    resp = wire.http.post(f"{wire.app}/functions/call", json={"name": "request", "arguments": []},
                          headers={"Authorization": f"Bearer {token}", "User-Agent": "probe/1"})
    seen = resp.json()
    assert seen["ip"] == "127.0.0.1" and seen["method"] == "POST" and seen["agent"] == "probe/1"
    assert "User-Agent" in seen["headers"] and "Authorization" not in seen["headers"]


def test_private_functions_answer_like_unknown_ones(wire: LiveApi, token: str) -> None:
    for name in ("hidden", "login", "nope"):
        assert_error(wire.call_raw(token, name, 1), 404, "FunctionNotFound",
                     f"function not found: '{name}'")


def test_user_context(wire: LiveApi) -> None:
    session = wire.email_user("who@ok.test")
    me = wire.call(session["access_token"], "whoami")
    assert me["id"] == session["user_id"] and me["type"] == "normal"
    assert me["data"] == {"email": "who@ok.test"} and me["providers"] == ["local-userpass"]
    assert me["custom"] == {}


def test_custom_data_writer_through_the_services_stand_in(wire: LiveApi) -> None:
    session = wire.email_user("writer@ok.test")
    out = wire.call(session["access_token"], "writeCustomData", "pro")
    user_id = session["user_id"]
    assert out["result"] == {"matchedCount": _int(0), "modifiedCount": _int(0),
                             "upsertedId": user_id}
    assert out["doc"] == {"user_id": user_id, "plan": "pro", "limits": {"calls": _int(10)}}
    again = wire.call(session["access_token"], "writeCustomData", "team")
    assert again["result"] == {"matchedCount": _int(1), "modifiedCount": _int(1)}
    # The document is the user's custom data: in the next access token, and in context.user.
    token = wire.refresh(session["refresh_token"])
    assert claims(token)["user_data"] == {"plan": "team", "limits": {"calls": 10},
                                          "user_id": user_id}
    assert wire.call(token, "whoami")["custom"]["plan"] == "team"


def test_custom_data_insert_through_the_services_stand_in(wire: LiveApi) -> None:
    session = wire.email_user("inserter@ok.test")
    token, user_id = session["access_token"], session["user_id"]
    assert wire.call(token, "insertCustomData", "tea") == {"insertedId": user_id}
    again = wire.call_raw(token, "insertCustomData", "coffee")
    assert_error(again, 400, "FunctionExecutionError")
    assert "E11000 duplicate key error" in again.json()["error"]
    assert wire.call(token, "whoami")["custom"] == {"user_id": user_id, "favorite": "tea"}


def test_other_mongodb_collections_fail_naming_what_is_missing(wire: LiveApi, token: str) -> None:
    resp = wire.call_raw(token, "otherCollection")
    assert_error(resp, 400, "FunctionExecutionError")
    error = json.loads(resp.json()["error"])
    assert error["name"] == "Error"
    assert ('context.services.get("mongodb-atlas").db("app").collection("orders"): Latchkey '
            "has no MongoDB service") in error["message"]
    assert "custom_data, the custom user data collection" in error["message"]


def test_a_thrown_error_is_a_function_execution_error(wire: LiveApi, token: str) -> None:
    resp = wire.call_raw(token, "thrower", "boom")
    assert_error(resp, 400, "FunctionExecutionError", '{"message":"boom","name":"Error"}')


def test_custom_function_login_in_javascript(wire: LiveApi) -> None:
    first = wire.login("custom-function", {"token": "let-me-in", "user": "ada"})
    again = wire.login("custom-function", {"token": "let-me-in", "user": "ada"})
    assert first["user_id"] == again["user_id"]
    profile = wire.profile(first["access_token"])
    assert profile["identities"][0]["id"] == "js-ada"
    assert profile["data"]["name"] == "ada"
    resp = wire.login_raw("custom-function", {"token": "wrong", "user": "ada"})
    assert_error(resp, 401, "AuthError")


def test_confirmation_and_reset_functions_in_javascript(wire: LiveApi) -> None:
    url = f"{wire.app}/auth/providers/local-userpass"
    refused = wire.http.post(f"{url}/register", json={"email": "no@elsewhere.test",
                                                      "password": "p4ssword!"})
    assert_error(refused, 400, "BadRequest", 'failed to confirm user "no@elsewhere.test"')
    wire.email_user("yes@ok.test")  # Confirmed by the function: logs in at once.
    reset = f"{url}/reset/call"
    body = {"email": "yes@ok.test", "password": "n3w-password", "arguments": ["red"]}
    assert_error(wire.http.post(reset, json=body), 400, "BadRequest",
                 'failed to reset password for user "yes@ok.test"')
    assert wire.http.post(reset, json={**body, "arguments": ["blue"]}).status_code == 204
    assert wire.login("local-userpass", {"username": "yes@ok.test",
                                         "password": "n3w-password"})["user_id"]


def test_endless_loop_is_stopped_and_others_are_served(wire: LiveApi, token: str) -> None:
    import threading

    results: list[Any] = []
    spinner = threading.Thread(target=lambda: results.append(wire.call_raw(token, "spin")))
    began = time.monotonic()
    spinner.start()
    time.sleep(0.2)
    during = time.monotonic()
    assert wire.call(token, "add", 1, 1) == _int(2)  # Another worker answers meanwhile.
    assert wire.anonymous()["user_id"]
    assert time.monotonic() - during < 1.0
    spinner.join(10)
    assert_error(results[0], 400, "ExecutionTimeLimitExceeded")
    assert time.monotonic() - began < LIMIT + 2
    assert wire.call(token, "add", 2, 2) == _int(4)


def test_memory_hog_is_capped(wire: LiveApi, token: str) -> None:
    resp = wire.call_raw(token, "hog")
    assert_error(resp, 400, "FunctionExecutionError")
    assert "memory" in resp.json()["error"]
    assert wire.call(token, "add", 3, 3) == _int(6)


def test_an_app_with_javascript_functions_only(
        server_factory: Callable[..., LiveServer], tmp_path: Path) -> None:
    config = tmp_path / "app.toml"
    config.write_text(f'app_id = "js-only"\n[providers.anon-user]\nenabled = true\n'
                      f'[js_functions.add]\nsource = "{JS / "add.js"}"\n')
    client = LiveApi(server_factory(config=config))
    try:
        token = client.anonymous()["access_token"]
        assert client.call(token, "add", 20, 22) == _int(42)
        assert_error(client.call_raw(token, "translate"), 404, "FunctionNotFound")
    finally:
        client.close()


def test_a_bad_source_stops_the_server_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.js"
    bad.write_text("exports = function (a {\n  return a;\n};\n")
    config = tmp_path / "app.toml"
    config.write_text('app_id = "js-app"\n[js_functions.bad]\nsource = "bad.js"\n')
    with pytest.raises(ConfigError, match=r"\[js_functions.bad\] source .*bad.js is not valid "
                                          r"JavaScript: SyntaxError"):
        Settings.load(config, tmp_path / "data")
    config.write_text('app_id = "js-app"\n[js_functions.gone]\nsource = "gone.js"\n')
    with pytest.raises(ConfigError, match="gone.js cannot be read"):
        Settings.load(config, tmp_path / "data")
    config.write_text('app_id = "js-app"\n[js_functions.x]\nsource = "bad.js"\nprivat = true\n')
    with pytest.raises(ConfigError, match="unknown key 'privat'"):
        Settings.load(config, tmp_path / "data")

