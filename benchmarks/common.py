"""What the three benchmarks share: the server processes, Chromium, figures and their printing."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
APP_ID = "latchkey-demo"
CHROMIUM = "/usr/bin/chromium"
# The flags of tests/e2e/conftest.py: keep Chromium off the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A benchmark server in its own process."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process (all its threads) has used, and its
        live descendants (function workers and their fork server) with it."""
        return sum(_cpu_seconds(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])

    def rss_kib(self) -> dict[str, int]:
        """Resident memory now and at its peak (``VmRSS``, ``VmHWM``), in KiB."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
        return out


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0  # It ended meanwhile.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


@contextmanager
def server_process(data_dir: Path | None, *, floor: bool = False,
                   extra_args: Sequence[str] = ()) -> Iterator[ServerProcess]:
    """Start ``python -m benchmarks.server`` and wait until it answers; stop it afterwards.

    ``BENCH_SERVER_ARGS`` adds options (``--loop asyncio --http h11`` measures the server as it
    was before uvloop and httptools).
    """
    port = free_port()
    args = [sys.executable, "-m", "benchmarks.server", "--port", str(port)]
    args += [*extra_args, *os.environ.get("BENCH_SERVER_ARGS", "").split()]
    args += ["--floor"] if floor else ["--data-dir", str(data_dir)]
    log_dir = data_dir or RESULTS
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = ServerProcess(process, port, data_dir)
    try:
        probe = f"{server.base_url}/floor" if floor else (
            f"{server.base_url}/api/client/v2.0/app/{APP_ID}/location")
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"The benchmark server exited; see {log.name}.")
            try:
                with urllib.request.urlopen(probe, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("The benchmark server did not start.") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if floor:
            Path(log.name).unlink(missing_ok=True)


def post_json(url: str, body: Any, token: str | None = None) -> Any:
    """A small JSON POST with urllib (setup of the benchmarks, not measured)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def median(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def fmt_seconds(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}s"


def fmt_ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return ""
    return f"{value / reference:5.1f}x"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "-"}[met]


def write_json(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    text = json.dumps(data, indent=2, sort_keys=True)
    path.write_text(text + "\n")
    (RESULTS / f"{name}-latest.json").write_text(text + "\n")
    return path


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpus": os.cpu_count(), "cpu": model, "python": sys.version.split()[0],
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
