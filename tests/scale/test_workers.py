"""``serve.py --workers N``: N uvicorn worker processes on one address, on either store.

The workers import the app by name (``server.asgi:from_environment``) with the settings that
``serve.py`` put in their environment. The kernel hands each new connection to one of them, so
a login rate limit only holds if the workers count in the store together.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from app.sdk import routes
from server.asgi import DropQueryStrings, from_environment
from server.settings import REPO_ROOT
from tests.server.helpers import PASSWORD

from .cluster import APP_ID, spawn, wait_ready, write_config


@pytest.mark.parametrize("store", ["postgres", "sqlite"])
def test_workers_share_sessions_and_login_limits(store: str, request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:
    if store == "postgres":
        url = request.getfixturevalue("postgres_server").fresh_url()
    else:
        url = f"sqlite:{tmp_path / 'shared.sqlite3'}"
    config = write_config(tmp_path / "app.toml",
                          {"security": {"login_attempts_per_address": 6}})
    process = spawn("workers", tmp_path, url, config, "--workers", "3")
    try:
        wait_ready(process)
        login = routes.login(APP_ID, routes.LOCAL_USERPASS)
        # No keep-alive: each request is a new connection, which any worker may take.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=process.base_url, limits=fresh, timeout=30) as http:
            email = "worker@example.com"
            assert http.post(routes.userpass(APP_ID, routes.USERPASS_REGISTER),
                             json={"email": email, "password": PASSWORD}).status_code == 201
            session = http.post(login, json={"username": email, "password": PASSWORD}).json()
            for _ in range(6):
                refreshed = http.post(routes.session(),
                                      headers={"Authorization": f"Bearer "
                                                                f"{session['refresh_token']}"})
                assert refreshed.status_code == 201, refreshed.text
            statuses = [http.post(login, json={"username": email, "password": "wrong guess"})
                        .status_code for _ in range(8)]
        # One login above and five failures fill the allowance of six, whichever worker counted.
        assert statuses == [401] * 5 + [429] * 3
        # Three workers came up (on a busy machine the last may still be starting).
        deadline = time.monotonic() + 30
        while _started(process.output()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _started(process.output()) == 3, process.output()
    finally:
        process.stop()
    assert "Finished server process" in process.output()


def _started(output: str) -> int:
    return output.count("Application startup complete")


def test_workers_must_be_positive() -> None:
    done = subprocess.run([sys.executable, "serve.py", "--workers", "0"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--workers must be 1 or more" in done.stderr


def test_a_wrong_database_is_one_clear_line(tmp_path: Path) -> None:
    port = "1"  # Nothing listens on port 1; the store cannot open.
    done = subprocess.run(
        [sys.executable, "serve.py", "--data-dir", str(tmp_path), "--workers", "2",
         "--database", f"postgresql://nobody@127.0.0.1:{port}/none?connect_timeout=2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("serve.py: cannot open the store") and "Traceback" not in \
        done.stderr, done.stderr


def test_the_factory_takes_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("LATCHKEY_CONFIG", str(write_config(tmp_path / "app.toml")))
    monkeypatch.setenv("LATCHKEY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("LATCHKEY_PUBLIC_URL", "https://auth.example.com")
    with TestClient(from_environment()) as client:
        location = client.get(routes.location(APP_ID)).json()
        assert client.post(routes.login(APP_ID, routes.ANON_USER), json={}).status_code == 200
    assert location["hostname"] == "https://auth.example.com"
    assert (tmp_path / "env.sqlite3").exists() and (tmp_path / "data" / "signing-key").exists()
    access = logging.getLogger("uvicorn.access")
    from_environment()
    assert sum(isinstance(f, DropQueryStrings) for f in access.filters) == 1
