"""Run the three benchmarks, print each figure beside its reference and target, write JSON.

    scripts/bench                      # installs what is missing, then runs this
    .venv/bin/python -m benchmarks.run [--only startup,roundtrips,throughput,scale,abuse,soak]
                                       [--rounds 5] [--seconds 4] [--quick] [--scale]

Takes about 5 minutes on 2 cores. The scaling benchmark (1, 2 and 4 server processes on
PostgreSQL beside one on SQLite; about 1 minute more) is optional: ``--scale`` adds it to
the run, ``--only scale`` runs it alone. The abuse figures (what the login limits let an
attacker do, and what refusing costs; about 30 s) are optional too: ``--only abuse``. So is the
soak (``--only soak``: mixed traffic at 64 connections for ``--soak-seconds``, 10 minutes by
default; memory and p99 per minute), and JavaScript functions beside Python ones
(``--only jsfunctions``: about 40 s), and function calls with the server's and the workers'
CPU apart (``--only fncalls``: about 30 s).
Results go to ``benchmarks/results/`` (git-ignored):
``<name>-<time>.json`` and ``<name>-latest.json`` per benchmark, ``run-latest.json`` for all.
These are measurements, not tests: nothing here passes or fails, and CI does not run it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks import (  # noqa: E402
    abuse,
    fncalls,
    jsfunctions,
    roundtrips,
    scale,
    soak,
    startup,
    throughput,
)
from benchmarks.common import machine, write_json  # noqa: E402

BENCHMARKS = ("startup", "roundtrips", "throughput")
OPTIONAL = ("scale", "abuse", "soak", "jsfunctions", "fncalls")


def _load_warning() -> str | None:
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > 0.5 * cpus:
        return (f"warning: the machine is busy (load average {load:.1f} on {cpus} cores); "
                "figures will be slower and noisier than on an idle machine")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help="comma-separated subset of " + ", ".join(BENCHMARKS + OPTIONAL))
    parser.add_argument("--scale", action="store_true",
                        help="also run the optional scaling benchmark (PostgreSQL, 1/2/4 "
                             "server processes)")
    parser.add_argument("--rounds", type=int, default=5, help="page loads per page and state")
    parser.add_argument("--seconds", type=float, default=4.0, help="per throughput run")
    parser.add_argument("--soak-seconds", type=float, default=600.0,
                        help="length of the soak (--only soak; default 600)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round of page loads, 1 s throughput runs")
    args = parser.parse_args(argv)
    wanted = [name for name in args.only.split(",") if name]
    if args.scale and "scale" not in wanted:
        wanted.append("scale")
    unknown = set(wanted) - set(BENCHMARKS + OPTIONAL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rounds, seconds = (1, 1.0) if args.quick else (args.rounds, args.seconds)

    started = time.monotonic()
    info: dict[str, Any] = {**machine(), "load_average_before": os.getloadavg()}
    print(f"Latchkey benchmarks on {info['cpus']} cores ({info['cpu']}), Python {info['python']}")
    warning = _load_warning()
    if warning:
        print(warning)
    results: dict[str, Any] = {"machine": info}
    reports: list[str] = []
    for name in wanted:
        print(f"{name} ...", flush=True)
        begun = time.monotonic()
        if name == "startup":
            data = startup.run(rounds=rounds)
            lines = startup.report(data)
        elif name == "roundtrips":
            data = roundtrips.run()
            lines = roundtrips.report(data)
        elif name == "soak":
            data = soak.run(seconds=60.0 if args.quick else args.soak_seconds)
            lines = soak.report(data)
        elif name == "scale":
            data = scale.run(seconds=seconds)
            lines = scale.report(data)
        elif name == "jsfunctions":
            data = jsfunctions.run(seconds=seconds)
            lines = jsfunctions.report(data)
        elif name == "fncalls":
            data = fncalls.run(seconds=seconds)
            lines = fncalls.report(data)
        elif name == "abuse":
            data = abuse.run(seconds=seconds)
            lines = abuse.report(data)
        else:
            data = throughput.run(seconds=seconds)
            lines = throughput.report(data)
        data["seconds_taken"] = round(time.monotonic() - begun, 1)
        data["machine"] = info
        results[name] = data
        path = write_json(name, data)
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        reports += [*lines, f"  (JSON: {shown})", ""]
    info["load_average_after"] = os.getloadavg()
    info["seconds_taken"] = round(time.monotonic() - started, 1)
    write_json("run", results)
    print()
    print("\n".join(reports).rstrip())
    print(f"\nAll done in {info['seconds_taken'] / 60:.1f} min.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
