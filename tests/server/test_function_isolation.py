"""Functions run in worker processes: one that spins, hangs, eats memory, exits or answers too
much is stopped with the documented error, and the server goes on serving everybody else at
normal speed (issue 16, item 9). Also: BSON types round-trip through functions and custom data
exactly (item 15)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

from .auth_helpers import LiveApi, assert_error, bearer
from .processes import gone_within

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
LIMIT = 3.0  # Generous: under a loaded CI machine a fresh worker filling 160 MiB can take a second.
SETTINGS = {"functions": str(FUNCTIONS), "function_time_limit_seconds": LIMIT,
            "function_memory_limit_mib": 160, "function_result_limit_kib": 64,
            "providers": {"custom-function": {"enabled": True, "function_name": "auth_string"}}}


@pytest.fixture
def wire(server_factory: Callable[..., LiveServer]) -> Iterator[LiveApi]:
    client = LiveApi(server_factory(SETTINGS))
    yield client
    client.close()


@pytest.fixture
def token(wire: LiveApi) -> str:
    return str(wire.anonymous()["access_token"])


def _pid(wire: LiveApi, token: str) -> int:
    return int(wire.call(token, "pid")["$numberInt"])


def _still_serving(wire: LiveApi, token: str) -> None:
    began = time.monotonic()
    assert wire.call(token, "echo", "still here") == ["still here"]
    assert wire.login("custom-function", {"user": "someone"})["user_id"]
    assert wire.anonymous()["user_id"]
    assert time.monotonic() - began < 5  # Generous: a worker may have to start first.


@pytest.mark.parametrize("name", ["spin_forever", "async_spin_forever"])
def test_endless_loops_are_stopped(wire: LiveApi, token: str, name: str) -> None:
    worker = _pid(wire, token)
    began = time.monotonic()
    assert_error(wire.call_raw(token, name), 400, "ExecutionTimeLimitExceeded",
                 f"function exceeded its time limit of {LIMIT:g} s")
    assert time.monotonic() - began < LIMIT + 3
    _still_serving(wire, token)
    assert gone_within(worker, 5), "the spinning worker was killed, not left to spin on"


def test_a_memory_hog_gets_a_clear_error(wire: LiveApi, token: str) -> None:
    began = time.monotonic()
    assert_error(wire.call_raw(token, "hog"), 400, "FunctionExecutionError",
                 "function exceeded its memory limit of 160 MiB")
    assert time.monotonic() - began < LIMIT
    _still_serving(wire, token)


def test_a_function_that_ends_its_process(wire: LiveApi, token: str) -> None:
    assert_error(wire.call_raw(token, "hard_exit", 3), 400, "FunctionExecutionError",
                 "the function ended its worker process (exit code 3)")
    assert_error(wire.call_raw(token, "exits"), 400, "FunctionExecutionError",
                 "function raised SystemExit")
    _still_serving(wire, token)


def test_results_have_a_size_limit(wire: LiveApi, token: str) -> None:
    assert len(wire.call(token, "big_result", 60_000)) == 60_000
    assert_error(wire.call_raw(token, "big_result", 70_000), 400, "FunctionExecutionError",
                 "the function's result is larger than the limit of 65536 bytes")
    _still_serving(wire, token)


def test_spinning_calls_cost_the_others_nothing(server_factory: Callable[..., LiveServer]) -> None:
    limit = 4.0
    wire = LiveApi(server_factory({**SETTINGS, "function_time_limit_seconds": limit}))
    token = wire.anonymous()["access_token"]

    async def scenario() -> tuple[list[int], list[int], float, bool]:
        base = str(wire.http.base_url).rstrip("/") + wire.app
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            async def call(name: str, *args: Any) -> int:
                resp = await http.post("/functions/call", headers=bearer(token),
                                       json={"name": name, "arguments": list(args)})
                return resp.status_code

            async def login(n: int) -> int:
                resp = await http.post("/auth/providers/custom-function/login",
                                       json={"user": f"user-{n}"})
                return resp.status_code

            spinners = [asyncio.create_task(call("spin_forever")) for _ in range(20)]
            await asyncio.sleep(1.0)  # The spinners hold their workers now.
            began = time.monotonic()
            normal = await asyncio.gather(*(call("echo", i) for i in range(20)),
                                          *(login(i) for i in range(5)))
            took = time.monotonic() - began
            spinning = not any(task.done() for task in spinners)
            return list(await asyncio.gather(*spinners)), list(normal), took, spinning

    try:
        spun, normal, took, spinning = asyncio.run(scenario())
    finally:
        wire.close()
    assert normal == [200] * 25
    assert spinning and took < limit - 1.0, "normal calls waited for the spinning ones"
    assert spun == [400] * 20


def test_workers_stop_with_the_server(server_factory: Callable[..., LiveServer]) -> None:
    live = server_factory(SETTINGS)
    wire = LiveApi(live)
    token = wire.anonymous()["access_token"]
    idle = _pid(wire, token)
    wire.close()
    live.stop()
    assert gone_within(idle, 5)


def test_workers_die_with_a_killed_server(tmp_path: Path) -> None:
    # A worker busy in an endless loop reads no end of file; PR_SET_PDEATHSIG stops it.
    script = textwrap.dedent(f"""
        import asyncio, os, signal
        from pathlib import Path
        from server.runtime import FunctionRuntime

        class Context:
            app_id, user = "app", None

        async def main():
            runtime = FunctionRuntime(Path({str(FUNCTIONS)!r}), time_limit=60)
            print(await runtime.call("pid", [], Context(), public=False), flush=True)
            asyncio.create_task(runtime.call("spin_forever", [], Context()))
            await asyncio.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    first = int(json.loads(proc.stdout.splitlines()[0])["$numberInt"])
    assert gone_within(first, 5)


