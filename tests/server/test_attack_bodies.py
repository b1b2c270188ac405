"""Bodies an attacker sends that the first hardening round let through (found by attacking a
running server): JSON that is not JSON (``NaN``, numbers that overflow), EJSON values BSON cannot
hold (integers beyond 64 bits, ``$numberInt`` beyond 32, base64 that is not base64), a
``$numberDecimal`` that overflowed into a 500, and two ``Content-Type`` headers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.sdk import routes
from server import create_app
from tests.conftest import make_settings

from .helpers import APP_ID, Api, assert_error, auth, userpass

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
CALL = routes.functions_call(APP_ID)
JSON = {"Content-Type": "application/json"}

BAD_VALUES = [
    "NaN", "Infinity", "-Infinity", "1e400", "-1e999",
    "18446744073709551616", "9223372036854775808", "-9223372036854775809",
    '{"$numberLong": "99999999999999999999999"}',
    '{"$numberInt": "2147483648"}',
    '{"$numberDecimal": "1e99999999"}',
    '{"$binary": {"base64": "!!!", "subType": "04"}}',
    '{"$binary": "not base64!", "$type": "00"}',
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(tmp_path / "data", {"functions": str(FUNCTIONS)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_function_arguments_bson_cannot_hold_are_a_400(api: Api, value: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    token = api.anon_ok()["access_token"]
    body = '{"name": "echo", "arguments": [' + value + "]}"
    resp = api.http.post(CALL, content=body.encode(), headers={**auth(token), **JSON})
    assert_error(resp, 400, "InvalidParameter")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_other_bodies_refuse_them_too(api: Api, value: str) -> None:
    body = '{"email": "nan@example.com", "password": "password-1", "x": ' + value + "}"
    resp = api.http.post(userpass("register"), content=body.encode(), headers=JSON)
    assert_error(resp, 400, "InvalidParameter")


def test_edge_values_still_round_trip(api: Api) -> None:
    token = api.anon_ok()["access_token"]
    args = ('[{"$numberDouble": "NaN"}, {"$numberDouble": "-Infinity"}, 9223372036854775807, '
            '{"$numberLong": "-9223372036854775808"}, {"$numberInt": "-2147483648"}, '
            '{"$binary": {"base64": "AQID", "subType": "04"}}, 1.5e308]')
    resp = api.http.post(CALL, content=b'{"name": "echo", "arguments": ' + args.encode() + b"}",
                         headers={**auth(token), **JSON})
    assert resp.status_code == 200, resp.text
    assert resp.json() == [
        {"$numberDouble": "NaN"}, {"$numberDouble": "-Infinity"},
        {"$numberLong": "9223372036854775807"}, {"$numberLong": "-9223372036854775808"},
        {"$numberInt": "-2147483648"}, {"$binary": {"base64": "AQID", "subType": "04"}},
        {"$numberDouble": "1.5e+308"},
    ]


@pytest.mark.parametrize("second", ["text/plain", "application/json"])
def test_two_content_type_headers_are_a_415(api: Api, second: str) -> None:
    """A proxy or firewall in front may read the other header than the server does."""
    body = b'{"email": "twice@example.com", "password": "password-1"}'
    headers = [("Content-Type", "application/json"), ("Content-Type", second)]
    resp = api.http.post(userpass("register"), content=body, headers=headers)
    assert_error(resp, 415, "UnsupportedMediaType")
