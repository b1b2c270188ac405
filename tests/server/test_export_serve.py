"""``python serve.py --config EXPORT_DIR``: the realistic App Services export in
tests/fixtures/appservices_export served as it is, secrets from the environment, its JavaScript
functions run unchanged, and the summary of what Latchkey does not do printed at start-up.
One real ``serve.py`` process for the module; the endless loop runs on an in-process server of
the same export with a short time limit (the export has none, so it gets the 10 s default)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import database_url_for, make_settings, start_server

from .auth_helpers import LiveApi, assert_error

REPO = Path(__file__).resolve().parents[2]
EXPORT = REPO / "tests" / "fixtures" / "appservices_export"
APP_ID = "tasktracker-abcde"
JWT_KEY = "the custom JWT provider's HS256 key, 32 bytes or more"
SECRETS = {"LATCHKEY_SECRET_jwtSigningKey": JWT_KEY,
           "LATCHKEY_SECRET_googleClientSecret": "google-client-secret-value",
           "LATCHKEY_SECRET_stripeApiKey": "sk_test_value_from_a_secret"}


class Served:
    """The ``serve.py`` process and its output."""

    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.base_url, self.proc, self.log = f"http://127.0.0.1:{port}", proc, log
        self.app_id, self.settings = APP_ID, None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("export")
    port, log = _free_port(), tmp / "serve.log"
    cmd = [sys.executable, str(REPO / "serve.py"), "--config", str(EXPORT), "--port", str(port),
           "--data-dir", str(tmp / "data"), "--database", database_url_for(tmp / "data")]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **SECRETS, "PYTHONUNBUFFERED": "1"})
    served = Served(port, proc, log)
    try:
        _wait(served)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _wait(served: Served) -> None:
    url = f"{served.base_url}/api/client/v2.0/app/{APP_ID}/location"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise RuntimeError(f"serve.py exited:\n{served.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"serve.py did not start:\n{served.output()[-3000:]}")


@pytest.fixture(scope="module")
def wire(served: Served) -> Iterator[LiveApi]:
    client = LiveApi(served)
    yield client
    client.close()


@pytest.fixture(scope="module")
def token(wire: LiveApi) -> str:
    return str(wire.anonymous()["access_token"])


def test_start_up_names_the_app_and_what_it_does_not_get(served: Served) -> None:
    out = served.output()
    assert f"Latchkey is serving app '{APP_ID}'" in out
    assert "This App Services export uses 11 thing(s) Latchkey does not do" in out
    for line in ("Device Sync (flexible)", "triggers: 1 (onNewTask)", "HTTP endpoints: 1",
                 "GraphQL API", "static hosting", "log forwarders: 1 (toDatadog)"):
        assert line in out
    for secret in SECRETS.values():
        assert secret not in out


def test_functions_values_and_a_value_from_a_secret(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "hello", "Ada") == "Hello, Ada, from Task Tracker!"
    assert wire.call(token, "sumAsync", 2, 3) == {"$numberInt": "5"}
    assert wire.call(token, "callOther", "Bo") == {
        "greeting": "Hello, Bo, from Task Tracker!", "maxTasks": {"$numberInt": "100"},
        "tiers": ["free", "pro"]}
    assert wire.call(token, "getSetting", "supportEmail") == "support@tasks.example.com"
    assert wire.call(token, "getSetting", "stripeKey") == "sk_test_value_from_a_secret"


def test_bson_types_cross_as_canonical_ejson(wire: LiveApi, token: str) -> None:
    out = wire.call(token, "bsonTypes", {"_id": {"$oid": "64b0000000000000000000ff"}})
    assert out["id"] == {"$oid": "5f1b7c0e9d3b2a1c4e5f6a7b"}
    assert out["big"] == {"$numberLong": "9007199254740993"}
    assert out["price"] == {"$numberDecimal": "19.99"}
    assert out["when"] == {"$date": {"$numberLong": "0"}}
    assert out["gotObjectId"] is True


def test_private_and_can_evaluate_functions_are_kept_from_clients(
        wire: LiveApi, token: str) -> None:
    for name in ("authFunc", "admin/stats"):
        resp = wire.call_raw(token, name)
        assert_error(resp, 404, "FunctionNotFound")


def test_custom_function_login_in_javascript(wire: LiveApi) -> None:
    first = wire.login("custom-function", {"username": "Ada", "pin": "1234"})
    me = wire.call(first["access_token"], "whoAmI")
    assert me["id"] == first["user_id"]
    assert me["providers"] == ["custom-function"]
    assert me["environment"] == "production"
    assert wire.login("custom-function", {"username": "ada", "pin": "1234"})["user_id"] == \
        first["user_id"]
    assert_error(wire.login_raw("custom-function", {"username": "ada", "pin": "0000"}),
                 401, "AuthError")


def test_email_users_are_confirmed_and_reset_by_the_js_functions(wire: LiveApi) -> None:
    url = f"{wire.app}/auth/providers/local-userpass"
    refused = wire.http.post(f"{url}/register", json={"email": "eve@elsewhere.test",
                                                      "password": "p4ssword!"})
    assert_error(refused, 400, "BadRequest", 'failed to confirm user "eve@elsewhere.test"')
    session = wire.email_user("ada@example.com")
    body = {"email": "ada@example.com", "password": "n3w-password", "arguments": ["green"]}
    assert_error(wire.http.post(f"{url}/reset/call", json=body), 400, "BadRequest")
    body["arguments"] = ["blue"]
    assert wire.http.post(f"{url}/reset/call", json=body).status_code == 204
    again = wire.login("local-userpass", {"username": "ada@example.com",
                                          "password": "n3w-password"})
    assert again["user_id"] == session["user_id"]


def test_the_custom_data_writer_and_context_user(wire: LiveApi) -> None:
    session = wire.email_user("writer@example.com")
    doc = wire.call(session["access_token"], "writeCustomData", "teal")
    assert doc["favoriteColor"] == "teal" and doc["userId"] == session["user_id"]
    token = wire.refresh(session["refresh_token"])
    me = wire.call(token, "whoAmI")
    assert me["email"] == "writer@example.com"
    assert me["customData"]["favoriteColor"] == "teal"


def test_the_custom_jwt_provider_uses_the_secret_signing_key(wire: LiveApi) -> None:
    from .helpers import hs256

    claims: dict[str, Any] = {"sub": "jwt-user-1", "aud": "tasktracker",
                              "email": "jwt@example.com", "exp": int(time.time()) + 60}
    session = wire.login("custom-token", {"token": hs256(claims, JWT_KEY)})
    assert wire.profile(session["access_token"])["data"]["email"] == "jwt@example.com"
    forged = hs256(claims, "another key that is also long enough to be used")
    assert_error(wire.login_raw("custom-token", {"token": forged}), 401, "AuthError")


def test_the_endless_loop_stops_at_the_time_limit(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(tmp_path / "data", {"function_time_limit_seconds": 1},
                             config=EXPORT)
    assert settings.app_id == APP_ID
    live = start_server(settings)
    client = LiveApi(live)
    try:
        token = str(client.anonymous()["access_token"])
        began = time.monotonic()
        assert_error(client.call_raw(token, "spin"), 400, "ExecutionTimeLimitExceeded")
        assert time.monotonic() - began < 4
        assert client.call(token, "hello", "again") == "Hello, again, from Task Tracker!"
    finally:
        client.close()
        live.stop()
