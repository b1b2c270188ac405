"""Admin API authentication over real HTTP: admin keys, login, refresh, logout, profile, and every
refusal (no token, client tokens on admin routes and admin tokens on client routes, disabled and
deleted keys, bad bodies, the login rate limit). Runs on both stores."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import serve
from server.admin_api import paths
from server.openapi.operations import OPERATIONS
from server.settings import DEFAULT_CONFIG, REPO_ROOT
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import ADMIN, Admin, fill, ids, make_admin_key
from .helpers import Api, assert_empty, assert_error, auth


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("admin-auth") / "data"
    server = start_server(make_settings(data_dir, {"security": {
        "login_failures_per_account": 3}}))
    yield server
    server.stop()


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        yield client


def test_login_profile_refresh_logout(live: LiveServer, http: httpx.Client) -> None:
    key, private = make_admin_key(live.settings, "ops")
    admin = Admin(http, live.settings, key.public_key, private)
    session = admin.session
    assert set(session) == {"access_token", "refresh_token", "user_id", "device_id"}
    assert session["user_id"] == key.id

    profile = http.get(paths.PROFILE, headers=admin.headers)
    assert profile.status_code == 200, profile.text
    group, _ = ids(live.settings)
    assert profile.json()["roles"] == [{"role_name": "GROUP_OWNER", "group_id": group}]
    assert private not in profile.text

    fresh = http.post(paths.SESSION, headers=auth(session["refresh_token"]))
    assert fresh.status_code == 201, fresh.text
    assert set(fresh.json()) == {"access_token"}
    assert http.get(paths.PROFILE, headers=auth(fresh.json()["access_token"])).status_code == 200
    # An access token does not refresh, and a refresh token opens no route.
    assert_error(http.post(paths.SESSION, headers=admin.headers), 401, "InvalidSession")
    assert_error(http.get(paths.PROFILE, headers=auth(session["refresh_token"])), 401,
                 "InvalidSession")

    assert_empty(http.delete(paths.SESSION, headers=auth(session["refresh_token"])))
    # Logging out ends the session's access tokens at once, and the refresh token.
    assert_error(http.get(paths.PROFILE, headers=admin.headers), 401, "InvalidSession")
    assert_error(http.post(paths.SESSION, headers=auth(session["refresh_token"])), 401,
                 "InvalidSession", contains="failed to find refresh token")
    assert_error(http.delete(paths.SESSION, headers=auth(session["refresh_token"])), 401,
                 "InvalidSession")


def test_client_and_admin_tokens_open_only_their_own_routes(live: LiveServer,
                                                           http: httpx.Client) -> None:
    key, private = make_admin_key(live.settings, "crossing")
    admin = Admin(http, live.settings, key.public_key, private)
    api = Api(http)
    client = api.user("crossing@example.com")
    for token in (client["access_token"], client["refresh_token"]):
        for method, path in (("GET", paths.PROFILE), ("POST", paths.SESSION),
                             ("DELETE", paths.SESSION)):
            assert_error(http.request(method, path, headers=auth(token)), 401, "InvalidSession")
    for token in (admin.session["access_token"], admin.session["refresh_token"]):
        assert_error(api.profile(token), 401, "InvalidSession")
        assert_error(api.refresh(token), 401, "InvalidSession")
        assert_error(api.log_out(token), 401, "InvalidSession")
        assert_error(api.delete_user(token), 401, "InvalidSession")
    assert_error(http.get(paths.PROFILE), 401, "MissingAuthReq")
    # Both still work where they belong.
    assert api.profile(client["access_token"]).status_code == 200
    assert http.get(paths.PROFILE, headers=admin.headers).status_code == 200


def test_bad_logins_and_bodies(live: LiveServer, http: httpx.Client) -> None:
    key, private = make_admin_key(live.settings, "bodies")
    assert_error(http.post(paths.LOGIN, json={"username": key.public_key, "apiKey": "x" * 64}),
                 401, "AuthError")
    assert_error(http.post(paths.LOGIN, json={"username": "nobody00", "apiKey": private}),
                 401, "AuthError")
    assert_error(http.post(paths.LOGIN, json={"username": key.public_key}), 400,
                 "MissingParameter")
    assert_error(http.post(paths.LOGIN, json={"username": key.public_key, "apiKey": 5}), 400,
                 "InvalidParameter")
    assert_error(http.post(paths.LOGIN, content=b"[1]",
                           headers={"Content-Type": "application/json"}), 400,
                 "InvalidParameter")
    assert_error(http.post(paths.LOGIN, content=b"{}", headers={"Content-Type": "text/plain"}),
                 415, "UnsupportedMediaType")
    # The failed attempts above count for this key from this address; a success clears them.
    Admin(http, live.settings, key.public_key, private)


def test_failed_logins_are_limited(live: LiveServer, http: httpx.Client) -> None:
    key, private = make_admin_key(live.settings, "limited")
    for _ in range(3):
        assert_error(http.post(paths.LOGIN, json={"username": key.public_key, "apiKey": "no"}),
                     401, "AuthError")
    resp = http.post(paths.LOGIN, json={"username": key.public_key, "apiKey": private})
    assert_error(resp, 429, "TooManyRequests")
    assert int(resp.headers["Retry-After"]) > 0


def _args(live: LiveServer, *args: str) -> list[str]:
    return ["--data-dir", str(live.data_dir), "--config", str(DEFAULT_CONFIG), "--database",
            live.settings.database_url, "admin-keys", *args]


def _cli(live: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``serve.py admin-keys ...`` in this process (``serve.main``): its status and output."""
    status = serve.main(_args(live, *args))
    out = capsys.readouterr()
    return status, out.out + out.err


