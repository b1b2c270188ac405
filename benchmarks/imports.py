"""Importing App Services users and custom user data, at sizes the test suite does not take.

    .venv/bin/python -m benchmarks.imports [--users 20000] [--database postgresql://...]

Writes a users file as the Admin API lists them (one object per line, the four common providers
in turn, a third of them email/password) and a ``mongoexport`` file of as many custom data
documents, then runs ``serve.py import-users`` twice (the second run must import nothing) and
``import-custom-data`` once, through the real entry point in this process. Prints users per
second for each run and the machine's load, and writes ``benchmarks/results/imports-*.json``.
A measurement, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: python benchmarks/imports.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks.common import machine, write_json  # noqa: E402


def _user(n: int) -> dict[str, Any]:
    kind = ("local-userpass", "anon-user", "oauth2-google", "custom-token")[n % 4]
    ident = f"7{n:023x}" if kind == "local-userpass" else f"{kind}-{n}"
    data = {"email": f"user{n}@example.com"} if kind != "anon-user" else {}
    return {"_id": f"6{n:023x}", "type": "normal", "disabled": False,
            "identities": [{"id": ident, "provider_type": kind, "provider_id": "p",
                            "provider_data": data}],
            "data": data, "creation_date": 1_600_000_000 + n,
            "last_authentication_date": 1_700_000_000 + n}


def _run(argv: list[str]) -> tuple[float, str]:
    import serve

    out = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(out):
        serve.main(argv)
    return time.perf_counter() - began, out.getvalue().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--database", default=None, help="default: a SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        users = root / "users.jsonl"
        users.write_text("\n".join(json.dumps(_user(n)) for n in range(args.users)) + "\n")
        docs = root / "custom.jsonl"
        docs.write_text("\n".join(json.dumps({"_id": {"$oid": f"64{n:022x}"},
                                              "user_id": f"6{n:023x}", "plan": "pro",
                                              "visits": {"$numberLong": str(n)}})
                                  for n in range(args.users)) + "\n")
        base = ["--data-dir", str(root / "data")]
        if args.database:
            base += ["--database", args.database]
        figures: dict[str, Any] = {"users": args.users, "load_before": os.getloadavg()[0]}
        for label, command, path in (("first", "import-users", users),
                                     ("second", "import-users", users),
                                     ("custom_data", "import-custom-data", docs)):
            seconds, summary = _run([*base, command, str(path)])
            figures[label] = {"seconds": round(seconds, 2),
                              "per_second": round(args.users / seconds), "summary": summary}
            print(f"{label:12} {seconds:7.2f} s  {args.users / seconds:8.0f}/s  {summary}")
        figures["load_after"] = os.getloadavg()[0]
        print(f"load average {figures['load_before']:.1f} before, "
              f"{figures['load_after']:.1f} after, on {os.cpu_count()} cores")
    write_json("imports", {"machine": machine(), **figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
