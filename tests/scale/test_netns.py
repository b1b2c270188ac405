"""Two machines, simulated: network namespaces, each with ``serve.py --workers 2`` behind nginx
with ``deploy/nginx.conf``, on one shared PostgreSQL (issue 15).

Each "machine" is a network namespace of its own (``ip netns``) with its own loopback, where its
server listens, and one veth link to the test's namespace with an address of its own
(10.N.1.2 and 10.N.2.2), where its nginx listens. The machines reach PostgreSQL through a small
relay on the test's ends of their links, so all traffic stays on this host and inside these
links. What a deployment on two machines must get right:

- a login on one machine is refreshed on the other;
- a session revoked on one machine is refused on the other within a second;
- a kill -9 of every process of one machine loses no write that machine acknowledged and no
  session of the other.

Skipped with the reason where network namespaces cannot be made (not root, no ``ip``, no
nginx, a container without the capability) or PostgreSQL is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.postgres_fixture import PostgresServer

from .cluster import (
    API,
    APP_ID,
    UNLIMITED,
    Nginx,
    ServeProcess,
    nginx_binary,
    spawn,
    write_config,
)

ANON = f"{API}/app/{APP_ID}/auth/providers/anon-user/login"
DEVICE = {"options": {"device": {"appId": APP_ID, "platform": "test"}}}


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15)


def _why_not() -> str | None:
    """Why this host cannot make network namespaces, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if nginx_binary() is None:
        return "nginx is not installed (scripts/setup test installs it)"
    probe = f"lkprobe{os.getpid()}"
    try:
        made = _ip("netns", "add", probe)
    except OSError:
        return "the ip command (iproute2) is not installed"
    if made.returncode != 0:
        return f"ip netns add is not allowed here: {made.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


class Relay:
    """TCP relay from addresses of the test's namespace to PostgreSQL (one thread per way)."""

    def __init__(self, hosts: list[str], target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._servers: list[socket.socket] = []
        self._open: set[socket.socket] = set()
        for host in hosts:
            server = socket.create_server((host, self.port))
            self.port = server.getsockname()[1]
            self._servers.append(server)
            threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            upstream.settimeout(None)
            self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        for sock in [*self._servers, *self._open]:
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class Machine:
    """One simulated machine: its namespace, its server and its nginx."""

    netns: str
    address: str
    server: ServeProcess
    nginx: Nginx

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.nginx.base_url, timeout=20)

    def kill_everything(self) -> None:
        """SIGKILL every process of the namespace at once, as when the machine dies."""
        pids = _ip("netns", "pids", self.netns).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        for proc in (self.server.proc, self.nginx.proc):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


