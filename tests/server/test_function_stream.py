"""realm-web's ``callFunctionStreaming`` (``GET .../functions/call?baas_request=<base64>``,
review finding E): it was a 405; now the function's result comes as one Server-Sent Event."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.sdk import routes
from server import create_app
from tests.conftest import APP_ID, make_settings

from .helpers import Api, assert_error, auth

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
URL = routes.functions_call(APP_ID)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = make_settings(tmp_path_factory.mktemp("stream"), {"functions": str(FUNCTIONS)})
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def _request(body: object, *, urlsafe: bool = False) -> str:
    raw = json.dumps(body).encode()
    return (base64.urlsafe_b64encode(raw).decode().rstrip("=") if urlsafe
            else base64.b64encode(raw).decode())


def test_a_streaming_call_answers_one_event(api: Api) -> None:
    token = api.anon_ok()["access_token"]
    for urlsafe in (False, True):
        body = {"name": "echo", "arguments": ["héllo?", {"$numberInt": "5"}]}
        resp = api.http.get(URL, params={"baas_request": _request(body, urlsafe=urlsafe)},
                            headers={**auth(token), "Accept": "text/event-stream"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.text.startswith("data: ") and resp.text.endswith("\n\n")
        assert resp.text.count("\n") == 2  # One event, on one line.
        assert json.loads(resp.text.removeprefix("data: ")) == ["héllo?", {"$numberInt": "5"}]


def test_streaming_calls_fail_as_posted_calls_do(api: Api) -> None:
    token = api.anon_ok()["access_token"]
    ok = _request({"name": "echo", "arguments": []})
    assert_error(api.http.get(URL, params={"baas_request": ok}), 401, "MissingAuthReq")
    # realm-core's baas_at query parameter is not read: tokens stay out of URLs.
    assert_error(api.http.get(URL, params={"baas_request": ok, "baas_at": token}), 401,
                 "MissingAuthReq")
    assert_error(api.http.get(URL, headers=auth(token)), 400, "MissingParameter")
    assert_error(api.http.get(URL, params={"baas_request": "%%%"}, headers=auth(token)), 400,
                 "InvalidParameter")
    missing = _request({"name": "no_such_function", "arguments": []})
    assert_error(api.http.get(URL, params={"baas_request": missing}, headers=auth(token)), 404,
                 "FunctionNotFound")
