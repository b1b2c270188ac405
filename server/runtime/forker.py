"""The fork server: one small process per server process that forks function workers.

Starting a Python interpreter and importing ``bson`` costs a few hundred milliseconds; a fork of
a process that already did costs a few. So the first worker a server process needs starts this
process (``python -c BOOT``, importing only the worker's modules), and every worker after that
is a fork of it. The server never forks itself: it has threads, which ``fork`` must not copy.

Protocol, on a Unix socket pair, one request at a time (the server holds a lock):

- ``{"fork": [module, memory, result_limit, app], "env": {...}}`` with two file descriptors (the
  worker's ends of its pipes, sent with ``SCM_RIGHTS``) -> ``{"pid": n}``; the worker gets the
  server's environment as it is at that moment, not as it was when the fork server started;
- ``{"status": pid}`` -> ``{"code": exit code, or -signal, or null while it runs}``.

The fork server reaps its children and exits at end of file on its socket (the server process
is gone); workers have ``PR_SET_PDEATHSIG`` set against it, so they go too.

Each worker leads its own process group, so that what a function starts (``subprocess``,
``os.fork``) goes with it: the server kills a worker's whole group, the fork server kills the
group of every worker it reaps, and at end of file those of its live workers. The fork server
is also the subreaper of everything below it (``PR_SET_CHILD_SUBREAPER``): a process whose
parent died (a daemon that left its group with ``os.setsid``, or a worker's child) becomes its
child, and it kills every child that is not a worker within a second. So nothing a function
starts outlives the worker it ran in, nor the server.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

SERVER_DIR = str(Path(__file__).resolve().parent.parent)
MAX_STATUSES = 4096
_PR_SET_CHILD_SUBREAPER = 36

# ``python -c``: importing ``server`` (or ``server.runtime``) would load the whole web stack
# (Starlette, the routes, the store drivers) into the fork server and every worker, so bare
# package objects stand in for both and only the modules a worker needs are imported.
BOOT = """
import sys, types
for name, path in (("server", sys.argv[1]), ("server.runtime", sys.argv[1] + "/runtime")):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
from server.runtime.forker import serve
serve(int(sys.argv[2]))
"""


class Forker:
    """The server's handle on its fork server (one per server process, shared by every pool)."""

    _lock = threading.Lock()
    _current: Forker | None = None

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = os.getpid()
        self._socket = ours
        self._process = subprocess.Popen(
            [sys.executable, "-c", BOOT, SERVER_DIR, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self._reader = ours.makefile("rb")

    @classmethod
    def get(cls) -> Forker:
        """This process's fork server, started on first use (blocking: call it in a thread)."""
        with cls._lock:
            current = cls._current
            if current is None or current.pid != os.getpid() or current._process.poll() is not None:
                current = cls._current = Forker()
            return current

    def _ask(self, request: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        with self._lock:
            data = json.dumps(request).encode() + b"\n"
            sent = socket.send_fds(self._socket, [data], fds) if fds else 0
            self._socket.sendall(data[sent:])
            line = self._reader.readline()
        if not line:
            raise OSError("the fork server stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def fork(self, inbox: int, outbox: int, module: str, memory: int, limit: int,
             app: str = "") -> int:
        """Start a worker on the two pipe ends; its pid."""
        request = {"fork": [module, memory, limit, app], "env": dict(os.environ)}
        return int(self._ask(request, [inbox, outbox])["pid"])

    def status(self, pid: int) -> int | None:
        """A worker's exit code (``-n`` for signal ``n``), or ``None`` while it runs."""
        code = self._ask({"status": pid}).get("code")
        return code if isinstance(code, int) else None


def serve(fd: int) -> None:
    """The fork server's loop (runs in the fork server process)."""
    from . import worker

    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers and
    # then this process (end of file), so neither needs the signal, nor prints a traceback for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # Not Linux: process groups still take a worker's children along.
    control = socket.socket(fileno=fd)
    statuses: dict[int, int] = {}
    workers: set[int] = set()
    buffer = b""
    passed: list[int] = []  # Descriptors arrive with the first bytes of their request.
    while True:
        ready, _, _ = select.select([control], [], [], 1.0)
        _reap(statuses, workers)
        _kill_strays(workers)
        if not ready:
            continue
        data, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
        if not data:
            for pid in workers:  # The server process is gone: so are its workers' groups.
                _kill_group(pid)
            _kill_strays(set())
            os._exit(0)
        buffer += data
        passed += fds
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            if "fork" in request:
                parent = os.getpid()
                pid = os.fork()
                if pid == 0:
                    os.setpgid(0, 0)
                    control.close()
                    os.environ.clear()
                    os.environ.update(request.get("env", {}))
                    code = 0
                    try:
                        worker.main(passed[0], passed[1], *request["fork"], parent=parent)
                    except BaseException:  # noqa: BLE001 (a worker never returns into this loop)
                        code = 70
                    os._exit(code)
                for child_fd in passed[:2]:
                    os.close(child_fd)
                del passed[:2]
                workers.add(pid)
                answer: dict[str, Any] = {"pid": pid}
            else:
                _reap(statuses, workers)
                answer = {"code": statuses.get(int(request["status"]))}
            control.sendall(json.dumps(answer).encode() + b"\n")


def kill_group(pid: int) -> None:
    """SIGKILL a worker and every process of its group (what its functions started)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass  # The group is empty: nothing was left behind.


def _kill_strays(workers: set[int]) -> None:
    # Children that are not workers came to this subreaper when their parent died.
    me = os.getpid()
    try:
        children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    except OSError:
        return
    for pid in map(int, children):
        if pid not in workers:
            kill_group(pid)


def _reap(statuses: dict[int, int], workers: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        # A group id is not reused while the group has members, so this reaches only what
        # the worker left behind.
        workers.discard(pid)
        _kill_group(pid)
        statuses[pid] = os.waitstatus_to_exitcode(status)
        if len(statuses) > MAX_STATUSES:
            del statuses[next(iter(statuses))]
