"""Helpers for the server tests: wire paths, assertions on the wire rules, and a tiny API driver.

``Api`` drives either the in-process ``TestClient`` or an ``httpx.Client`` on a live server (they
share one interface), so a scenario reads the same in both tiers. Nothing here fakes the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.sdk import routes

APP_ID = "latchkey-demo"
PASSWORD = "correct horse"
FUNCTIONS = Path(__file__).with_name("app_functions.py")


def userpass(action: str, app_id: str = APP_ID) -> str:
    return routes.userpass(app_id, action)


def userpass_overrides(**options: Any) -> dict[str, Any]:
    """Config overrides of the email/password provider options."""
    return {"providers": {"local-userpass": options}}


def auth(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def assert_error(resp: Any, status: int, code: str, text: str | None = None, *,
                 contains: str | None = None) -> dict[str, Any]:
    """The response is an error in the wire shape (protocol 1.6), with this status and code."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("content-type") == "application/json", resp.headers
    body = resp.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert body.get("error_code") == code, body
    assert isinstance(body.get("link"), str) and body["link"], body
    if text is not None:
        assert body["error"] == text, body
    if contains is not None:
        assert contains in body["error"], body
    return body


def assert_empty(resp: Any, status: int = 204) -> None:
    """A bodiless success: no Content-Type at all (protocol 1.5)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert "content-type" not in resp.headers, resp.headers
    assert resp.content == b""


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, without verification (as clients read it)."""
    parts = token.split(".")
    assert len(parts) == 3, token
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload))
    return value


def hs256(payload: dict[str, Any], key: str) -> str:
    """A JWT signed with any key (PyJWT warns about short ones), for forged tokens."""
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(payload).encode())
    sig = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(sig)}"


def mail_tokens(body: str) -> dict[str, str]:
    """The ``token`` and ``tokenId`` of the link in a message body."""
    match = re.search(r"\S*\?\S*token=\S+", body)
    assert match, body
    query = parse_qs(urlsplit(match.group(0)).query)
    return {"token": query["token"][0], "tokenId": query["tokenId"][0]}


def read_outbox(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def dump_database(database_url: str) -> str:
    """Every row of every table of a test database as text, on SQLite or PostgreSQL alike."""
    if database_url.startswith("sqlite:"):
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:"))
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url) as pg:
        tables = [t for (t,) in pg.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name")]
        return "\n".join(f"{table}: {row}" for table in tables
                         for row in pg.execute(sql.SQL("SELECT * FROM {}").format(
                             sql.Identifier(table))))


class Api:
    """The client API over a ``TestClient`` or an ``httpx.Client`` whose base URL is the server."""

    def __init__(self, http: Any, app_id: str = APP_ID) -> None:
        self.http = http
        self.app_id = app_id

    @property
    def services(self) -> Any:
        """The running server's services (in-process clients only)."""
        return self.http.app.state.services

    def run(self, fn: Any, *args: Any) -> Any:
        """Run a coroutine function on the in-process server's event loop."""
        return self.http.portal.call(fn, *args)

    @property
    def data_dir(self) -> Path:
        return Path(self.services.settings.data_dir)

    def outbox(self) -> list[dict[str, Any]]:
        return read_outbox(self.data_dir)

    def last_mail_tokens(self, to: str) -> dict[str, str]:
        mails = [m for m in self.outbox() if m["to"] == to]
        assert mails, f"no mail to {to}"
        return mail_tokens(mails[-1]["body"])

    def location(self) -> Any:
        return self.http.get(routes.location(self.app_id))

    def login(self, provider: str, body: dict[str, Any], *, link_token: str | None = None) -> Any:
        path = routes.login(self.app_id, provider, link=link_token is not None)
        return self.http.post(path, json=body, headers=auth(link_token))

    def anon(self, device: dict[str, Any] | None = None) -> Any:
        return self.login(routes.ANON_USER, {"options": {"device": device or {}}})

    def anon_ok(self) -> dict[str, str]:
        resp = self.anon()
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def register(self, email: str, password: str = PASSWORD) -> Any:
        return self.http.post(userpass("register", self.app_id),
                              json={"email": email, "password": password})

    def log_in(self, email: str, password: str = PASSWORD, **kw: Any) -> Any:
        body = {"username": email, "password": password, "options": {"device": {}}}
        return self.login(routes.LOCAL_USERPASS, body, **kw)

    def log_in_ok(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        resp = self.log_in(email, password)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def user(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Register (automatic confirmation) and log in."""
        resp = self.register(email, password)
        assert resp.status_code == 201, resp.text
        return self.log_in_ok(email, password)

    def action(self, action: str, body: dict[str, Any]) -> Any:
        return self.http.post(userpass(action, self.app_id), json=body)

    def profile(self, token: str | None) -> Any:
        return self.http.get(routes.profile(), headers=auth(token))

    def refresh(self, token: str | None) -> Any:
        return self.http.post(routes.session(), headers=auth(token))

    def log_out(self, token: str | None) -> Any:
        return self.http.delete(routes.session(), headers=auth(token))

    def delete_user(self, token: str | None) -> Any:
        return self.http.delete(routes.delete_user(), headers=auth(token))
