"""Hostile and malformed input: every failure is a 4xx in the wire's error shape, never a 500
(protocol 1.4-1.6; scenarios 3-4)."""

from __future__ import annotations

import httpx
import pytest

from app.sdk import routes

from .helpers import APP_ID, PASSWORD, Api, assert_empty, assert_error, userpass

LOGIN = routes.login(APP_ID, "anon-user")
EMAIL_LOGIN = routes.login(APP_ID, "local-userpass")
REGISTER = userpass("register")


def post_raw(api: Api, path: str, content: bytes) -> httpx.Response:
    return api.http.post(path, content=content, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("content, code", [
    (b"", "MissingParameter"),
    (b"   ", "MissingParameter"),
    (b"not json", "InvalidParameter"),
    (b"{", "InvalidParameter"),
    (b'{"a": 1} trailing', "InvalidParameter"),
    (b"[]", "InvalidParameter"),
    (b'[{"options": {}}]', "InvalidParameter"),
    (b'"a string"', "InvalidParameter"),
    (b"null", "InvalidParameter"),
    (b"5", "InvalidParameter"),
    (b"\xff\xfe\x00{", "InvalidParameter"),
    (b'{"a": 1' + b"0" * 5000 + b"}", "InvalidParameter"),
])
def test_bodies_that_are_not_a_json_object(api: Api, content: bytes, code: str) -> None:
    assert_error(post_raw(api, LOGIN, content), 400, code)
    assert_error(post_raw(api, REGISTER, content), 400, code)


@pytest.mark.parametrize("value", [
    {"$numberInt": "x"},
    {"$numberInt": 5},
    {"$numberLong": "1e400"},
    {"$numberDouble": "abc"},
    {"$numberDecimal": "not a number"},
    {"$oid": "xyz"},
    {"$oid": 12},
    {"$date": "garbage"},
    {"$date": {"$numberLong": "99999999999999999999999"}},
    {"$date": -999999999999999999},
    {"$timestamp": {"t": "x", "i": 1}},
    {"$uuid": "zz"},
    {"$binary": "x", "$type": "zz"},
    {"$code": 5},
    {"$dbPointer": 5},
    {"$minKey": 2},
])
def test_invalid_extended_json_is_a_bad_request(api: Api, value: object) -> None:
    body = {"options": {"device": {"deviceId": value}}}
    assert_error(api.http.post(LOGIN, json=body), 400, "InvalidParameter")
    assert_error(api.http.post(REGISTER, json={"email": value, "password": PASSWORD}), 400,
                 "InvalidParameter")


def test_canonical_extended_json_is_decoded(api: Api) -> None:
    api.user("ejson@example.com")
    body = {"username": "ejson@example.com", "password": PASSWORD, "provider": "local-userpass",
            "options": {"device": {"deviceId": {"$oid": "65a0c0ffee0000000000abcd"},
                                   "count": {"$numberInt": "5"},
                                   "big": {"$numberLong": "2147483648"},
                                   "when": {"$date": {"$numberLong": "1700000000000"}},
                                   "ratio": {"$numberDouble": "1.5"}}}}
    resp = api.http.post(EMAIL_LOGIN, json=body)
    assert resp.status_code == 200
    assert resp.json()["device_id"] == "65a0c0ffee0000000000abcd"


@pytest.mark.parametrize("field", ["email", "password"])
def test_lone_surrogates_are_refused(api: Api, field: str) -> None:
    # JSON can spell a lone UTF-16 surrogate, which no UTF-8 text can hold.
    fields = {"email": '"sur@example.com"', "password": '"secret123"'}
    fields[field] = '"\\ud800abcdefgh"' if field == "password" else '"\\udc00@example.com"'
    raw = f'{{"email": {fields["email"]}, "password": {fields["password"]}}}'.encode()
    assert_error(post_raw(api, REGISTER, raw), 400, "InvalidParameter")
    login = raw.replace(b'"email"', b'"username"')
    assert_error(post_raw(api, EMAIL_LOGIN, login), 400, "InvalidParameter")
    # A proper surrogate pair (an emoji) is just text.
    pair = b'{"email": "emoji@example.com", "password": "\\ud83d\\ude00\\ud83d\\ude00secret"}'
    assert_empty(post_raw(api, REGISTER, pair), 201)
    assert api.log_in("emoji@example.com", "\U0001f600\U0001f600secret").status_code == 200


@pytest.mark.parametrize("body", [
    {"email": 5, "password": PASSWORD},
    {"email": ["a@example.com"], "password": PASSWORD},
    {"email": {"address": "a@example.com"}, "password": PASSWORD},
    {"email": "a@example.com", "password": 123456789},
    {"email": "a@example.com", "password": None},
    {"email": "a@example.com", "password": True},
    {"email": "", "password": PASSWORD},
])
def test_wrong_field_types(api: Api, body: dict) -> None:
    resp = api.http.post(REGISTER, json=body)
    assert_error(resp, 400, resp.json()["error_code"])
    assert resp.json()["error_code"] in ("InvalidParameter", "MissingParameter")


@pytest.mark.parametrize("path, body", [
    (userpass("confirm"), {"token": {"$numberInt": "1"}, "tokenId": ["x"]}),
    (userpass("confirm/send"), {"email": 5}),
    (userpass("reset/send"), {"email": None}),
    (userpass("reset"), {"token": "t", "tokenId": "i", "password": ["x"]}),
    (EMAIL_LOGIN, {"username": {"$oid": "65a0c0ffee0000000000abcd"}, "password": PASSWORD}),
    (LOGIN, {"options": 5}),
    (LOGIN, {"options": {"device": "phone"}}),
    (LOGIN, {"options": {"device": {"deviceId": [1, 2]}}}),
])
def test_wrong_types_elsewhere_never_break_the_server(api: Api, path: str, body: dict) -> None:
    resp = api.http.post(path, json=body)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert_error(resp, resp.status_code, resp.json()["error_code"])


def test_deeply_nested_json(api: Api) -> None:
    for depth in (100, 900, 5000, 30000):
        raw = b'{"options": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
        resp = post_raw(api, LOGIN, raw)
        assert resp.status_code in (200, 400, 413), resp.text
        if resp.status_code != 200:
            assert_error(resp, resp.status_code, resp.json()["error_code"])
    arrays = b'{"options": ' + b"[" * 20000 + b"]" * 20000 + b"}"
    assert_error(post_raw(api, LOGIN, arrays), 400, "InvalidParameter")


def test_body_size_limit(make_api) -> None:
    api = make_api({"security": {"max_body_bytes": 1000}})
    padded = b'{"options": {}}'.ljust(1000)
    assert post_raw(api, LOGIN, padded).status_code == 200
    too_big = b'{"options": {}}'.ljust(1001)
    assert_error(post_raw(api, LOGIN, too_big), 413, "RequestTooLarge")


def test_huge_bodies_are_refused_by_the_demo_limit(api: Api) -> None:
    huge = b'{"email": "' + b"a" * 70000 + b'@example.com", "password": "x"}'
    assert_error(post_raw(api, REGISTER, huge), 413, "RequestTooLarge")


def test_huge_chunked_bodies_are_refused_over_loopback(live_server) -> None:
    def chunks():
        yield b'{"options": {"x": "'
        for _ in range(200):
            yield b"a" * 1024
        yield b'"}}'

    url = live_server.base_url + LOGIN
    with httpx.Client() as http:
        resp = http.post(url, content=chunks(), headers={"Content-Type": "application/json"})
        assert "content-length" not in resp.request.headers
        assert_error(resp, 413, "RequestTooLarge")
        # The server is still fine afterwards.
        assert http.post(url, json={"options": {}}).status_code == 200


@pytest.mark.parametrize("path", [
    "/api/client/v2.0/nope",
    "/api/client/v2.0/app/latchkey-demo/nope",
    "/api/client/v2.0/auth/nope",
    "/no/such/page",
])
def test_unknown_routes_are_json_404(api: Api, path: str) -> None:
    assert_error(api.http.get(path), 404, "NotFound")
    assert_error(api.http.post(path, json={}), 404, "NotFound")


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", LOGIN, "POST"),
    ("PUT", routes.session(), "DELETE, POST"),
    ("POST", routes.profile(), "GET, HEAD"),
    ("GET", routes.delete_user(), "DELETE"),
    ("DELETE", routes.location(APP_ID), "GET, HEAD"),
    ("GET", REGISTER, "POST"),
])
def test_wrong_methods_are_json_405(api: Api, method: str, path: str, allowed: str) -> None:
    resp = api.http.request(method, path)
    assert_error(resp, 405, "MethodNotAllowed")
    assert sorted(m.strip() for m in resp.headers["allow"].split(",")) \
        == sorted(m.strip() for m in allowed.split(","))


def test_bodiless_requests_with_a_json_content_type(api: Api) -> None:
    tokens = api.anon_ok()
    charset = {"Content-Type": "application/json;charset=utf-8", "Accept": "application/json"}
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", **charset}
    assert api.http.get(routes.profile(), headers=bearer).status_code == 200
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}", **charset}
    assert api.http.post(routes.session(), headers=refresh).status_code == 201
    assert_empty(api.http.delete(routes.session(), headers=refresh))


def test_errors_never_come_as_server_errors(api: Api) -> None:
    """A sweep over the routes with junk: only 4xx JSON errors come back."""
    junk = [b"", b"[]", b"{}", b'{"email": {"$oid": "x"}}', b"\x00" * 10, b"{" * 50]
    paths = [LOGIN, EMAIL_LOGIN, routes.login(APP_ID, "api-key"),
             routes.login(APP_ID, "custom-function"), routes.login(APP_ID, "custom-token")]
    paths += [userpass(action) for action in routes.USERPASS_ACTIONS]
    for path in paths:
        for content in junk:
            resp = post_raw(api, path, content)
            assert resp.status_code < 500, (path, content, resp.text)
            if resp.status_code >= 400:
                assert_error(resp, resp.status_code, resp.json()["error_code"])
