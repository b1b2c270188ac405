"""What a bare ``serve.py`` answers before the app sees a request (found by attacking a running
server): bytes that are not HTTP got uvicorn's ``text/plain`` 400, and the 408 for a late client
linked to a relative address. Both are now the error JSON with a link on this server. A client
that hung up in the middle of its body was logged as an unexpected server failure."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_STORE
from tests.scale.cluster import ServeProcess, spawn, wait_ready, write_config

pytestmark = pytest.mark.skipif(TEST_STORE != "sqlite", reason="store-independent")

BAD = [
    b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{} ",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32),  # A TLS hello on the HTTP port.
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("http")
    config = write_config(tmp / "config.toml", {"security": {"header_timeout_seconds": 1}})
    process = spawn("http", tmp, f"sqlite:{tmp / 'store.sqlite3'}", config)
    try:
        wait_ready(process)
        yield process
    finally:
        process.stop()


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _error(answer: bytes, status: int, port: int) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), answer
    assert "content-type: application/json" in [line.lower() for line in lines], answer
    error = json.loads(body)
    assert set(error) == {"error", "error_code", "link"}, error
    assert error["error_code"] == "BadRequest"
    assert error["link"] == f"http://127.0.0.1:{port}/docs/errors#BadRequest"


@pytest.mark.parametrize("data", BAD)
def test_bytes_that_are_not_http_get_the_error_json(server: ServeProcess, data: bytes) -> None:
    _error(_exchange(server.port, data), 400, server.port)


def test_a_late_client_gets_the_error_json_with_an_absolute_link(server: ServeProcess) -> None:
    _error(_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n"), 408, server.port)


def test_a_client_that_hangs_up_mid_body_is_no_server_failure(server: ServeProcess) -> None:
    login = "/api/client/v2.0/app/latchkey-demo/auth/providers/anon-user/login"
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(f"POST {login} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                         "\r\nContent-Length: 100\r\n\r\n{".encode())
            time.sleep(0.2)
    time.sleep(0.5)
    _exchange(server.port, b"GET /docs/errors HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert "unexpected" not in server.output(), server.output()[-2000:]


def test_access_log_lines_stay_short() -> None:
    from server.asgi import MAX_LOGGED_PATH, DropQueryStrings

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/x" + "a" * 60_000 + "?q=1", "1.1", 404),
                               None)
    assert DropQueryStrings().filter(record)
    assert len(record.getMessage()) < MAX_LOGGED_PATH + 100
