"""Clients at several addresses, for the per-address limits, against one real in-process server.

A trusted proxy tells the server who the client is (``serve.py --forwarded-allow-ips`` takes it
from ``X-Forwarded-For``); here one ASGI middleware does the same from a test header, so that one
in-process server sees requests from as many addresses as a test wants. Only the ASGI scope's
``client`` changes: the server, its store and its limits are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from server import create_app
from tests.conftest import make_settings

from .helpers import Api

HEADER = "x-test-client-address"


class ClientFromHeader:
    """Set the ASGI scope's client address from the test header, as a trusted proxy would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 50000)}
        await self.app(scope, receive, send)


class From:
    """The test client as seen from one address (everything else passes through)."""

    def __init__(self, http: TestClient, address: str) -> None:
        self.http = http
        self.address = address

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)

    def request(self, method: str, url: str, **kw: Any) -> Any:
        kw["headers"] = {**(kw.get("headers") or {}), HEADER: self.address}
        return self.http.request(method, url, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)


Clients = Callable[[str], Api]


def open_clients(tmp_path: Path) -> Iterator[Callable[..., Clients]]:
    """For a fixture: ``factory(overrides)`` starts a server and returns an ``Api`` maker per
    address; the servers stop when the fixture ends."""
    opened: list[TestClient] = []

    def factory(overrides: dict[str, Any] | None = None) -> Clients:
        app = create_app(make_settings(tmp_path / f"app{len(opened)}", overrides))
        app.add_middleware(ClientFromHeader)
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        opened.append(client)
        return lambda address: Api(From(client, address))

    yield factory
    for client in reversed(opened):
        client.__exit__(None, None, None)
