"""Scaling on PostgreSQL: token refresh and profile throughput with 1, 2 and 4 server processes
(``serve.py --workers N``) on PostgreSQL, beside one process on SQLite, in one run.

Every configuration is the shipped ``serve.py`` (access log on), started on a fresh store: a new
SQLite file, or a new schema of one PostgreSQL database (``TEST_DATABASE_URL``, or a private
throwaway cluster from ``tests/postgres_fixture.py``: loopback, no fsync). Users are seeded
through the API (anonymous logins); the load is ``wrk`` with the script and helpers of
``benchmarks/throughput.py``, at 64 connections. Server CPU counts every process of the server
(the uvicorn supervisor and its workers); PostgreSQL CPU counts the cluster's processes when the
cluster is ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import scale_model
from .common import APP_ID, REPO, ServerProcess, free_port
from .throughput import _calls, _seed, _wrk

CALLS = ("refresh", "profile")
WORKERS = (1, 2, 4)
CONNECTIONS = 64
USERS = 200
DEMO_CONFIG = REPO / "config" / "demo.toml"


def _clock_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def tree_cpu_seconds(root: int) -> float:
    """User plus system CPU time of a process and its descendants (living ones)."""
    ticks = 0
    for pid in _tree(root):
        try:
            ticks += _clock_ticks(pid)
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class ServeProcess(ServerProcess):
    """``serve.py`` in its own process; CPU time counts its worker processes too."""

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)


def _config(work: Path) -> Path:
    """The demo config with login limits no load generator on one address reaches."""
    text = DEMO_CONFIG.read_text()
    text = text.replace('functions = "demo_functions.py"',
                        f'functions = "{(DEMO_CONFIG.parent / "demo_functions.py").as_posix()}"')
    limits = (("login_failures_per_account", 10), ("login_attempts_per_address", 60),
              ("logins_per_address", 300), ("logins_per_identity", 100),
              ("email_requests_per_address", 30), ("login_slowdown_after", 20))
    for key, value in limits:
        text = text.replace(f"{key} = {value} ", f"{key} = 1000000000 ")
    if text.count("1000000000") != len(limits):
        raise RuntimeError("config/demo.toml changed: update benchmarks/scale.py's _config")
    path = work / "bench.toml"
    path.write_text(text)
    return path


@contextmanager
def serve(config: Path, data_dir: Path, database: str, workers: int) -> Iterator[ServeProcess]:
    """Start ``serve.py`` and wait until every worker is likely up; stop it afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "serve.py", "--port", str(port), "--config", str(config),
            "--data-dir", str(data_dir), "--database", database, "--workers", str(workers)]
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = ServeProcess(process, port, data_dir)
    try:
        probe = f"{server.base_url}/api/client/v2.0/app/{APP_ID}/location"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve.py exited; see {log.name}.")
            try:
                with urllib.request.urlopen(probe, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve.py did not start; see {log.name}.") from None
                time.sleep(0.1)
        expected = 1 if workers == 1 else workers + 1  # The supervisor and its workers.
        while time.monotonic() < deadline and len(_tree(process.pid)) < expected:
            time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0.2)  # Let the last workers open their sockets.
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _postmaster_pid(cluster: Path | None) -> int | None:
    if cluster is None:
        return None
    try:
        return int((cluster / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _measure(server: ServeProcess, work: Path, seconds: float,
             postmaster: int | None) -> dict[str, Any]:
    seed = _seed(server.base_url, users=USERS, accounts=0)
    out: dict[str, Any] = {}
    for call in _calls(seed):
        if call.name not in CALLS:
            continue
        lines_file = work / f"{call.name}.lines"
        lines_file.write_text("".join(f"{t}\t{b}\n" for t, b in call.lines))
        _wrk(server, call, lines_file, CONNECTIONS, 1)  # Warm up every worker and pool.
        pg = tree_cpu_seconds(postmaster) if postmaster else None
        busy, wrk_cpu = scale_model.busy_cpu_seconds(), scale_model.children_cpu_seconds()
        cpu, wall = server.cpu_seconds(), time.monotonic()
        run = _wrk(server, call, lines_file, CONNECTIONS, seconds)
        cpu, wall = server.cpu_seconds() - cpu, time.monotonic() - wall
        busy = scale_model.busy_cpu_seconds() - busy
        wrk_cpu = scale_model.children_cpu_seconds() - wrk_cpu
        spent = 0.0
        if postmaster and pg is not None and run["requests"]:
            spent = tree_cpu_seconds(postmaster) - pg
            run["postgres_cpu_us_per_request"] = round(spent / run["requests"] * 1e6)
        scale_model.annotate(run, server_s=cpu, postgres_s=spent, wrk_s=wrk_cpu, busy_s=busy,
                             wall_s=wall, cpus=os.cpu_count() or 1)
        out[call.name] = run
    return out


def run(*, seconds: float = 4.0) -> dict[str, Any]:
    """Run the scaling benchmark; the figures as a dict."""
    sys.path.insert(0, str(REPO))
    from tests.postgres_fixture import UNAVAILABLE, PostgresServer

    results: dict[str, Any] = {"seconds_per_run": seconds, "connections": CONNECTIONS,
                               "users": USERS, "cpus": os.cpu_count(), "configs": []}
    pg = PostgresServer.start()
    if pg is None:
        raise SystemExit(UNAVAILABLE)
    results["postgres"] = ("TEST_DATABASE_URL" if pg.cluster is None
                           else "private cluster (fsync=off, synchronous_commit=off)")
    try:
        postmaster = _postmaster_pid(pg.cluster)
        with tempfile.TemporaryDirectory(prefix="latchkey-scale-") as tmp:
            work = Path(tmp)
            config = _config(work)
            plan = [("sqlite", 1)] + [("postgresql", n) for n in WORKERS]
            for store, workers in plan:
                label = f"{store} x{workers}"
                print(f"  scale: {label} ...", flush=True)
                data_dir = work / f"{store}-{workers}"
                database = (f"sqlite:{data_dir / 'latchkey.sqlite3'}" if store == "sqlite"
                            else pg.fresh_url())
                with serve(config, data_dir, database, workers) as server:
                    calls = _measure(server, work, seconds,
                                     postmaster if store == "postgresql" else None)
                results["configs"].append({"store": store, "workers": workers,
                                           "calls": calls})
    finally:
        pg.stop()
    return results


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: per call, each configuration beside the SQLite single process."""
    c = results["connections"]
    lines = [f"Scaling (serve.py --workers N, wrk on loopback, {c} connections, "
             f"{results['cpus']} cores; latencies in ms, ratios vs SQLite x1)"]
    base = results["configs"][0]
    for name in CALLS:
        lines.append(f"  {name:<8} store       workers |    req/s  ratio |   p50    p99 | "
                     "server CPU/req | PG CPU/req")
        for cfg in results["configs"]:
            r = cfg["calls"][name]
            ref = base["calls"][name]["rps"]
            ratio = r["rps"] / ref if ref else 0.0
            err = "!" if r["errors"] else " "
            pg = r.get("postgres_cpu_us_per_request")
            pg_text = f"{pg:7d} us" if pg is not None else "         -"
            lines.append(f"  {'':<8} {cfg['store']:<11} {cfg['workers']:>7} | "
                         f"{r['rps']:8.0f}{err} {ratio:5.2f}x | {r['p50_ms']:5.1f} "
                         f"{r['p99_ms']:6.1f} | {r['cpu_us_per_request']:11d} us | {pg_text}")
    lines += model_lines(results)
    if any(r["errors"] for cfg in results["configs"] for r in cfg["calls"].values()):
        lines.append("  ! some requests failed (see the JSON)")
    return lines


def model_lines(results: dict[str, Any]) -> list[str]:
    """The model's requests/s beside the measured ones, and its figures for 16 cores."""
    lines = ["  model: (cores - other load) / CPU per request (server + PostgreSQL + wrk)"]
    for name in CALLS:
        for cfg in results["configs"]:
            r = cfg["calls"][name]
            if "model_rps" not in r:
                continue
            lines.append(f"  {name:<8} {cfg['store']:<11} {cfg['workers']:>7} | measured "
                         f"{r['rps']:7.0f} | model {r['model_rps']:7d} | other load "
                         f"{r['other_load_cores']:4.2f} cores | "
                         f"wrk {r['wrk_cpu_us_per_request']} us")
        pg = [c for c in results["configs"] if c["store"] == "postgresql"]
        if pg:
            r = min((c["calls"][name] for c in pg), key=lambda r: r["cpu_us_per_request"])
            p16 = scale_model.predict(r["cpu_us_per_request"],
                                      r.get("postgres_cpu_us_per_request", 0), 16)
            lines.append(f"  {name:<8} 16 cores, 16 processes, clients elsewhere: "
                         f"{p16['shared']:,} req/s with PostgreSQL on the same cores, "
                         f"{p16['server_only']:,} with PostgreSQL on its own machine")
    return lines


def main() -> int:
    """Run alone: ``python -m benchmarks.scale`` (``benchmarks.run --only scale`` also works)."""
    from .common import write_json

    data = run()
    print("\n".join(report(data)))
    print(f"(JSON: {write_json('scale', data)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
