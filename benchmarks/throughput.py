"""Server throughput on loopback: ``wrk`` (Debian's, a C load generator in its own process)
against the benchmark server, for five API calls and the bare Starlette floor.

For each call and each concurrency (1, 16 and 64 open connections, one wrk thread) it reports
requests per second and the p50/p99 latency, and the server's resident memory. Requests rotate
over many users (tokens) and accounts, so no answer is the same twice in a row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import (
    APP_ID,
    REPO,
    ServerProcess,
    post_json,
    server_process,
    verdict,
)

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
API = "/api/client/v2.0"
ANON_LOGIN = f"{API}/app/{APP_ID}/auth/providers/anon-user/login"
USERPASS_LOGIN = f"{API}/app/{APP_ID}/auth/providers/local-userpass/login"
REGISTER = f"{API}/app/{APP_ID}/auth/providers/local-userpass/register"
DEVICE = {"options": {"device": {"sdkVersion": "2.0.1", "platform": "chrome",
                                 "platformVersion": "156.0.0"}}}
TARGETS = {"refresh": 1000.0, "profile": 2000.0}
P99_TARGET_MS = 50.0
FLOOR_FACTOR = 3.0


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    #: (bearer token, JSON body) pairs the requests rotate over.
    lines: list[tuple[str, str]]
    floor: bool = False


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: run scripts/setup bench (apt-get install wrk).")
    return found


def _seed(base: str, users: int, accounts: int) -> dict[str, Any]:
    """Anonymous users (their tokens) and email/password accounts (confirmed at once)."""
    sessions = [post_json(base + ANON_LOGIN, DEVICE) for _ in range(users)]
    creds = []
    for i in range(accounts):
        email, password = f"bench{i}@example.com", f"bench-password-{i}"
        post_json(base + REGISTER, {"email": email, "password": password})
        creds.append((email, password))
    return {"sessions": sessions, "creds": creds}


def _calls(seed: dict[str, Any]) -> list[Call]:
    sessions, creds = seed["sessions"], seed["creds"]
    call = json.dumps({"name": "translate", "arguments": ["hello", "en_fr"]})
    return [
        Call("floor", "GET", "/floor", [("", "")], floor=True),
        Call("refresh", "POST", f"{API}/auth/session",
             [(s["refresh_token"], "") for s in sessions]),
        Call("profile", "GET", f"{API}/auth/profile", [(s["access_token"], "") for s in sessions]),
        Call("function", "POST", f"{API}/app/{APP_ID}/functions/call",
             [(s["access_token"], call) for s in sessions]),
        Call("anon_login", "POST", ANON_LOGIN, [("", json.dumps(DEVICE))]),
        Call("password_login", "POST", USERPASS_LOGIN,
             [("", json.dumps({"username": e, "password": p, **DEVICE})) for e, p in creds]),
    ]


def _wrk(server: ServerProcess, call: Call, lines_file: Path, connections: int,
         seconds: float) -> dict[str, Any]:
    length = f"{max(1, round(seconds))}s"  # wrk takes whole seconds only.
    args = [wrk_path(), "-t1", f"-c{connections}", f"-d{length}", "--timeout", "10s",
            "-s", str(WRK_SCRIPT), server.base_url, "--", call.method, call.path, str(lines_file)]
    cpu = server.cpu_seconds()
    out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO).stdout
    cpu = server.cpu_seconds() - cpu
    summary = json.loads(out.strip().splitlines()[-1])
    duration = summary["duration_us"] / 1e6
    return {
        # Server CPU time per request: steadier than req/s when other work shares the machine.
        "cpu_us_per_request": (round(cpu / summary["requests"] * 1e6)
                               if summary["requests"] else 0),
        "connections": connections,
        "requests": summary["requests"],
        "rps": round(summary["requests"] / duration, 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p90_ms": round(summary["p90_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "max_ms": round(summary["max_us"] / 1000, 2),
        "errors": summary["status_errors"] + summary["socket_errors"],
    }


def _measure(server: ServerProcess, call: Call, work: Path, levels: list[int],
             seconds: float) -> dict[str, Any]:
    lines_file = work / f"{call.name}.lines"
    lines_file.write_text("".join(f"{t}\t{b}\n" for t, b in call.lines))
    _wrk(server, call, lines_file, 4, 1)  # Warm up: imports, caches, connections.
    runs = [_wrk(server, call, lines_file, c, seconds) for c in levels]
    return {"runs": runs, "rss_kib": server.rss_kib()}


def argon2_parameters() -> dict[str, Any]:
    """The password hasher's parameters and what one verification costs here, in-process."""
    from server.services import passwords

    hasher = passwords._hasher
    stored = hasher.hash("bench-password")
    started = time.perf_counter()
    rounds = 10
    for _ in range(rounds):
        hasher.verify(stored, "bench-password")
    seconds = (time.perf_counter() - started) / rounds
    return {"type": "argon2id", "time_cost": hasher.time_cost,
            "memory_cost_kib": hasher.memory_cost, "parallelism": hasher.parallelism,
            "verify_ms": round(seconds * 1000, 1), "verifies_per_core_s": round(1 / seconds, 1)}