# Item 15: types round-trip exactly.

EXACT = [
    {"$numberLong": "5"}, {"$numberLong": "-7"}, {"$numberInt": "5"},
    {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==", "subType": "04"}},
    {"$binary": {"base64": "AAE=", "subType": "00"}},
    {"$binary": {"base64": "AAE=", "subType": "80"}},
    {"$numberDecimal": "1.10"}, {"$numberDouble": "2.0"}, {"$numberDouble": "-0.0"},
    {"$oid": "65a0c0ffee0000000000aaaa"}, {"$date": {"$numberLong": "1704164645006"}},
    {"nested": [{"$numberLong": "1"}, {"deep": {"$binary": {"base64": "AAECAwQFBgcICQoLDA0ODw==",
                                                           "subType": "04"}}}]},
]


def test_bson_types_round_trip_through_functions(wire: LiveApi, token: str) -> None:
    assert wire.call(token, "echo", *EXACT) == EXACT
    assert wire.call(token, "types", *EXACT[:4]) == ["Int64", "Int64", "int", "Binary"]


def test_bson_types_round_trip_through_custom_data(
        server_factory: Callable[..., LiveServer]) -> None:
    wire = LiveApi(server_factory({**SETTINGS, "custom_user_data": {"enabled": True}}))
    try:
        token = wire.anonymous()["access_token"]
        doc = {f"v{i}": value for i, value in enumerate(EXACT)}
        assert wire.call(token, "set_custom", doc) is None
        stored = wire.call(token, "get_custom")
        assert {k: v for k, v in stored.items() if k.startswith("v")} == doc
    finally:
        wire.close()


def test_a_module_that_fails_to_load(server_factory: Callable[..., LiveServer],
                                     tmp_path: Path) -> None:
    module = tmp_path / "broken_functions.py"
    module.write_text("raise RuntimeError('no database here')\n")
    wire = LiveApi(server_factory({"functions": str(module)}))
    try:
        token = wire.anonymous()["access_token"]
        for _ in range(2):  # The second call fails at once, without another worker.
            assert_error(wire.call_raw(token, "anything"), 400, "FunctionExecutionError",
                         "the functions module cannot be loaded: RuntimeError: no database here")
        assert wire.anonymous()["user_id"]
    finally:
        wire.close()


def test_a_module_that_does_not_compile_stops_the_start(tmp_path: Path) -> None:
    from server.runtime import FunctionRuntime

    module = tmp_path / "typo_functions.py"
    module.write_text("def oops(:\n")
    with pytest.raises(ValueError, match="Cannot load the functions module"):
        FunctionRuntime(module)
