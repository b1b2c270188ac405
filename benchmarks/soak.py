"""Soak: mixed traffic at 64 connections for 10 minutes; are memory and p99 latency flat?

    .venv/bin/python -m benchmarks.soak [--seconds 600] [--connections 64] [--interval 60]
    .venv/bin/python -m benchmarks.run --only soak [--soak-seconds 600]

Each connection runs session lifecycles against the benchmark server (``benchmarks/server.py``,
the shipped server with login limits out of the way), one request at a time on one kept-alive
connection: a login (anonymous, or email/password one time in four), three profile reads, two
function calls, a token refresh, one more profile read and a logout. Every ``--interval``
seconds it samples the server's resident memory, the SQLite file's size and the requests of
that interval (count, errors, p50/p99 latency); at the end it compares the last interval with
the first. The client is a few lines of HTTP/1.1 on asyncio streams, light enough to leave the
server most of the CPU. A measurement, not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: python benchmarks/soak.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from .common import APP_ID, server_process, write_json  # noqa: E402
from .throughput import ANON_LOGIN, API, DEVICE, USERPASS_LOGIN, _seed  # noqa: E402

SESSION = f"{API}/auth/session"
PROFILE = f"{API}/auth/profile"
CALL = f"{API}/app/{APP_ID}/functions/call"
CALL_BODY = {"name": "translate", "arguments": ["hello", "en_fr"]}
#: Flat means: memory grew at most 5 % over the second half of the run (the first half holds
#: the warm-up and one-time steps, such as argon2's 19 MiB arena for a second hash in flight),
#: and the last interval's p99 is within 1.5x of the first's.
RSS_GROWTH_LIMIT = 1.05
P99_GROWTH_LIMIT = 1.5


@dataclass
class Interval:
    """The requests of one sampling interval."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Connection:
    """One kept-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, token: str = "",
                      body: Any = None) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json",
                f"Content-Length: {len(data)}"]
        if data:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, json.loads(payload) if payload else None

    def close(self) -> None:
        self.writer.close()


class Soak:
    """The load: lifecycles on every connection, requests recorded per interval."""

    def __init__(self, port: int, creds: list[tuple[str, str]]) -> None:
        self.port = port
        self.creds = creds
        self.current = Interval()
        self.stop = False
        self.lifecycles = 0

    async def _timed(self, conn: Connection, kind: str, method: str, path: str,
                     expect: int, token: str = "", body: Any = None) -> Any:
        began = time.perf_counter()
        status, answer = await conn.request(method, path, token, body)
        interval = self.current
        interval.latencies.append(time.perf_counter() - began)
        interval.by_kind[kind] = interval.by_kind.get(kind, 0) + 1
        if status != expect:
            interval.errors += 1
            return None
        return answer if answer is not None else {}

    async def _lifecycle(self, conn: Connection, n: int) -> None:
        if n % 4 == 0:
            email, password = self.creds[n % len(self.creds)]
            login = await self._timed(conn, "password_login", "POST", USERPASS_LOGIN, 200,
                                      body={"username": email, "password": password, **DEVICE})
        else:
            login = await self._timed(conn, "anon_login", "POST", ANON_LOGIN, 200, body=DEVICE)
        if not login:
            return
        access, refresh = login["access_token"], login["refresh_token"]
        for _ in range(3):
            await self._timed(conn, "profile", "GET", PROFILE, 200, access)
        for _ in range(2):
            await self._timed(conn, "function", "POST", CALL, 200, access, CALL_BODY)
        fresh = await self._timed(conn, "refresh", "POST", SESSION, 201, refresh)
        access = fresh["access_token"] if fresh else access
        await self._timed(conn, "profile", "GET", PROFILE, 200, access)
        await self._timed(conn, "logout", "DELETE", SESSION, 204, refresh)
        self.lifecycles += 1

    async def worker(self, index: int) -> None:
        conn = await Connection.open(self.port)
        n = index
        try:
            while not self.stop:
                try:
                    await self._lifecycle(conn, n)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    # The server closed the connection (e.g. its keep-alive limit): reconnect.
                    self.current.errors += 1
                    conn.close()
                    conn = await Connection.open(self.port)
                n += 64
        finally:
            conn.close()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(*, seconds: float = 600.0, connections: int = 64, interval: float = 60.0) -> dict[str, Any]:
    """Run the soak; the samples and the first/last comparison as a dict."""
    with tempfile.TemporaryDirectory(prefix="latchkey-soak-") as tmp:
        data_dir = Path(tmp) / "data"
        with server_process(data_dir) as server:
            creds = _seed(server.base_url, users=0, accounts=20)["creds"]
            soak = Soak(server.port, creds)
            samples: list[dict[str, Any]] = []

            async def drive() -> None:
                workers = [asyncio.create_task(soak.worker(i)) for i in range(connections)]
                began = time.monotonic()
                cpu = server.cpu_seconds()
                while time.monotonic() - began < seconds:
                    await asyncio.sleep(min(interval, seconds - (time.monotonic() - began)))
                    done, soak.current = soak.current, Interval()
                    used, cpu = server.cpu_seconds() - cpu, server.cpu_seconds()
                    samples.append(_sample(done, server.rss_kib(), data_dir, interval,
                                           time.monotonic() - began, used))
                    print("  soak: " + _line(samples[-1]), flush=True)
                soak.stop = True
                await asyncio.gather(*workers, return_exceptions=True)

            print(f"  soak: {connections} connections for {seconds:.0f} s, a sample every "
                  f"{interval:.0f} s", flush=True)
            asyncio.run(drive())
    return {"seconds": seconds, "connections": connections, "interval": interval,
            "lifecycles": soak.lifecycles, "samples": samples, **_compare(samples)}


def _sample(done: Interval, rss: dict[str, int], data_dir: Path, interval: float,
            at: float, cpu: float) -> dict[str, Any]:
    store = data_dir / "latchkey.sqlite3"
    wal = data_dir / "latchkey.sqlite3-wal"
    size = sum(p.stat().st_size for p in (store, wal) if p.exists())
    count = len(done.latencies)
    return {
        "at_s": round(at, 1),
        "requests": count,
        "rps": round(count / interval, 1),
        "errors": done.errors,
        "p50_ms": round(_percentile(done.latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(done.latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(done.latencies) * 1000, 2) if count else 0.0,
        "rss_kib": rss.get("VmRSS", 0),
        "cpu_us_per_request": round(cpu / count * 1e6) if count else 0,
        "store_kib": size // 1024,
        "by_kind": done.by_kind,
    }


def _compare(samples: list[dict[str, Any]]) -> dict[str, Any]:
    if len(samples) < 3:
        return {"rss_ratio": None, "rss_second_half": None, "p99_ratio": None, "flat": None}
    first, middle, last = samples[0], samples[len(samples) // 2], samples[-1]
    rss_half = last["rss_kib"] / middle["rss_kib"]
    p99_ratio = last["p99_ms"] / first["p99_ms"] if first["p99_ms"] else None
    flat = rss_half <= RSS_GROWTH_LIMIT and p99_ratio is not None \
        and p99_ratio <= P99_GROWTH_LIMIT
    return {"rss_ratio": round(last["rss_kib"] / first["rss_kib"], 3),
            "rss_second_half": round(rss_half, 3),
            "p99_ratio": round(p99_ratio, 3) if p99_ratio else None, "flat": flat}


def _line(s: dict[str, Any]) -> str:
    return (f"{s['at_s']:6.0f} s: {s['rps']:6.0f} req/s, p50 {s['p50_ms']:6.1f} ms, p99 "
            f"{s['p99_ms']:6.1f} ms, {s['errors']} errors, RSS {s['rss_kib'] / 1024:6.1f} MiB, "
            f"CPU {s['cpu_us_per_request']} us/req, store {s['store_kib'] / 1024:.1f} MiB")


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: one per sample, then the verdict."""
    lines = [f"Soak: mixed traffic at {results['connections']} connections for "
             f"{results['seconds'] / 60:.1f} min ({results['lifecycles']} session lifecycles)"]
    lines += ["  " + _line(s) for s in results["samples"]]
    if results["flat"] is None:
        lines.append("  too short to compare (three samples at least)")
        return lines
    verdict = "flat" if results["flat"] else "NOT flat"
    lines.append(f"  memory: last/first {results['rss_ratio']:.2f}x, over the second half "
                 f"{results['rss_second_half']:.3f}x (flat: <= {RSS_GROWTH_LIMIT:.2f}x); p99 "
                 f"last/first {results['p99_ratio']}x (flat: <= {P99_GROWTH_LIMIT:.1f}x): "
                 f"{verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="how long (default 600)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--interval", type=float, default=60.0,
                        help="seconds between samples (default 60)")
    args = parser.parse_args(argv)
    results = run(seconds=args.seconds, connections=args.connections, interval=args.interval)
    write_json("soak", results)
    print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