def run(*, seconds: float = 4.0, levels: list[int] | None = None) -> dict[str, Any]:
    """Run the throughput benchmark; the figures as a dict."""
    levels = levels or [1, 16, 64]
    results: dict[str, Any] = {"seconds_per_run": seconds, "levels": levels, "calls": {}}
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-") as tmp:
        work = Path(tmp)
        with server_process(None, floor=True) as floor, \
                server_process(work / "data") as server:
            results["rss_kib_idle"] = server.rss_kib()
            seed = _seed(server.base_url, users=200, accounts=20)
            for call in _calls(seed):
                print(f"  throughput: {call.name} ...", flush=True)
                target = floor if call.floor else server
                results["calls"][call.name] = _measure(target, call, work, levels, seconds)
            results["rss_kib_end"] = server.rss_kib()
    results["argon2"] = argon2_parameters()
    results["cpus"] = os.cpu_count()
    return results


def _at(results: dict[str, Any], name: str, connections: int) -> dict[str, Any]:
    return next(r for r in results["calls"][name]["runs"] if r["connections"] == connections)


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: a table, then each target beside its figure."""
    levels = results["levels"]
    top = max(levels)
    head = ("  call           " + "".join(f"| c={c:<3} req/s    p50    p99 " for c in levels)
            + f"| CPU/req at c={top}")
    lines = ["Server throughput (wrk on loopback, one server process; latencies in ms)", head]
    for name in results["calls"]:
        cells = ""
        for c in levels:
            r = _at(results, name, c)
            err = "!" if r["errors"] else " "
            cells += f"| {r['rps']:9.0f}{err} {r['p50_ms']:6.1f} {r['p99_ms']:6.1f} "
        cpu = _at(results, name, top)["cpu_us_per_request"]
        lines.append(f"  {name:<14} {cells}| {cpu:6d} us")
    if any(r["errors"] for d in results["calls"].values() for r in d["runs"]):
        lines.append("  ! some requests failed (see the JSON)")
    floor = _at(results, "floor", top)["rps"]
    lines.append(f"  floor (bare Starlette JSON endpoint, same uvicorn) at c={top}: "
                 f"{floor:.0f} req/s")
    for name, target in TARGETS.items():
        r = _at(results, name, top)
        ratio = floor / r["rps"]
        ok = (r["rps"] >= target and r["p99_ms"] < P99_TARGET_MS and ratio <= FLOOR_FACTOR
              and r["errors"] == 0)
        lines.append(
            f"  {name}: {r['rps']:.0f} req/s (target >= {target:.0f}), p99 {r['p99_ms']:.1f} ms "
            f"(target < {P99_TARGET_MS:.0f}), floor/{name} {ratio:.1f}x "
            f"(target <= {FLOOR_FACTOR:.0f}x): {verdict(ok)}")
    argon = results["argon2"]
    pw = max(_at(results, "password_login", c)["rps"] for c in levels)
    cpus = results["cpus"] or 1
    lines.append(
        f"  password login: {pw:.0f}/s on {cpus} cores = {pw / cpus:.0f}/s per core, argon2id "
        f"t={argon['time_cost']} m={argon['memory_cost_kib']} KiB p={argon['parallelism']} "
        f"({argon['verify_ms']} ms a hash here: at most {argon['verifies_per_core_s']:.0f}/s "
        "per core); Keycloak's published sizing: 15 password logins/s and 120 refreshes/s per "
        "vCPU")
    rss = results["rss_kib_end"]
    lines.append(f"  server memory: {results['rss_kib_idle']['VmRSS'] / 1024:.0f} MiB idle, "
                 f"{rss['VmRSS'] / 1024:.0f} MiB after the run (peak {rss['VmHWM'] / 1024:.0f} "
                 "MiB; argon2 takes 19 MiB per hash in flight)")
    return lines
