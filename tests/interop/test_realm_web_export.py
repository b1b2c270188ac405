"""Interop: the official realm-web client against an App Services export served as it is
(tests/fixtures/appservices_export, issue 13). What a migrating team changes in its client is the
base URL only: the app id, the credentials and the function calls are the ones the app used with
App Services. One live server of the export for the module; the scenarios are those of
``realm_web_driver.mjs``."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, make_settings, start_server
from tests.server.helpers import hs256

from .test_realm_web import REALM_WEB, run_driver

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "appservices_export"
JWT_KEY = "the custom JWT provider's HS256 key, 32 bytes or more"
SECRETS = {"LATCHKEY_SECRET_jwtSigningKey": JWT_KEY,
           "LATCHKEY_SECRET_googleClientSecret": "google-client-secret-value",
           "LATCHKEY_SECRET_stripeApiKey": "sk_test_value_from_a_secret"}

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not REALM_WEB.exists(), reason="realm-web is not installed (npm ci)"),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    try:
        settings = make_settings(tmp_path_factory.mktemp("export"), config=EXPORT)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    live = start_server(settings)
    yield live
    live.stop()


def test_js_functions_through_realm_web(exported: LiveServer) -> None:
    assert exported.app_id == "tasktracker-abcde"
    hello = run_driver(exported, "function_call", name="hello", args=["Ada"])
    assert hello["value"] == "Hello, Ada, from Task Tracker!"
    # Async functions calling others by name (callOther awaits context.functions.execute).
    other = run_driver(exported, "function_call", name="callOther", args=["Bo"])
    assert other["value"]["greeting"] == "Hello, Bo, from Task Tracker!"


def test_bson_types_reach_realm_web_as_its_own_classes(exported: LiveServer) -> None:
    out = run_driver(exported, "function_call", name="bsonTypes", argsEjson=True,
                     args=[{"_id": {"$oid": "64b0000000000000000000ff"}}])
    canonical: dict[str, Any] = out["canonical"]
    assert canonical["id"] == {"$oid": "5f1b7c0e9d3b2a1c4e5f6a7b"}
    # realm-web turns a Long into a JS number when it reads a result (as it does from App
    # Services): the server's exact $numberLong is checked on the wire in test_export_serve.py.
    assert canonical["big"]["$numberLong"].startswith("900719925474099")
    assert canonical["price"] == {"$numberDecimal": "19.99"}
    assert canonical["gotObjectId"] is True
    assert canonical["echo"] == {"_id": {"$oid": "64b0000000000000000000ff"}}


def test_custom_function_login_written_in_js(exported: LiveServer) -> None:
    out = run_driver(exported, "custom_function", payload={"username": "Ada", "pin": "1234"},
                     badPayload={"username": "Ada", "pin": "0000"})
    assert out["first"]["providerType"] == "custom-function"
    assert out["secondId"] == out["first"]["id"]
    assert out["badPayload"]["ok"] is False
    assert out["badPayload"]["errorCode"] == "AuthError"


def test_custom_jwt_with_the_key_from_a_secret(exported: LiveServer) -> None:
    token = hs256({"sub": "realm-web-jwt", "aud": "tasktracker", "email": "jwt@example.com",
                   "name": "Jay", "exp": int(time.time()) + 300}, JWT_KEY)
    out = run_driver(exported, "custom_jwt", token=token, repeat=True)
    assert out["user"]["providerType"] == "custom-token"
    assert out["user"]["profile"]["email"] == "jwt@example.com"
    assert out["secondId"] == out["user"]["id"]


def test_the_custom_data_writer_and_refresh_custom_data(exported: LiveServer) -> None:
    out = run_driver(exported, "refresh_custom_data",
                     setup={"name": "writeCustomData", "args": ["teal"]})
    assert out["before"] == {}
    assert out["refreshed"]["favoriteColor"] == "teal"
    assert out["refreshed"]["userId"] == out["userId"]
    assert out["after"]["favoriteColor"] == "teal"
