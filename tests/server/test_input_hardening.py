"""Hostile bodies (issue 16, items 1 and 2): nesting at any depth is a 400 with one short log line,
and only ``application/json`` bodies are read, so cross-origin "simple" requests get 415."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from app.sdk import routes
from server import create_app
from server.routes.common import MAX_DEPTH
from server.routes.table import ROUTES
from tests.conftest import make_settings

from .helpers import APP_ID, PASSWORD, Api, assert_empty, assert_error, auth, userpass

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
CALL = routes.functions_call(APP_ID)
JSON = {"Content-Type": "application/json"}
# Far more than a request needs: a RecursionError's traceback alone is ~100 KB.
MAX_LOG_LINE = 1000


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(tmp_path / "data", {"functions": str(FUNCTIONS)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client)


def _nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a": ' * depth + b"1" + b"}" * depth


def _call(depth: int, kind: str = "array") -> bytes:
    # The body object and the arguments array are two levels; the argument brings the rest.
    return b'{"name": "echo", "arguments": [' + _nested(depth - 2, kind) + b"]}"


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def _assert_quiet_logs(caplog: pytest.LogCaptureFixture, requests: int) -> None:
    lines = _log_lines(caplog)
    assert len(lines) <= requests, lines
    assert all(len(line) <= MAX_LOG_LINE and "\n" not in line for line in lines), lines


@pytest.mark.parametrize("kind", ["array", "object"])
def test_function_arguments_nested_deep_are_a_400(api: Api, kind: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The review's case: arguments ~600 deep answered 500 with 136 KB of traceback."""
    token = api.anon_ok()["access_token"]
    headers = {**auth(token), **JSON}
    ok = api.http.post(CALL, content=_call(MAX_DEPTH, kind), headers=headers)
    assert ok.status_code == 200, ok.text
    for depth in (MAX_DEPTH + 1, 600, 900, 990, 5000, 9000):
        resp = api.http.post(CALL, content=_call(depth, kind), headers=headers)
        assert_error(resp, 400, "InvalidParameter", contains=f"deeper than {MAX_DEPTH} levels")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def _body_routes() -> list[tuple[str, str]]:
    found = []
    for route in ROUTES:
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
            path = route.path.replace("{app_id}", APP_ID).replace("{provider}", "anon-user")
            found.append((method, path.replace("{key_id}", "65a0c0ffee0000000000abcd")))
    return found


