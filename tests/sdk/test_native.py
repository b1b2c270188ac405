"""Tier (c): the CPython adapters (urllib transport, file storage, ``make_app``) over loopback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from app.sdk import App, AppError, Credentials, ErrorCode, Request, UserState
from app.sdk.adapters.native import FileStorage, UrllibTransport, make_app

from .helpers import SpyTransport
from .runner import run


def test_make_app_with_file_storage_survives_a_restart(live_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "session.json"

    async def first_run() -> tuple[str, str | None]:
        app = make_app(live_server.app_id, live_server.base_url, FileStorage(path))
        user = await app.log_in(Credentials.anonymous())
        return user.id, user.refresh_token

    async def second_run() -> None:
        app = make_app(live_server.app_id, live_server.base_url, FileStorage(path))
        user = app.current_user
        assert user is not None and (user.id, user.refresh_token) == (uid, refresh)
        assert user.state is UserState.LOGGED_IN
        await user.refresh_profile()
        assert [i.provider_type for i in user.identities] == ["anon-user"]

    uid, refresh = run(first_run())
    run(second_run())


def test_make_app_defaults_to_a_fresh_memory_storage(live_server: Any) -> None:
    first = make_app(live_server.app_id, live_server.base_url)
    user = run(first.log_in(Credentials.anonymous()))
    assert first.current_user is user and first.base_url == live_server.base_url
    assert make_app(live_server.app_id, live_server.base_url).all_users == []


def test_http_errors_are_responses_not_exceptions(live_server: Any) -> None:
    url = f"{live_server.base_url}/api/client/v2.0/auth/profile"
    response = run(UrllibTransport(use_env_proxies=False).send(Request("GET", url)))
    assert response.status == 401 and response.content_type == "application/json"
    assert response.json()["error_code"] in {"MissingAuthReq", "InvalidSession"}


def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spy = SpyTransport(UrllibTransport(timeout=5, use_env_proxies=False))
    app = App("latchkey-demo", base_url=f"http://127.0.0.1:{port}", transport=spy)
    with pytest.raises(AppError) as info:
        run(app.log_in(Credentials.anonymous()))
    assert (info.value.code, info.value.status) == (ErrorCode.NETWORK_ERROR, 0)
    assert spy.count("GET", "/location") == 1 and spy.responses == []


def test_a_redirect_to_another_origin_does_not_carry_the_token() -> None:
    # Found in review: urllib copies Authorization to any redirect target, so a redirect to
    # another host handed it the bearer token; fetch (realm-web, the browser adapter) drops it.
    import http.server
    import threading

    seen: dict[str, str | None] = {}

    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen[self.path] = self.headers.get("Authorization")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    elsewhere = f"http://127.0.0.1:{other.server_address[1]}"

    class Redirector(Target):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/same":
                return super().do_GET()
            where = "/same" if self.path == "/here" else f"{elsewhere}/away"
            self.send_response(302)
            self.send_header("Location", where)
            self.end_headers()

    first = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    for server in (first, other):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{first.server_address[1]}"
        transport = UrllibTransport(use_env_proxies=False)
        auth = {"Authorization": "Bearer secret-token"}
        for path in ("/here", "/there"):
            reply = run(transport.send(Request("GET", origin + path, auth, None)))
            assert reply.status == 200
    finally:
        for server in (first, other):
            server.shutdown()
            server.server_close()
    assert seen == {"/same": "Bearer secret-token", "/away": None}
