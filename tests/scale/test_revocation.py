"""A session ended through one server process kills its access token in every other one.

Issue 16 item 3: separate ``serve.py`` processes on one PostgreSQL (as on separate machines),
and the ``--workers`` processes of one ``serve.py`` on SQLite, each refuse a logged-out
session's access token from the first request after the logout (well within the second the
issue allows), with 401 ``InvalidSession``. No process caches a session, so none has to be told.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from app.sdk import routes
from tests.server.helpers import PASSWORD, auth

from .cluster import APP_ID, UNLIMITED, spawn, wait_ready, write_config
from .conftest import StartProcesses


def _log_in(http: httpx.Client, email: str) -> dict[str, str]:
    register = http.post(routes.userpass(APP_ID, routes.USERPASS_REGISTER),
                         json={"email": email, "password": PASSWORD})
    assert register.status_code == 201, register.text
    login = http.post(routes.login(APP_ID, routes.LOCAL_USERPASS),
                      json={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return dict(login.json())


def _refused_everywhere(clients: list[httpx.Client], tokens: dict[str, str]) -> None:
    for http in clients:  # Each answers once before the logout, so it has seen the session.
        assert http.get(routes.profile(), headers=auth(tokens["access_token"])).status_code == 200
    ended = clients[0].delete(routes.session(), headers=auth(tokens["refresh_token"]))
    assert ended.status_code == 204, ended.text
    done = time.monotonic()
    for http in clients[1:] * 3:
        resp = http.get(routes.profile(), headers=auth(tokens["access_token"]))
        assert resp.status_code == 401, resp.text
        assert resp.json()["error_code"] == "InvalidSession"
    assert time.monotonic() - done < 1.0


def test_a_logout_on_one_postgres_process_is_refused_by_the_others(
        processes: StartProcesses) -> None:
    group = processes(3, UNLIMITED)
    clients = [p.client() for p in group]
    try:
        _refused_everywhere(clients, _log_in(clients[0], "pg-logout@example.com"))
    finally:
        for http in clients:
            http.close()


def test_a_logout_through_one_worker_is_refused_by_every_worker(tmp_path: Path) -> None:
    # On SQLite: the PostgreSQL processes above stand for workers on PostgreSQL too.
    url = f"sqlite:{tmp_path / 'shared.sqlite3'}"
    process = spawn("workers", tmp_path, url, write_config(tmp_path / "app.toml", UNLIMITED),
                    "--workers", "2")
    # No keep-alive: every request is a new connection, which either worker may take.
    fresh = httpx.Limits(max_keepalive_connections=0)
    try:
        wait_ready(process)
        clients = [httpx.Client(base_url=process.base_url, limits=fresh, timeout=30)
                   for _ in range(4)]
        try:
            _refused_everywhere(clients, _log_in(clients[0], "w-logout@example.com"))
        finally:
            for http in clients:
                http.close()
    finally:
        process.stop()