def _wait_ready(machine: Machine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    url = f"{machine.nginx.base_url}{API}/app/{APP_ID}/location"
    while time.monotonic() < deadline:
        if machine.server.proc.poll() is not None:
            raise RuntimeError(f"{machine.netns}: serve.py exited:\n"
                               f"{machine.server.output()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    log = "\n".join(line for line in machine.server.output().splitlines()
                    if not line.startswith("INFO:"))
    raise RuntimeError(f"{machine.netns} did not start:\n{log[-3000:]}")


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Machine]]:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    pg = PostgresServer.start()
    if pg is None:
        pytest.skip("PostgreSQL is not available (TEST_DATABASE_URL or Debian's postgresql)")
    tmp = tmp_path_factory.mktemp("netns")
    tag = f"{os.getpid() % 100000}{uuid.uuid4().hex[:3]}"
    net = 20 + os.getpid() % 200
    made: list[str] = []
    relay: Relay | None = None
    group: list[Machine] = []
    try:
        for i in (1, 2):
            ns, outer, inner = f"lk{tag}m{i}", f"lk{tag}o{i}", f"lk{tag}i{i}"
            for cmd in (("netns", "add", ns), ("link", "add", outer, "type", "veth", "peer",
                                               "name", inner, "netns", ns),
                        ("addr", "add", f"10.{net}.{i}.1/24", "dev", outer),
                        ("link", "set", outer, "up"),
                        ("-n", ns, "addr", "add", f"10.{net}.{i}.2/24", "dev", inner),
                        ("-n", ns, "link", "set", inner, "up"),
                        ("-n", ns, "link", "set", "lo", "up")):
                done = _ip(*cmd)
                if cmd[:2] == ("netns", "add") and done.returncode == 0:
                    made.append(ns)
                assert done.returncode == 0, f"ip {' '.join(cmd)}: {done.stderr}"
        url = urlsplit(pg.fresh_url())
        relay = Relay([f"10.{net}.{i}.1" for i in (1, 2)], (url.hostname or "127.0.0.1",
                                                             url.port or 5432))
        config = write_config(tmp / "config.toml", UNLIMITED)
        for i, ns in enumerate(made, start=1):
            user = url.username or ""
            if url.password:
                user += f":{url.password}"
            user += "@" if user else ""
            db_url = urlunsplit(url._replace(netloc=f"{user}10.{net}.{i}.1:{relay.port}"))
            wrap = ("ip", "netns", "exec", ns)
            server = spawn(ns, tmp, db_url, config, "--workers", "2",
                           "--forwarded-allow-ips", "127.0.0.1", port=8000, wrap=wrap)
            nginx = Nginx(tmp, [8000], host=f"10.{net}.{i}.2", wrap=wrap)
            group.append(Machine(ns, f"10.{net}.{i}.2", server, nginx))
        for machine in group:
            _wait_ready(machine)
        yield group
    finally:
        for machine in group:
            machine.kill_everything()
        for ns in made:
            _ip("netns", "del", ns)  # Takes its end of the veth link, and so the link, along.
        if relay is not None:
            relay.close()
        pg.stop()


def _login(http: httpx.Client) -> dict[str, str]:
    answer = http.post(ANON, json=DEVICE)
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_login_on_one_machine_is_refreshed_on_the_other(machines: list[Machine]) -> None:
    a, b = machines
    with a.client() as on_a, b.client() as on_b:
        tokens = _login(on_a)
        refreshed = on_b.post(f"{API}/auth/session", headers=_bearer(tokens["refresh_token"]))
        assert refreshed.status_code == 201, refreshed.text
        profile = on_b.get(f"{API}/auth/profile",
                           headers=_bearer(refreshed.json()["access_token"]))
        assert profile.status_code == 200 and profile.json()["user_id"] == tokens["user_id"]


def test_a_session_revoked_on_one_machine_is_refused_on_the_other(
    machines: list[Machine],
) -> None:
    a, b = machines
    with a.client() as on_a, b.client() as on_b:
        tokens = _login(on_b)
        access = _bearer(tokens["access_token"])
        assert on_b.get(f"{API}/auth/profile", headers=access).status_code == 200
        out = on_a.delete(f"{API}/auth/session", headers=_bearer(tokens["refresh_token"]))
        assert out.status_code == 204, out.text
        revoked = time.monotonic()
        while True:  # Every process of the other machine, within a second.
            answers = [on_b.get(f"{API}/auth/profile", headers=access).status_code
                       for _ in range(4)]
            if set(answers) == {401}:
                break
            assert time.monotonic() - revoked < 1.0, answers
        refresh = on_b.post(f"{API}/auth/session", headers=_bearer(tokens["refresh_token"]))
        assert refresh.status_code == 401


def test_killing_one_machine_loses_no_acknowledged_write_and_no_session_of_the_other(
    machines: list[Machine],
) -> None:
    a, b = machines
    with b.client() as on_b:
        theirs = [_login(on_b) for _ in range(5)]
    acknowledged: list[dict[str, str]] = []
    stop = threading.Event()

    def load() -> None:  # Logins on A until it dies: every 200 is an acknowledged write.
        with a.client() as on_a:
            while not stop.is_set():
                try:
                    acknowledged.append(_login(on_a))
                except (httpx.HTTPError, AssertionError):
                    return

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    a.kill_everything()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 12, "machine A acknowledged too few logins before the kill"
    with b.client() as on_b:
        for tokens in [*acknowledged, *theirs]:
            answer = on_b.post(f"{API}/auth/session", headers=_bearer(tokens["refresh_token"]))
            assert answer.status_code == 201, (tokens["user_id"], answer.text)
