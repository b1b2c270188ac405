"""What the audit log and the metrics cost per request: an in-process A/B of CPU time.

``python -m benchmarks.ops_overhead [--store sqlite|postgres-url] [--rounds N]``

Two or three apps run side by side in this one process on temp stores and the same requests go
to each in alternating batches of ``BATCH`` (so a machine whose load drifts, as this shared one
does, loads every variant alike); each batch's CPU time (``time.process_time``: every thread of
the process, the SQLite writer's too) is divided by its requests and the median over rounds is
reported. Requests go straight into the ASGI app (no sockets, no HTTP parsing), so the
difference is the server's own work.

- ``login``: anonymous logins with the audit writer (an event and the session's metadata,
  batched), with ``[audit] enabled = false`` (the session's metadata only), and with no writes
  at all (the writer replaced by one that drops everything).
- ``profile``: ``GET /auth/profile`` with the metrics middleware and the timed store, and
  without both. Prometheus' multiprocess mode (mmap files, as under ``--workers N``) is on, the
  costlier of its two modes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BATCH = 200
_METRICS_DIR = tempfile.mkdtemp(prefix="latchkey-bench-metrics-")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _METRICS_DIR)

from server import create_app  # noqa: E402 (after the metrics mode is chosen)
from server.observability.metrics import TimedStore  # noqa: E402
from server.observability.middleware import Observe  # noqa: E402
from server.services import audit  # noqa: E402
from server.settings import DEFAULT_CONFIG, Settings  # noqa: E402

APP_ID = "latchkey-demo"
LOGIN = f"/api/client/v2.0/app/{APP_ID}/auth/providers/anon-user/login"
PROFILE = "/api/client/v2.0/auth/profile"

Send = Callable[[str, str, bytes, str | None], Awaitable[tuple[int, bytes]]]


def driver(app: Any) -> Send:
    async def send(method: str, path: str, body: bytes, token: str | None) -> tuple[int, bytes]:
        headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}
        sent = False
        out: dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def reply(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        await app(scope, receive, reply)
        return int(out["status"]), bytes(out["body"])

    return send


class _Drop:
    def add(self, *args: Any, **kwargs: Any) -> None:
        pass

    def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def flush(self) -> None:
        pass


flushes: dict[str, Any] = {}


async def _apps(variants: dict[str, dict[str, Any]], database: str | None,
                stack: Any) -> dict[str, Send]:
    sends = {}
    for name, overrides in variants.items():
        data = Path(tempfile.mkdtemp(prefix=f"latchkey-bench-{name}-"))
        db = database or f"sqlite:{data / 'bench.sqlite3'}"
        settings = Settings.load(DEFAULT_CONFIG, data, database_url=db,
                                 overrides={"mail": {"console": False}, "security": {
                                     "logins_per_address": 10**9,
                                     "login_attempts_per_address": 10**9},
                                     **overrides.get("config", {})})
        app = create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        services = app.state.services
        if overrides.get("no_writes"):
            services.extras["audit"] = _Drop()
        if overrides.get("no_metrics"):
            app.user_middleware = [m for m in app.user_middleware if m.cls is not Observe]
            if isinstance(services.store, TimedStore):
                services.store = services.store.unwrap()
        sends[name] = driver(app)
        flushes[name] = services
    return sends


async def _rounds(sends: dict[str, Send], make: Callable[[Send], Awaitable[None]],
                  rounds: int) -> dict[str, float]:
    cpu: dict[str, list[float]] = {name: [] for name in sends}
    for _ in range(rounds):
        for name, send in sends.items():
            start = time.process_time()
            await make(send)
            # What the batch queued is written within the batch it belongs to.
            writer = flushes[name].extras.get("audit")
            if isinstance(writer, audit.AuditWriter):
                await writer.flush()
            cpu[name].append((time.process_time() - start) / BATCH * 1e6)
    return {name: round(statistics.median(v), 1) for name, v in cpu.items()}


async def run(database: str | None, rounds: int) -> dict[str, Any]:
    from contextlib import AsyncExitStack

    body = json.dumps({"options": {"device": {}}}).encode()
    async with AsyncExitStack() as stack:
        logins = await _apps({"audit": {}, "audit_off": {"config": {"audit": {
            "enabled": False}}}, "no_writes": {"no_writes": True}}, database, stack)

        async def login_batch(send: Send) -> None:
            for _ in range(BATCH):
                status, _ = await send("POST", LOGIN, body, None)
                assert status == 200, status

        login = await _rounds(logins, login_batch, rounds)
        profiles = await _apps({"metrics": {}, "no_metrics": {"no_metrics": True}}, database,
                               stack)
        tokens = {}
        for name, send in profiles.items():
            status, raw = await send("POST", LOGIN, body, None)
            tokens[name] = json.loads(raw)["access_token"]

        def profile_batch_for(name: str) -> Callable[[Send], Awaitable[None]]:
            async def batch(send: Send) -> None:
                for _ in range(BATCH):
                    status, _ = await send("GET", PROFILE, b"", tokens[name])
                    assert status == 200, status
            return batch

        profile: dict[str, list[float]] = {name: [] for name in profiles}
        for _ in range(rounds):
            for name, send in profiles.items():
                start = time.process_time()
                await profile_batch_for(name)(send)
                profile[name].append((time.process_time() - start) / BATCH * 1e6)
    return {"cpu_us_per_login": login,
            "cpu_us_per_profile": {k: round(statistics.median(v), 1) for k, v in profile.items()},
            "batch": BATCH, "rounds": rounds, "store": "postgres" if database else "sqlite",
            "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default=None, help="a postgresql:// URL (else SQLite)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.database, args.rounds)), indent=2))


if __name__ == "__main__":
    main()
