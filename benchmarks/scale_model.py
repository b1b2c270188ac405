"""A model of the scaling benchmark's throughput from its measured CPU costs per request.

A request costs ``s`` CPU seconds in the server, ``p`` in PostgreSQL and ``w`` in the load
generator (``wrk``, on the same machine here). When the CPUs are the bottleneck, ``C`` cores of
which the rest of the machine keeps ``o`` busy serve ``(C - o) / (s + p + w)`` requests/s. The
benchmark measures all four during each run (``o`` from ``/proc/stat``: every busy CPU second
that was not the server's, PostgreSQL's or wrk's), so it can print the model's figure beside
the measured one: when they agree the model explains the run, and its figure for a bigger
machine means something. On that machine the clients are elsewhere (``w = 0``), PostgreSQL has
cores of its own or shares them, and the server runs one process per core.
"""

from __future__ import annotations

import os
from typing import Any


def busy_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (every CPU: all but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's waited-for children (``wrk``)."""
    t = os.times()
    return t.children_user + t.children_system


def annotate(run: dict[str, Any], *, server_s: float, postgres_s: float, wrk_s: float,
             busy_s: float, wall_s: float, cpus: int) -> None:
    """Add the costs per request and the model's requests/s to one wrk run's figures
    (``wall_s``: the wall time over which the CPU times were taken, wrk's start and end
    included)."""
    requests = run["requests"]
    if not requests or not run["rps"] or wall_s <= 0:
        return
    duration = wall_s
    others = max(0.0, busy_s - server_s - postgres_s - wrk_s)
    per_request = (server_s + postgres_s + wrk_s) / requests
    run["wrk_cpu_us_per_request"] = round(wrk_s / requests * 1e6)
    run["other_load_cores"] = round(others / duration, 2)
    run["model_rps"] = round((cpus - others / duration) / per_request) if per_request else 0


def predict(server_us: float, postgres_us: float, cores: int) -> dict[str, int]:
    """Requests/s of ``cores`` cores from the costs per request (clients elsewhere): the server
    and PostgreSQL sharing the cores, and the server alone (PostgreSQL on its own machine)."""
    shared = (server_us + postgres_us) / 1e6
    alone = server_us / 1e6
    return {"shared": round(cores / shared) if shared else 0,
            "server_only": round(cores / alone) if alone else 0}
