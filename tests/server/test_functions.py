"""``POST .../functions/call``: EJSON in and out, the context, private functions, and every way a
call can fail, against a live server with the test functions module."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import LiveServer

from .auth_helpers import BASE, LiveApi, assert_error, bearer

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
LIMIT = 0.3


@pytest.fixture
def wire(server_factory: Callable[..., LiveServer]) -> Iterator[LiveApi]:
    client = LiveApi(server_factory({"functions": str(FUNCTIONS),
                                     "function_time_limit_seconds": LIMIT}))
    yield client
    client.close()


@pytest.fixture
def token(wire: LiveApi) -> str:
    return str(wire.anonymous()["access_token"])


def _post(wire: LiveApi, token: str, content: bytes,
          content_type: str = "application/json") -> httpx.Response:
    return wire.http.post(f"{wire.app}/functions/call", content=content,
                          headers={**bearer(token), "Content-Type": content_type})


CANONICAL_ARGS = [
    {"$numberInt": "5"}, {"$numberLong": "2147483648"}, {"$numberDouble": "1.5"}, "s", True,
    None, [{"$numberInt": "1"}], {"k": {"$numberInt": "2"}},
    {"$date": {"$numberLong": "1704164645000"}}, {"$oid": "65a0c0ffee0000000000aaaa"},
    {"$binary": {"base64": "AAE=", "subType": "00"}},
]


def test_arguments_arrive_as_python_values(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "types", *CANONICAL_ARGS) == [
        "int", "Int64", "float", "str", "bool", "NoneType", "list", "dict", "datetime",
        "ObjectId", "bytes"]
    # Relaxed and plain JSON decode too.
    assert wire.call(token, "types", 5, 1.5, {"$date": "2024-01-02T03:04:05Z"}) == [
        "int", "float", "datetime"]


def test_results_are_canonical_ejson(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "echo", *CANONICAL_ARGS) == CANONICAL_ARGS
    assert wire.call(token, "values") == {
        "int": {"$numberInt": "1"}, "big": {"$numberLong": str(2**40)},
        "float": {"$numberDouble": "1.5"}, "str": "s", "bool": True, "none": None,
        "list": [{"$numberInt": "1"}, "a"],
        "when": {"$date": {"$numberLong": "1704164645000"}},
        "oid": {"$oid": "65a0c0ffee0000000000aaaa"},
        "bytes": {"$binary": {"base64": "AAE=", "subType": "00"}},
    }
    assert wire.call(token, "async_echo", "x") == ["x"]
    resp = wire.call_raw(token, "echo")
    assert resp.headers["content-type"] == "application/json" and resp.json() == []


def test_arguments_may_be_left_out(wire: LiveApi, token: str) -> None:
    resp = _post(wire, token, b'{"name": "echo"}')
    assert resp.status_code == 200 and resp.json() == []
    assert wire.call_raw(token, "echo", "bonjour").text == '["bonjour"]'


def test_the_context_holds_the_caller(wire: LiveApi) -> None:
    user = wire.email_user("caller@example.com")
    who = wire.call(user["access_token"], "whoami")
    assert who == {"id": user["user_id"], "type": "normal", "app_id": "latchkey-demo",
                   "data": {"email": "caller@example.com"}, "providers": ["local-userpass"],
                   "custom_data": {}}
    wire.call(user["access_token"], "set_plan", "pro")
    custom = wire.call(user["access_token"], "custom_data")
    assert custom == {"plan": "pro", "user_id": user["user_id"]}


@pytest.mark.parametrize("name", ["secret_helper", "auth_string", "_underscored", "Thing",
                                  "dumps", "PRIVATE", "nope", "__init__"])
def test_private_and_unknown_functions_look_the_same(wire: LiveApi, token: str, name: Any) -> None:
    resp = wire.call_raw(token, name)
    assert_error(resp, 404, "FunctionNotFound", f"function not found: '{name}'")


def test_demo_private_functions_are_hidden(live_server: LiveServer) -> None:
    wire = LiveApi(live_server)
    try:
        token = wire.anonymous()["access_token"]
        assert wire.call(token, "translate", "hello", "en_fr") == "bonjour"
        for name in ("authenticate", "confirm_user", "reset_password"):
            assert_error(wire.call_raw(token, name, {}), 404, "FunctionNotFound",
                         f"function not found: '{name}'")
        assert_error(wire.call_raw(token, "translate", "hello", "xx_yy"), 400,
                     "FunctionExecutionError", "no translation of 'hello' for 'xx_yy'")
    finally:
        wire.close()


@pytest.mark.parametrize("name, args, message", [
    ("boom", [], "boom: something broke"),
    ("boom", ["a custom message"], "a custom message"),
    ("boom_bare", [], "RuntimeError"),
    ("async_boom", [], "'missing'"),
    ("exits", [], "function raised SystemExit"),
])
def test_functions_that_raise(wire: LiveApi, token: str, name: Any, args: Any,
                              message: Any) -> None:
    assert_error(wire.call_raw(token, name, *args), 400, "FunctionExecutionError", message)
    assert wire.call(token, "echo", 1) == [{"$numberInt": "1"}], "the server keeps serving"


def test_wrong_argument_count_is_an_execution_error(wire: LiveApi, token: str) -> None:
    resp = wire.call_raw(token, "whoami", 1, 2)
    assert_error(resp, 400, "FunctionExecutionError")
    assert "argument" in resp.json()["error"]


@pytest.mark.parametrize("name", ["spin", "async_sleep"])
def test_time_limit(wire: LiveApi, token: str, name: Any) -> None:
    began = time.monotonic()
    resp = wire.call_raw(token, name, 2.0)
    assert_error(resp, 400, "ExecutionTimeLimitExceeded",
                 f"function exceeded its time limit of {LIMIT:g} s")
    assert time.monotonic() - began < 1.5
    # The spinning thread is still running; the server answers anyway, store included.
    assert wire.call(token, "echo", "still here") == ["still here"]
    assert wire.anonymous()["user_id"]


def test_runaway_functions_do_not_starve_the_store(wire: LiveApi, token: str) -> None:
    results: list[int] = []

    def spin() -> None:
        results.append(wire.call_raw(token, "spin", 1.5).status_code)

    threads = [threading.Thread(target=spin) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [400] * 6
    began = time.monotonic()
    assert wire.anonymous()["user_id"]
    assert wire.call(token, "echo") == []
    assert time.monotonic() - began < 2


@pytest.mark.parametrize("kind, reason", [
    ("set", "values of type set have no EJSON form"),
    ("object", "values of type object have no EJSON form"),
    ("bytearray", "values of type bytearray have no EJSON form"),
    ("huge", "an integer is outside the 64-bit range"),
    ("deep", "values nest too deeply"),
    ("tuple-key", "object keys must be strings"),
])
def test_results_that_cannot_be_encoded(wire: LiveApi, token: str, kind: Any, reason: Any) -> None:
    resp = wire.call_raw(token, "unencodable", kind)
    assert_error(resp, 400, "FunctionExecutionError",
                 f"the function's result cannot be encoded as EJSON: {reason}")
    assert wire.call(token, "echo") == []


@pytest.mark.parametrize("body", [
    b"not json", b"", b"[]", b'"echo"', b"{}", b'{"name": 5}', b'{"name": ""}',
    b'{"name": "echo", "arguments": "x"}', b'{"name": "echo", "arguments": {"a": 1}}',
    b'{"name": "echo", "arguments": [{"$oid": "zz"}]}',
    b'{"name": "echo", "arguments": [{"$numberInt": "x"}]}',
    b'{"name": "echo", "arguments": [{"$date": {"$numberLong": "nope"}}]}',
])
def test_bodies_that_do_not_decode(wire: LiveApi, token: str, body: Any) -> None:
    assert_error(_post(wire, token, body), 400, "InvalidParameter",
                 "invalid function call request")


def test_service_calls_are_not_served(wire: LiveApi, token: str) -> None:
    resp = wire.call_raw(token, "find", {"database": "d", "collection": "c"},
                         service="mongodb-atlas")
    assert_error(resp, 404, "ServiceNotFound", "service not found: 'mongodb-atlas'")
    assert wire.call_raw(token, "echo", service=None).status_code == 200


def test_calls_need_a_valid_access_token(wire: LiveApi) -> None:
    session = wire.anonymous()
    url = f"{wire.app}/functions/call"
    body = {"name": "echo", "arguments": []}
    assert_error(wire.http.post(url, json=body), 401, "MissingAuthReq")
    resp = wire.http.post(url, json=body, headers=bearer(session["refresh_token"]))
    assert_error(resp, 401, "InvalidSession")
    foreign = jwt.encode({"sub": "1234567890", "exp": 1516239022, "iat": 1516239000},
                         "a-foreign-key-that-is-32-bytes-long!", algorithm="HS256")
    assert_error(wire.http.post(url, json=body, headers=bearer(foreign)), 401, "InvalidSession")
    other_app = f"{BASE}/app/another-app/functions/call"
    resp = wire.http.post(other_app, json=body, headers=bearer(session["access_token"]))
    assert_error(resp, 404, "AppNotFound")
