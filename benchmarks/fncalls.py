"""Function calls (issue 15): a trivial Python function (``translate``) called over HTTP with
``wrk`` at 16 and 64 connections on one server process, with the CPU per call split between the
server process and its function workers (the fork server and the worker processes).

    .venv/bin/python -m benchmarks.run --only fncalls          # about 30 s

Targets (issue 15): >= 3,000 calls/s at 64 connections, p99 < 50 ms, CPU per call <= 300 us.
The CPU figure that issue names is the server's; the workers' is printed beside it, and the sum,
since every call costs both. The load average is printed with the figures: on a shared machine
only ratios from one run mean much.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .common import REPO, ServerProcess, _cpu_seconds, _descendants, server_process, verdict
from .throughput import API, APP_ID, WRK_SCRIPT, _seed, wrk_path

TARGET_RPS = 3000.0
TARGET_P99_MS = 50.0
TARGET_CPU_US = 300.0
LEVELS = (16, 64)


def _cpu_split(server: ServerProcess) -> tuple[float, float]:
    """CPU seconds of the server process, and of all its descendants (the workers)."""
    own = _cpu_seconds(server.process.pid)
    return own, sum(_cpu_seconds(pid) for pid in _descendants(server.process.pid))


def _wrk(server: ServerProcess, lines: Path, connections: int, seconds: int) -> dict[str, Any]:
    path = f"{API}/app/{APP_ID}/functions/call"
    args = [wrk_path(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(WRK_SCRIPT), server.base_url, "--", "POST", path, str(lines)]
    own, workers = _cpu_split(server)
    load = os.getloadavg()[0]
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO).stdout
    own2, workers2 = _cpu_split(server)
    summary = json.loads(out.strip().splitlines()[-1])
    count = max(1, summary["requests"])
    return {
        "connections": connections,
        "requests": summary["requests"],
        "rps": round(summary["requests"] / (summary["duration_us"] / 1e6), 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "server_cpu_us": round((own2 - own) / count * 1e6),
        "worker_cpu_us": round((workers2 - workers) / count * 1e6),
        "errors": summary["status_errors"] + summary["socket_errors"],
        "load_average": round(load, 2),
    }


def run(*, seconds: float = 4.0, levels: tuple[int, ...] = LEVELS,
        rounds: int = 1) -> dict[str, Any]:
    """Run the benchmark (``rounds`` runs of each level, in turn); the figures as a dict."""
    results: dict[str, Any] = {"seconds_per_run": seconds, "levels": list(levels), "runs": []}
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-fn-") as tmp:
        work = Path(tmp)
        with server_process(work / "data") as server:
            seed = _seed(server.base_url, users=200, accounts=0)
            body = json.dumps({"name": "translate", "arguments": ["hello", "en_fr"]})
            lines = work / "calls.lines"
            lines.write_text("".join(f"{s['access_token']}\t{body}\n" for s in seed["sessions"]))
            _wrk(server, lines, 4, 1)  # Warm up: workers started, imports, connections.
            for _ in range(rounds):
                for connections in levels:
                    results["runs"].append(
                        _wrk(server, lines, connections, max(1, round(seconds))))
    return results


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: one line per run, then the targets at 64 connections."""
    lines = ["Function calls, a trivial Python function (wrk on loopback, one server process)",
             "  conns   calls/s    p50 ms   p99 ms | CPU us/call: server  workers   total | load"]
    for r in results["runs"]:
        err = "!" if r["errors"] else " "
        lines.append(
            f"  {r['connections']:5d} {r['rps']:9.0f}{err} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"| {r['server_cpu_us']:18d} {r['worker_cpu_us']:8d} "
            f"{r['server_cpu_us'] + r['worker_cpu_us']:7d} | {r['load_average']:.1f}")
    top = [r for r in results["runs"] if r["connections"] == max(results["levels"])]
    if top:
        best = max(top, key=lambda r: r["rps"])
        ok = (best["rps"] >= TARGET_RPS and best["p99_ms"] < TARGET_P99_MS
              and best["server_cpu_us"] <= TARGET_CPU_US and not best["errors"])
        lines.append(
            f"  at c={best['connections']}: {best['rps']:.0f} calls/s (target >= "
            f"{TARGET_RPS:.0f}), p99 {best['p99_ms']:.1f} ms (< {TARGET_P99_MS:.0f}), server CPU "
            f"{best['server_cpu_us']} us/call (<= {TARGET_CPU_US:.0f}; workers add "
            f"{best['worker_cpu_us']}): {verdict(ok)}")
    return lines
