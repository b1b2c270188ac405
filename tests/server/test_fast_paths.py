"""Issue 15's fast paths below the routes: the route cache (``server/route_cache.py``) answers
as Starlette's router does, and a held answer head (``server/http_limits.py`` rule 5) leaves
with its body in one write but never waits for a slow body."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.sdk import routes
from server.http_limits import HeldHead, HttpLimits, protocol
from server.route_cache import MAX_ENTRIES, RouteCache, install

from .helpers import Api, assert_error


async def _item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "route": request.scope["route"].path})


async def _plain(request: Request) -> JSONResponse:
    return JSONResponse({"plain": True})


async def _other(request: Request) -> JSONResponse:
    return JSONResponse({"other": True})


def _app() -> Starlette:
    app = Starlette(routes=[Route("/items/{id}", _item), Route("/a", _plain),
                            Route("/a", _plain, methods=["POST"])])
    install(app.router)
    return app


def test_the_cache_answers_as_the_router_does() -> None:
    app = _app()
    with TestClient(app) as client:
        for _ in range(2):  # The second time from the cache.
            assert [client.get(f"/items/{n}").json()["id"] for n in "xyz"] == ["x", "y", "z"]
            assert client.get("/a").json() == {"plain": True}
            assert client.post("/a").json() == {"plain": True}
            assert client.delete("/a").status_code == 405
            assert client.get("/nowhere").status_code == 404
            assert client.get("/a/", follow_redirects=False).status_code == 307
        app.router.routes.insert(0, Route("/a", _other))  # A change empties the cache.
        assert client.get("/a").json() == {"other": True}
        app.router.routes.pop(0)
        assert client.get("/a").json() == {"plain": True}
        cache = app.router.middleware_stack
        assert isinstance(cache, RouteCache)
        for n in range(MAX_ENTRIES + 5):
            client.get(f"/items/{n}")
        assert len(cache._found) <= MAX_ENTRIES  # Rule 2: bounded.


def test_the_server_routes_through_the_cache(make_api: Any) -> None:
    api: Api = make_api()
    assert isinstance(api.http.app.router.middleware_stack, RouteCache)
    for _ in range(2):
        assert_error(api.http.get(routes.profile()), 401, "MissingAuthReq")
        assert api.http.put(routes.profile()).status_code == 405
        assert api.http.get("/api/client/v2.0/nowhere").status_code == 404
        assert api.anon().status_code == 200


class _Transport:
    """The socket end of the test: records what would be sent (the transport edge)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_a_held_head_goes_with_the_body_or_at_the_next_turn() -> None:
    asyncio.run(_held_head())


async def _held_head() -> None:
    loop = asyncio.get_running_loop()
    sock = _Transport()
    held = HeldHead(sock, loop)  # type: ignore[arg-type]
    held.write(b"HEAD")
    held.write(b"body")
    held.write(b"more")
    assert sock.writes == [b"HEADbody", b"more"]
    slow = _Transport()
    held = HeldHead(slow, loop)  # type: ignore[arg-type]
    held.write(b"HEAD")
    assert slow.writes == []
    await asyncio.sleep(0)  # The loop's next turn sends it alone.
    assert slow.writes == [b"HEAD"]
    closing = _Transport()
    held = HeldHead(closing, loop)  # type: ignore[arg-type]
    held.write(b"HEAD")
    held.close()
    assert (closing.writes, closing.closed) == ([b"HEAD"], True)


@pytest.fixture
def streaming_server() -> Iterator[int]:
    async def slow_body(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            await asyncio.sleep(1.0)
            yield b"late"

        return StreamingResponse(chunks(), media_type="text/plain")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(Starlette(routes=[Route("/slow", slow_body)]), host="127.0.0.1",
                            port=port, http=protocol(HttpLimits()), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def test_a_slow_body_does_not_hold_its_head(streaming_server: int) -> None:
    with socket.create_connection(("127.0.0.1", streaming_server), timeout=5) as conn:
        began = time.monotonic()
        conn.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        head = conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - began < 0.8  # Before the body's second.
