"""The quiet-errors opt-in of our browser clients (server/quiet_status.py): an expected 4xx goes
out as 200 with the real status in a header, only when the request asks for it."""

from __future__ import annotations

import json

from app.sdk import routes

from .helpers import APP_ID, Api

ALLOWED = "http://localhost:8000"  # in config/demo.toml
LOGIN = routes.login(APP_ID, "local-userpass")
WRONG = json.dumps({"username": "nobody@example.com", "password": "not the password"})


def test_a_refusal_is_quiet_only_when_asked(api: Api) -> None:
    plain = api.http.post(LOGIN, content=WRONG, headers={"Content-Type": "application/json"})
    assert plain.status_code == 401 and "x-latchkey-status" not in plain.headers

    quiet = api.http.post(LOGIN, content=WRONG, headers={"Content-Type": "application/json",
                                                        "X-Latchkey-Quiet-Errors": "1"})
    assert quiet.status_code == 200
    assert quiet.headers["x-latchkey-status"] == "401"
    assert quiet.json() == plain.json()


def test_success_and_cors_with_the_opt_in(api: Api) -> None:
    ok = api.http.post(routes.login(APP_ID, "anon-user"), content="{}",
                       headers={"Content-Type": "application/json", "Origin": ALLOWED,
                                "X-Latchkey-Quiet-Errors": "1"})
    assert ok.status_code == 200 and "x-latchkey-status" not in ok.headers
    assert "x-latchkey-status" in ok.headers["access-control-expose-headers"].lower()
    preflight = api.http.options(LOGIN, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-latchkey-quiet-errors"})
    assert preflight.status_code == 204
    assert "x-latchkey-quiet-errors" in preflight.headers["access-control-allow-headers"].lower()


def test_an_empty_answer_gets_a_body_only_when_asked(api: Api) -> None:
    register = routes.userpass(APP_ID, "register")
    body = json.dumps({"email": "quiet@example.com", "password": "s3cret-pass"})
    plain = api.http.post(register, content=body, headers={"Content-Type": "application/json"})
    assert plain.status_code == 201 and plain.content == b""
    body = json.dumps({"email": "quiet2@example.com", "password": "s3cret-pass"})
    quiet = api.http.post(register, content=body, headers={"Content-Type": "application/json",
                                                          "X-Latchkey-Quiet-Errors": "1"})
    assert quiet.status_code == 200 and quiet.content == b"null"
    assert quiet.headers["x-latchkey-status"] == "201"
    assert quiet.headers["x-latchkey-empty"] == "1"
