"""What a function starts goes with its worker (found by attacking a running server): processes a
function forked or spawned outlived the worker that was killed for its time limit, the worker
that ended itself, and the server that stopped, and a daemon (``os.setsid``, double fork) outlived
everything. Each worker now leads a process group, which is killed with it, and the fork server
is the subreaper that kills whatever is orphaned below it."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer

from .auth_helpers import LiveApi, assert_error
from .processes import alive, gone_within

FUNCTIONS = textwrap.dedent('''
    import os, subprocess, sys, time

    def _child():
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]).pid

    def start_child(context):
        return _child()

    def child_then_spin(context, path):
        with open(path, "w") as out:
            out.write(str(_child()))
        while True:
            pass

    def forks_then_exits(context, path):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        with open(path, "w") as out:
            out.write(str(pid))
        os._exit(4)

    def daemon(context, path):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                with open(path, "w") as out:
                    out.write(str(os.getpid()))
                time.sleep(60)
            os._exit(0)
        os.waitpid(pid, 0)
        return "started"
''')


@pytest.fixture
def start(tmp_path: Path, server_factory: Callable[..., LiveServer]
          ) -> Iterator[Callable[[], tuple[LiveServer, LiveApi, str]]]:
    module = tmp_path / "forking_functions.py"
    module.write_text(FUNCTIONS)
    opened: list[LiveApi] = []

    def go() -> tuple[LiveServer, LiveApi, str]:
        live = server_factory({"functions": str(module), "function_time_limit_seconds": 3})
        wire = LiveApi(live)
        opened.append(wire)
        return live, wire, str(wire.anonymous()["access_token"])

    yield go
    for wire in opened:
        wire.close()


def test_a_timed_out_function_takes_its_children_along(start, tmp_path: Path) -> None:
    _, wire, token = start()
    note = tmp_path / "child.pid"
    assert_error(wire.call_raw(token, "child_then_spin", str(note)), 400,
                 "ExecutionTimeLimitExceeded")
    assert gone_within(int(note.read_text()), 5)


def test_a_worker_that_ends_itself_takes_its_children_along(start, tmp_path: Path) -> None:
    _, wire, token = start()
    note = tmp_path / "fork.pid"
    assert_error(wire.call_raw(token, "forks_then_exits", str(note)), 400,
                 "FunctionExecutionError", "the function ended its worker process (exit code 4)")
    assert gone_within(int(note.read_text()), 5)


def test_children_go_when_the_server_stops(start) -> None:
    live, wire, token = start()
    child = int(wire.call(token, "start_child")["$numberInt"])
    assert alive(child)
    wire.close()
    live.stop()
    assert gone_within(child, 5)


def test_a_daemon_a_function_starts_is_killed(start, tmp_path: Path) -> None:
    _, wire, token = start()
    note = tmp_path / "daemon.pid"
    assert wire.call(token, "daemon", str(note)) == "started"
    deadline = time.monotonic() + 5
    while not note.exists() or not note.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert gone_within(int(note.read_text()), 5)
