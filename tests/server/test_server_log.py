"""The plain (not JSON) server log of a real ``serve.py`` holds Latchkey's own INFO lines.

Found in review: a JavaScript function's ``console.log`` ("one line per call in the server
log", logger ``latchkey.functions``) reached the log only with ``--log-json``; without it the
``latchkey`` loggers had no handler, and Python drops INFO records that have none.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import database_url_for

REPO = Path(__file__).resolve().parents[2]
APP = """app_id = "logged"
[providers.anon-user]
enabled = true
[js_functions.add]
source = "add.js"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(check: object, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen within {seconds} s:\n{log.read_text()[-3000:]}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_console_log_of_a_function_is_in_the_plain_server_log(tmp_path: Path) -> None:
    config = tmp_path / "app.toml"
    config.write_text(APP)
    (tmp_path / "add.js").write_text((REPO / "tests/server/js_app/add.js").read_text())
    port, log = _free_port(), tmp_path / "serve.log"
    cmd = [sys.executable, str(REPO / "serve.py"), "--config", str(config), "--port", str(port),
           "--data-dir", str(tmp_path / "data"), "--database", database_url_for(tmp_path / "data")]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        app = f"http://127.0.0.1:{port}/api/client/v2.0/app/logged"
        _until(lambda: _answers(f"{app}/location"), 40, log)
        login = httpx.post(f"{app}/auth/providers/anon-user/login", json={})
        token = login.json()["access_token"]
        called = httpx.post(f"{app}/functions/call", json={"name": "add", "arguments": [2, 3]},
                            headers={"Authorization": f"Bearer {token}"})
        assert called.json() == {"$numberInt": "5"}
        _until(lambda: "function add: adding 2 and 3" in log.read_text(), 10, log)
        assert "INFO:" in log.read_text()  # uvicorn's own plain lines are still there.
        # The access log is batched (observability/batched_log.py): its lines still arrive.
        _until(lambda: '"POST /api/client/v2.0/app/logged/functions/call HTTP/1.1" 200'
               in log.read_text(), 5, log)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_with_log_json_every_line_is_json(tmp_path: Path) -> None:
    # Review finding C: serve.py's own lines (where it serves, the open-files limit, the
    # warning about a wildcard address) and the mailer's outbox line were plain text.
    import json

    port, log = _free_port(), tmp_path / "serve.log"
    cmd = [sys.executable, str(REPO / "serve.py"), "--log-json", "--host", "0.0.0.0",
           "--port", str(port), "--data-dir", str(tmp_path / "data"),
           "--database", database_url_for(tmp_path / "data")]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        app = f"http://127.0.0.1:{port}/api/client/v2.0/app/latchkey-demo"
        _until(lambda: _answers(f"{app}/location"), 40, log)
        userpass = f"{app}/auth/providers/local-userpass"
        assert httpx.post(f"{userpass}/register", json={"email": "j@example.com",
                                                       "password": "correct horse"}).is_success
        assert httpx.post(f"{userpass}/reset/send", json={"email": "j@example.com"}).is_success
        _until(lambda: "link withheld" in log.read_text(), 10, log)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    for text in ("Latchkey is serving", "Open files limit", "listening on every address",
                 "mail to 'j@example.com'"):
        assert any(text in m for m in messages), (text, messages)
    assert any(line["level"] == "warning" and "every address" in line["message"]
               for line in lines)