def test_admin_keys_command_disable_and_delete_end_sessions(
        live: LiveServer, http: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    # Once as its own process: stdout holds exactly one JSON object.
    made = subprocess.run([sys.executable, "serve.py", *_args(live, "create", "from the CLI")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    pair = json.loads(made.stdout)
    assert set(pair) >= {"public_key", "private_key"}
    admin = Admin(http, live.settings, pair["public_key"], pair["private_key"])
    status, listed = _cli(live, capsys, "list")
    assert status == 0 and pair["public_key"] in listed and "from the CLI" in listed
    assert pair["private_key"] not in listed

    assert _cli(live, capsys, "disable", pair["public_key"])[0] == 0
    assert_error(http.get(paths.PROFILE, headers=admin.headers), 401, "InvalidSession")
    assert_error(http.post(paths.SESSION, headers=auth(admin.session["refresh_token"])), 401,
                 "InvalidSession")
    assert_error(http.post(paths.LOGIN, json={"username": pair["public_key"],
                                              "apiKey": pair["private_key"]}),
                 401, "AuthError", "admin API key is disabled")
    assert _cli(live, capsys, "enable", pair["public_key"])[0] == 0
    admin = Admin(http, live.settings, pair["public_key"], pair["private_key"])

    assert _cli(live, capsys, "delete", "from the CLI")[0] == 0
    assert_error(http.get(paths.PROFILE, headers=admin.headers), 401, "InvalidSession")
    assert_error(http.post(paths.LOGIN, json={"username": pair["public_key"],
                                              "apiKey": pair["private_key"]}),
                 401, "AuthError", "invalid admin API key")
    assert _cli(live, capsys, "delete", "from the CLI")[0] == 1
    assert _cli(live, capsys, "create")[0] == 2
    status, text = _cli(live, capsys, "create", "x" * 200)
    assert status == 1 and "1 to 128" in text
    assert _cli(live, capsys, "create", "twice")[0] == 0
    status, text = _cli(live, capsys, "create", "twice")
    assert status == 1 and "exists already" in text


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.security in ADMIN],
                         ids=lambda op: op.operation_id)
def test_every_admin_operation_refuses_without_a_token(http: httpx.Client, op: Any) -> None:
    resp = http.request(op.method.upper(), fill(op.path), json={} if op.body else None)
    assert_error(resp, 401, "MissingAuthReq", "must authenticate first")
