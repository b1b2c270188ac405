"""Real server processes for the scale-out tests: ``serve.py`` subprocesses, and nginx in front.

``start_processes(n, database_url, tmp)`` starts n ``python serve.py`` processes on free loopback
ports, each with its own data dir (as on separate machines), sharing one database; they start
together, as a deployment's do. ``Nginx`` runs Debian's nginx as a subprocess of the test with a
generated main config around ``deploy/nginx.conf``, the example config the README ships.

Every process writes its output to a log file in the test's temp dir, never to a pipe that
nobody reads; a process that fails to start fails the test with that log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.settings import DEFAULT_CONFIG, REPO_ROOT

APP_ID = "latchkey-demo"
API = "/api/client/v2.0"
PASSWORD = "password-1"
DEPLOY_NGINX = REPO_ROOT / "deploy" / "nginx.conf"
#: Login limits high enough for load from one test address; tests of the limits set their own.
UNLIMITED: dict[str, Any] = {"security": {"login_attempts_per_address": 1_000_000,
                                          "login_failures_per_account": 1_000_000,
                                          "logins_per_address": 1_000_000,
                                          "logins_per_identity": 1_000_000,
                                          "email_requests_per_address": 1_000_000,
                                          "login_slowdown_after": 1_000_000}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and \
            isinstance(out.get(key), dict) else value
    return out


def _toml(table: dict[str, Any], prefix: str = "") -> str:
    # Enough TOML for app configs: scalars and lists of scalars, and nested tables.
    lines, tables = [], []
    for key, value in table.items():
        name = json.dumps(key) if not re.fullmatch(r"[A-Za-z0-9_-]+", key) else key
        if isinstance(value, dict):
            tables.append(_toml(value, f"{prefix}{name}."))
        else:
            lines.append(f"{name} = {json.dumps(value)}")
    head = f"[{prefix[:-1]}]\n" if prefix and lines else ""
    return head + "".join(f"{line}\n" for line in lines) + "".join(tables)


def write_config(path: Path, overrides: dict[str, Any] | None = None) -> Path:
    """The demo config with TOML-shaped overrides, written to ``path`` (functions included)."""
    with DEFAULT_CONFIG.open("rb") as fh:
        raw = tomllib.load(fh)
    raw["functions"] = str(DEFAULT_CONFIG.parent / raw["functions"])
    raw = _merge(raw, {"mail": {"console": False}, **(overrides or {})})
    path.write_text(_toml(raw), encoding="utf-8")
    return path


@dataclass
class ServeProcess:
    """One ``python serve.py`` process on a loopback port."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    app_id = APP_ID

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine dies."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def spawn(name: str, tmp: Path, database_url: str, config: Path, *args: str,
          port: int | None = None, wrap: tuple[str, ...] = ()) -> ServeProcess:
    """Start ``serve.py`` without waiting for it (``wait_ready``); ``wrap`` prefixes the
    command (``ip netns exec NAME``)."""
    port = port or free_port()
    data_dir = tmp / name
    log = tmp / f"{name}.log"
    cmd = [*wrap, sys.executable, str(REPO_ROOT / "serve.py"), "--host", "127.0.0.1", "--port",
           str(port), "--data-dir", str(data_dir), "--config", str(config), "--database",
           database_url, *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return ServeProcess(name, port, proc, data_dir, log)


def wait_ready(process: ServeProcess, timeout: float = 40) -> None:
    """Wait until the process answers its location request."""
    deadline = time.monotonic() + timeout
    url = f"{process.base_url}{API}/app/{APP_ID}/location"
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"{process.name} exited ({process.proc.returncode}):\n"
                               f"{process.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{process.name} did not start in {timeout} s:\n{process.output()[-3000:]}")


def start_processes(n: int, database_url: str, tmp: Path, overrides: dict[str, Any] | None = None,
                    *args: str) -> list[ServeProcess]:
    """n server processes on one database, started together; stopped again if one fails."""
    config = write_config(tmp / f"config-{time.monotonic_ns()}.toml", overrides)
    processes = [spawn(f"p{i}-{time.monotonic_ns()}", tmp, database_url, config, *args)
                 for i in range(n)]
    try:
        for process in processes:
            wait_ready(process)
    except BaseException:
        for process in processes:
            process.stop()
        raise
    return processes


# nginx


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def render_site(upstreams: list[int], port: int, source: Path = DEPLOY_NGINX) -> str:
    """``deploy/nginx.conf`` with its listen port and upstream servers replaced.

    Each replacement must match exactly once, so a change to the shipped file's shape fails
    here instead of silently testing another config.
    """
    text = source.read_text(encoding="utf-8")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n"
                      for p in upstreams)
    text, n = re.subn(r"(upstream latchkey \{\n)(?:[ \t]*server [^;\n]+;[^\n]*\n)+",
                      lambda m: m.group(1) + servers, text)
    assert n == 1, "deploy/nginx.conf: no 'upstream latchkey' block with server lines"
    text, n = re.subn(r"^([ \t]*)listen 80;", rf"\g<1>listen 127.0.0.1:{port};", text,
                      flags=re.MULTILINE)
    assert n == 1, "deploy/nginx.conf: no 'listen 80;' line"
    return text


class Nginx:
    """nginx in the foreground with a private prefix, in front of some upstream ports."""

    def __init__(self, tmp: Path, upstreams: list[int], *, host: str = "127.0.0.1",
                 wrap: tuple[str, ...] = ()) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (scripts/setup test installs it)")
        self.prefix = tmp / f"nginx-{time.monotonic_ns()}"
        self.prefix.mkdir()
        self.host = host
        self.port = free_port()
        site = render_site(upstreams, self.port)
        (self.prefix / "latchkey.conf").write_text(
            site.replace(f"listen 127.0.0.1:{self.port};", f"listen {host}:{self.port};"))
        user = "user root;\n" if os.geteuid() == 0 else ""  # Workers must reach the prefix.
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.prefix}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    access_log {self.prefix}/access.log;\n"
            + "".join(f"    {kind}_temp_path {self.prefix}/{kind};\n"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + f"    include {self.prefix}/latchkey.conf;\n}}\n")
        base = [*wrap, binary, "-p", str(self.prefix), "-c", str(conf), "-e",
                str(self.prefix / "error.log")]
        checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.log = self.prefix / "nginx.out"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([*base, "-g", "daemon off;"], stdout=out,
                                         stderr=subprocess.STDOUT)
        self._wait()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    app_id = APP_ID

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.output()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start:\n{self.output()}")

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in
                         (self.log, self.prefix / "error.log") if p.exists())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # nginx's graceful shutdown.
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
