"""Tier (a): error mapping, response decoding and request building, without a server.

The only transport here is ``Unreachable``: it records each request and raises ``OSError``, like
a network that is down. Everything the server answers is tested against the real server in
``test_scenarios.py``.
"""

from __future__ import annotations

import json

import pytest

from app.sdk import App, AppError, Credentials, ErrorCode, MemoryStorage, Request, Response, ejson
from app.sdk.credentials import device_info, login_body
from app.sdk.fetcher import Fetcher, _is_invalid_session, decode_body

from .runner import run

BASE = "http://example.test"


class Unreachable:
    """Records requests and fails each one as a dropped connection."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        raise OSError("connection refused")


def json_response(status: int, body: object, content_type: str = "application/json") -> Response:
    return Response(status, {"Content-Type": content_type}, json.dumps(body))


def test_error_from_response_uses_the_realm_message_format() -> None:
    request = Request("POST", f"{BASE}/api/client/v2.0/auth/session")
    body = {"error": "invalid session", "error_code": "InvalidSession", "link": "http://l"}
    err = AppError.from_response(request, json_response(401, body))
    assert err.message == (
        f"Request failed (POST {BASE}/api/client/v2.0/auth/session): "
        "invalid session (status 401 Unauthorized)"
    )
    assert (err.code, err.status, err.error, err.link) == (
        ErrorCode.INVALID_SESSION,
        401,
        "invalid session",
        "http://l",
    )


def test_unknown_codes_and_non_json_errors() -> None:
    request = Request("GET", f"{BASE}/x?secret=1")
    err = AppError.from_response(request, json_response(418, {"error_code": "Teapot"}))
    assert err.code is ErrorCode.UNKNOWN and err.wire_code == "Teapot"
    err = AppError.from_response(request, Response(502, {"content-type": "text/html"}, "<h1>"))
    assert (err.code, err.status, err.error) == (ErrorCode.UNKNOWN, 502, "")
    assert "secret" not in err.message


def test_decode_body() -> None:
    assert decode_body(Response(204)) is None
    assert decode_body(Response(200, {"content-type": "application/json"}, "")) is None
    ejson_body = '{"n": {"$numberLong": "5"}}'
    assert decode_body(Response(200, {"Content-Type": "application/json"}, ejson_body)) == {"n": 5}
    with pytest.raises(ValueError, match='Expected JSON response, got "text/plain"'):
        decode_body(Response(200, {"Content-Type": "text/plain"}, "hi"))
    with pytest.raises(ValueError):
        decode_body(Response(200, {"Content-Type": "application/json"}, "{nope"))


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (json_response(401, {"error_code": "InvalidSession"}), True),
        (json_response(401, {"error": "unauthorized", "error_code": "InvalidPassword"}), True),
        (json_response(401, {"error": "nope", "error_code": "MissingAuthReq"}), False),
        (json_response(403, {"error_code": "InvalidSession"}), False),
        (Response(401, {"Content-Type": "application/json"}, "{broken"), False),
        (Response(401), False),
    ],
)
def test_which_401s_trigger_a_refresh(response: Response, expected: bool) -> None:
    assert _is_invalid_session(response) is expected


def test_network_failures_become_network_errors_with_status_zero() -> None:
    transport = Unreachable()
    fetcher = Fetcher("demo", BASE + "/", transport)
    err = run(_raises(fetcher.fetch("GET", "/anything")))
    assert (err.code, err.status, err.url) == (
        ErrorCode.NETWORK_ERROR,
        0,
        f"{BASE}/api/client/v2.0/app/demo/location",
    )
    assert "connection refused" in err.message
    (request,) = transport.requests
    assert request.method == "GET" and request.body is None
    assert request.headers == {"Accept": "application/json"}


def test_location_is_retried_after_a_failure() -> None:
    transport = Unreachable()
    app = App("demo", base_url=BASE, transport=transport)

    async def twice() -> None:
        for _ in range(2):
            await _raises(app.log_in(Credentials.anonymous()))

    run(twice())
    assert [r.url for r in transport.requests] == [f"{BASE}/api/client/v2.0/app/demo/location"] * 2
    assert app.all_users == []


def test_a_logged_out_user_cannot_send_requests() -> None:
    class LoggedOut:
        id = "u1"
        access_token = None
        refresh_token = None

        def _set_access_token(self, token: str) -> None: ...

        def _end_session(self) -> None: ...

    fetcher = Fetcher("demo", BASE, Unreachable())
    with pytest.raises(ValueError, match="u1 is logged out"):
        run(fetcher.fetch("GET", "/p", token_type="access", user=LoggedOut()))
    with pytest.raises(ValueError, match="needs a user"):
        run(fetcher.fetch("GET", "/p", token_type="refresh"))


def test_login_body_is_payload_plus_device_options() -> None:
    creds = Credentials.function({"username": "ada", "age": 30})
    body = login_body(creds, "ab" * 12)
    assert body["username"] == "ada" and body["age"] == 30
    wire = json.loads(ejson.dumps(body))
    assert wire["age"] == {"$numberInt": "30"}
    assert wire["options"]["device"]["deviceId"] == {"$oid": "ab" * 12}
    assert wire["options"]["device"]["platform"] == "cpython"
    assert "deviceId" not in device_info(None)


def test_credentials_payloads_match_realm_web() -> None:
    assert Credentials.anonymous().payload == {} and Credentials.anonymous().reuse
    assert not Credentials.anonymous(reuse=False).reuse
    email = Credentials.email_password("a@b.c", "pw")
    assert email.payload == {"username": "a@b.c", "password": "pw"}
    assert Credentials.api_key("k").payload == {"key": "k"}
    assert Credentials.jwt("t").payload == {"token": "t"}
    assert Credentials.jwt("t").provider_name == "custom-token"
    assert Credentials.function({"a": 1}).provider_type == "custom-function"


def test_credentials_misuse() -> None:
    with pytest.raises(ValueError, match="options"):
        Credentials.function({"options": 1})
    with pytest.raises(TypeError, match="dict"):
        Credentials.function([])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="password must be a string"):
        Credentials.email_password("a@b.c", None)  # type: ignore[arg-type]
    app = App("demo", base_url=BASE, transport=Unreachable(), storage=MemoryStorage())
    with pytest.raises(TypeError, match="Credentials"):
        run(app.log_in("anonymous"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="app id"):
        App("", base_url=BASE, transport=Unreachable())


async def _raises(awaitable: object) -> AppError:
    try:
        await awaitable  # type: ignore[misc]
    except AppError as err:
        return err
    raise AssertionError("Expected an AppError.")
