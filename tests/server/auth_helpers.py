"""Small wire helpers for the provider, API key and function tests: plain httpx over loopback
against a real ``LiveServer``, so every assertion is about what the server sent."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
BASE = "/api/client/v2.0"
DEVICE = {"options": {"device": {"platform": "pytest", "sdkVersion": "0"}}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (what a client reads)."""
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


def assert_error(resp: httpx.Response, status: int, code: str, text: str | None = None) -> None:
    """An error answer in the wire shape, with ``Content-Type: application/json`` exactly."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["error_code"] == code, body
    if text is not None:
        assert body["error"] == text, body


def assert_empty(resp: httpx.Response) -> None:
    """A bodiless success: 2xx and no ``Content-Type`` (protocol 1.5)."""
    assert 200 <= resp.status_code < 300, resp.text
    assert "content-type" not in resp.headers
    assert resp.content == b""


class LiveApi:
    """One client of one live server."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.http = httpx.Client(base_url=live.base_url, timeout=20)
        self.app = f"{BASE}/app/{live.app_id}"

    def close(self) -> None:
        self.http.close()

    def login_raw(self, provider: str, body: dict[str, Any],
                  link_token: str | None = None) -> httpx.Response:
        url = f"{self.app}/auth/providers/{provider}/login"
        if link_token is not None:
            return self.http.post(url + "?link=true", json={**body, **DEVICE},
                                  headers=bearer(link_token))
        return self.http.post(url, json={**body, **DEVICE})

    def login(self, provider: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.login_raw(provider, body)
        assert resp.status_code == 200, resp.text
        session: dict[str, Any] = resp.json()
        return session

    def anonymous(self) -> dict[str, Any]:
        return self.login("anon-user", {})

    def email_user(self, email: str, password: str = "p4ssword!") -> dict[str, Any]:
        resp = self.http.post(f"{self.app}/auth/providers/local-userpass/register",
                              json={"email": email, "password": password})
        assert resp.status_code in (200, 201, 204), resp.text
        return self.login("local-userpass", {"username": email, "password": password})

    def profile(self, access_token: str) -> dict[str, Any]:
        resp = self.http.get(f"{BASE}/auth/profile", headers=bearer(access_token))
        assert resp.status_code == 200, resp.text
        profile: dict[str, Any] = resp.json()
        return profile

    def refresh(self, refresh_token: str) -> str:
        resp = self.http.post(f"{BASE}/auth/session", headers=bearer(refresh_token))
        assert resp.status_code == 201, resp.text
        return str(resp.json()["access_token"])

    def call_raw(self, access_token: str, name: str, *args: Any, **extra: Any) -> httpx.Response:
        return self.http.post(f"{self.app}/functions/call", headers=bearer(access_token),
                              json={"name": name, "arguments": list(args), **extra})

    def call(self, access_token: str, name: str, *args: Any) -> Any:
        resp = self.call_raw(access_token, name, *args)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "application/json"
        return resp.json()


def run_admin(live: Any, *args: str,
              config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python serve.py <args>`` on a live server's data dir and database (and its config)."""
    settings = live.settings
    config = config or settings.config_path
    cmd = [sys.executable, str(REPO / "serve.py"), "--config", str(config),
           "--data-dir", str(settings.data_dir), "--database", settings.database_url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)