@pytest.mark.parametrize("method, path", _body_routes())
def test_every_depth_on_every_route_is_a_client_error(api: Api, method: str, path: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    tokens = api.anon_ok()
    # Routes that want a token check it first: give each the one it takes.
    token = tokens["refresh_token"] if "/auth/" in path and "/providers/" not in path \
        else tokens["access_token"]
    headers = {**auth(token), **JSON}
    sent = 0
    for depth in (MAX_DEPTH + 1, 300, 600, 990, 1500, 9000):
        for kind in ("array", "object"):
            body = b'{"options": ' + _nested(depth, kind) + b"}"
            resp = api.http.request(method, path, content=body, headers=headers)
            sent += 1
            # Routes that read no body (refresh, logout, ...) may succeed; none may fail.
            assert resp.status_code < 500, (depth, kind, resp.status_code, resp.text)
            if resp.status_code >= 400:
                assert_error(resp, resp.status_code, resp.json()["error_code"])
    _assert_quiet_logs(caplog, sent)


def test_the_login_routes_refuse_depth_before_anything_else(api: Api) -> None:
    for path in (routes.login(APP_ID, "anon-user"), userpass("register"),
                 routes.login(APP_ID, "custom-function")):
        body = b'{"options": ' + _nested(MAX_DEPTH, "object") + b"}"
        assert_error(api.http.post(path, content=body, headers=JSON), 400, "InvalidParameter",
                     contains="nest deeper")
    # Brackets inside strings are text, not nesting.
    text = b'{"options": {"device": {"note": "' + b"[" * 5000 + b'"}}}'
    assert api.http.post(routes.login(APP_ID, "anon-user"), content=text,
                         headers=JSON).status_code == 200


def test_utf16_bodies_cannot_hide_their_depth(api: Api) -> None:
    # json would read these bytes as UTF-16; they are refused before that.
    body = '{"options": ' + "[" * 900 + "]" * 900 + "}"
    for encoding in ("utf-16-le", "utf-16-be", "utf-32"):
        resp = api.http.post(routes.login(APP_ID, "anon-user"), content=body.encode(encoding),
                             headers=JSON)
        assert_error(resp, 400, "InvalidParameter")


def test_deep_custom_data_is_refused_when_written(tmp_path: Path) -> None:
    """Custom data has the bodies' limit: a function storing a deeper document fails with a
    clear message (it used to store up to ~490 levels and then fail with Python's recursion
    error text), and what is stored always fits into every later token."""
    module = tmp_path / "deep_functions.py"
    module.write_text(
        "async def set_deep(context, depth):\n"
        "    doc = {}\n"
        "    for _ in range(depth):\n"
        "        doc = {'a': doc}\n"
        "    await context.set_custom_data(context.user.id, doc)\n"
        "    return 'stored'\n")
    settings = make_settings(tmp_path / "data", {"functions": str(module)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        api = Api(client)
        tokens = api.anon_ok()
        headers = {**auth(tokens["access_token"]), **JSON}
        for depth in (150, 400):
            body = {"name": "set_deep", "arguments": [depth]}
            assert_error(client.post(CALL, json=body, headers=headers), 400,
                         "FunctionExecutionError", contains="nest deeper than 100")
        assert api.refresh(tokens["refresh_token"]).status_code == 201
        fine = client.post(CALL, json={"name": "set_deep", "arguments": [90]}, headers=headers)
        assert fine.status_code == 200, fine.text
        assert api.refresh(tokens["refresh_token"]).status_code == 201


def test_unexpected_errors_log_one_bounded_line(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    async def recurse(request: Any) -> Any:
        def down(n: int) -> int:
            return down(n + 1) + 1
        return down(0)

    async def loud(request: Any) -> Any:
        raise RuntimeError("x" * 100_000 + "\nsecond line")

    app = create_app(make_settings(tmp_path / "data"))
    app.router.routes[:0] = [Route("/api/client/v2.0/recurse", recurse),
                             Route("/api/client/v2.0/loud", loud)]
    with TestClient(app, raise_server_exceptions=False) as client:
        deep = client.get("/api/client/v2.0/recurse")
        assert_error(deep, 400, "InvalidParameter", "invalid input: nested too deeply")
        assert_error(client.get("/api/client/v2.0/loud"), 500, "InternalServerError")
    lines = _log_lines(caplog)
    assert len(lines) == 2, lines
    assert all(len(line) <= MAX_LOG_LINE and "\n" not in line for line in lines), lines
    assert lines[0].startswith("unexpected RecursionError on GET /api/client/v2.0/recurse")
    assert "test_input_hardening.py" in lines[0]
    assert lines[1].startswith("unexpected RuntimeError on GET /api/client/v2.0/loud: xxx")


# Item 2: only JSON bodies.

SIMPLE_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/jsonp", "text/json",
                "application/json-patch+json", ""]


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_bodies_that_are_not_declared_json_are_415(api: Api, content_type: str) -> None:
    """What any web page can make a visitor's browser send without a CORS preflight."""
    headers = {"Content-Type": content_type}
    register = {"email": "victim@example.com", "password": PASSWORD}
    cases = [
        (userpass("register"), register),
        (routes.login(APP_ID, "anon-user"), {"options": {}}),
        (routes.login(APP_ID, "local-userpass"), {"username": "v@example.com", "password": "x"}),
        (userpass("reset/send"), {"email": "victim@example.com"}),
        (userpass("confirm/send"), {"email": "victim@example.com"}),
    ]
    for path, body in cases:
        resp = api.http.post(path, content=json.dumps(body).encode(), headers=headers)
        assert_error(resp, 415, "UnsupportedMediaType",
                     "unsupported content type: request bodies must be application/json")
    assert api.log_in("victim@example.com").status_code == 401, "nobody was registered"


def test_a_body_without_a_content_type_is_415(api: Api) -> None:
    # fetch() with a Blob body of no type sends no Content-Type at all.
    request = api.http.build_request("POST", routes.login(APP_ID, "anon-user"),
                                     content=b'{"options": {}}')
    assert "content-type" not in request.headers
    resp = api.http.send(request)
    assert_error(resp, 415, "UnsupportedMediaType")


def test_function_calls_want_json_too(api: Api) -> None:
    token = api.anon_ok()["access_token"]
    body = b'{"name": "echo", "arguments": [1]}'
    resp = api.http.post(CALL, content=body, headers={**auth(token), "Content-Type": "text/plain"})
    assert_error(resp, 415, "UnsupportedMediaType")


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/json;charset=UTF-8", " application/json ",
])
def test_json_in_any_spelling_is_read(api: Api, content_type: str) -> None:
    resp = api.http.post(routes.login(APP_ID, "anon-user"), content=b'{"options": {}}',
                         headers={"Content-Type": content_type})
    assert resp.status_code == 200, resp.text


def test_bodiless_requests_need_no_content_type(api: Api) -> None:
    """realm-web sets Content-Type only when there is a body: refresh and logout have none."""
    tokens = api.anon_ok()
    refresh = auth(tokens["refresh_token"])
    assert api.http.post(routes.session(), headers=refresh).status_code == 201
    assert_empty(api.http.delete(routes.session(), headers=refresh))
    again = api.anon_ok()
    assert_empty(api.http.delete(routes.delete_user(), headers=auth(again["access_token"])))


def test_an_empty_body_declared_as_text_is_415(api: Api) -> None:
    # A route that reads a body refuses a declared non-JSON type even when the body is empty.
    resp = api.http.post(routes.login(APP_ID, "anon-user"), headers={"Content-Type": "text/plain"})
    assert_error(resp, 415, "UnsupportedMediaType")


def test_a_deep_device_parameter_starts_the_social_flow(tmp_path: Path) -> None:
    """The redirect login's ``device`` parameter is base64 JSON from the query string: nested
    deep it answered 500; now it is ignored like any unreadable device (a new device id)."""
    google = {"enabled": True, "client_id": "id", "client_secret": "secret",
              "redirect_uris": ["http://localhost:8000/"]}
    settings = make_settings(tmp_path / "data", {"providers": {"oauth2-google": google}})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for depth in (10, 1000, 1500):
            device = base64.b64encode(b"[" * depth + b"]" * depth).decode()
            resp = client.get(routes.login(APP_ID, "oauth2-google"), follow_redirects=False,
                              params={"redirect": "http://localhost:8000/", "state": "s1",
                                      "device": device})
            assert resp.status_code == 302, resp.text
