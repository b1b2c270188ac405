"""The Admin API's users list and search on a store of 100,000 users, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.admin_users [--users 100000] [--rounds 40] [--only sqlite]

Seeds the users straight into a fresh store (60 % email/password with their accounts, 30 %
anonymous, 10 % Google; 1 in 100 disabled), starts ``serve.py`` on it in its own process, makes
an admin key with ``serve.py admin-keys create``, and times over loopback HTTP (client wall
time, one request at a time): a page of 50 at the start, the middle and the end of the id order,
pages filtered by ``status=disabled`` and ``provider_types=oauth2-google``, search by email
prefix and by id. Targets (issue 12): a page of 50 and a prefix search each within 50 ms.
PostgreSQL is the throwaway cluster of ``tests/postgres_fixture.py`` (or ``TEST_DATABASE_URL``).
A measurement, not a test: CI does not run it. Results go to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

import httpx  # noqa: E402
from bson import ObjectId  # noqa: E402

from benchmarks.common import REPO, free_port, machine, write_json  # noqa: E402
from server.admin_api import paths  # noqa: E402
from server.emails import email_key  # noqa: E402
from server.settings import DEFAULT_CONFIG  # noqa: E402
from server.store import open_store_for  # noqa: E402

TARGET_MS = 50.0
T0 = 1_700_000_000.0


def rows(count: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...] | None]]:
    """(user, identity, account or None) rows in the schema's column order."""
    for i in range(count):
        uid = str(ObjectId())
        created = T0 + i
        user = (uid, "normal", int(i % 100 == 7), "{}", created, created + 5)
        kind = i % 10
        if kind < 6:
            email = f"user{i}@example.com"
            ident = ("local-userpass", uid, uid, "p" * 24, json.dumps({"email": email}), 0,
                     created)
            account = (email, uid, "x", 1, created, email_key(email))
        elif kind < 9:
            ident = ("anon-user", f"{uid}-anon", uid, "a" * 24, "{}", 0, created)
            account = None
        else:
            ident = ("oauth2-google", f"g{i}", uid, "g" * 24,
                     json.dumps({"email": f"g{i}@gmail.com"}), 0, created)
            account = None
        yield user, ident, account


USERS_SQL = "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
IDENT_SQL = ("INSERT INTO identities(provider_type, id, user_id, provider_id, data, position,"
             " created_at)")
ACCOUNT_SQL = ("INSERT INTO userpass_accounts(email, id, password_hash, confirmed, created_at,"
               " email_key)")


def seed_sqlite(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    data = list(rows(count))
    with conn:
        conn.executemany(USERS_SQL + " VALUES (?,?,?,?,?,?)", [r[0] for r in data])
        conn.executemany(IDENT_SQL + " VALUES (?,?,?,?,?,?,?)", [r[1] for r in data])
        conn.executemany(ACCOUNT_SQL + " VALUES (?,?,?,?,?,?)", [r[2] for r in data if r[2]])
    conn.execute("ANALYZE")
    conn.close()


def seed_postgres(url: str, count: int) -> None:
    import psycopg

    data = list(rows(count))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table, cols, items in (
                ("users", "id, type, disabled, data, created_at, last_login_at",
                 [r[0] for r in data]),
                ("identities", "provider_type, id, user_id, provider_id, data, position,"
                 " created_at", [r[1] for r in data]),
                ("userpass_accounts", "email, id, password_hash, confirmed, created_at,"
                 " email_key", [r[2] for r in data if r[2]])):
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for item in items:
                    copy.write_row(item)
        conn.commit()
        cur.execute("ANALYZE")


def create_schema(url: str, data_dir: Path) -> None:
    async def go() -> None:
        store = open_store_for(url, data_dir)
        await store.open()
        await store.close()

    asyncio.run(go())


@contextmanager
def serve(url: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    base = [sys.executable, "serve.py", "--data-dir", str(data_dir), "--config",
            str(DEFAULT_CONFIG), "--database", url]
    proc = subprocess.Popen([*base, "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        made = subprocess.run([*base, "admin-keys", "create", "bench"], cwd=REPO,
                              capture_output=True, text=True, check=True)
        yield f"http://127.0.0.1:{port}|{made.stdout}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def timed(http: httpx.Client, path: str, params: dict[str, str], headers: dict[str, str],
          rounds: int) -> dict[str, Any]:
    times, size = [], 0
    for _ in range(rounds + 3):
        start = time.perf_counter()
        resp = http.get(path, params=params, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, resp.text
        size = len(resp.json())
    times = sorted(times[3:])  # The first calls warm the caches.
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2), "results": size}


def store_timings(url: str, data_dir: Path, rounds: int) -> dict[str, Any]:
    """The same queries on the store itself, in this process: what the database costs, apart
    from HTTP, JSON and the scheduling of a loaded machine."""
    async def go() -> dict[str, Any]:
        store = open_store_for(url, data_dir)
        await store.open()
        try:
            first = await store.list_users_page(None, 1000)
            middle = first[-1].id
            cases: dict[str, Any] = {
                "page 50, first": lambda: store.list_users_page(None, 50),
                "page 50, middle": lambda: store.list_users_page(middle, 50),
                "page 50, disabled": lambda: store.list_users_page(None, 50, True),
                "page 50, google": lambda: store.list_users_page(
                    None, 50, None, ("oauth2-google",)),
                "page 50, enabled google": lambda: store.list_users_page(
                    middle, 50, False, ("oauth2-google",)),
                "search 'user123' (50)": lambda: store.find_users_by_email_prefix("user123", 50),
            }
            out: dict[str, Any] = {}
            for name, call in cases.items():
                times = []
                for _ in range(rounds + 3):
                    start = time.perf_counter()
                    await call()
                    times.append((time.perf_counter() - start) * 1000)
                times = sorted(times[3:])
                out[name] = {"median_ms": round(statistics.median(times), 2),
                             "p95_ms": round(times[int(len(times) * 0.95) - 1], 2)}
            return out
        finally:
            await store.close()

    return asyncio.run(go())


def measure(url: str, data_dir: Path, count: int, rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    create_schema(url, data_dir)
    (seed_sqlite(Path(url.removeprefix("sqlite:")), count) if url.startswith("sqlite:")
     else seed_postgres(url, count))
    out: dict[str, Any] = {"seed_seconds": round(time.perf_counter() - started, 1)}
    out["store"] = store_timings(url, data_dir, rounds)
    with serve(url, data_dir) as both, httpx.Client(timeout=30) as http:
        base, made = both.split("|", 1)
        pair = json.loads(made)
        login = http.post(base + paths.LOGIN, json={"username": pair["public_key"],
                                                    "apiKey": pair["private_key"]}).json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        profile = http.get(base + paths.PROFILE, headers=headers).json()
        group = profile["roles"][0]["group_id"]
        app = http.get(base + paths.fill(paths.APPS, group_id=group), headers=headers).json()[0]
        users = base + paths.fill(paths.USERS, group_id=group, app_object_id=app["_id"])
        search = base + paths.fill(paths.USER_SEARCH, group_id=group,
                                   app_object_id=app["_id"])
        everyone = [u["_id"] for u in http.get(users, params={"limit": "1000"},
                                               headers=headers).json()]
        middle = http.get(users, params={"limit": "1", "after": "6"}, headers=headers).json()
        cases = {
            "page 50, first": (users, {"limit": "50"}),
            "page 50, middle": (users, {"limit": "50", "after": middle[0]["_id"]}),
            "page 50, last": (users, {"limit": "50", "after": "f"}),
            "page 50, disabled": (users, {"limit": "50", "status": "disabled"}),
            "page 50, google": (users, {"limit": "50", "provider_types": "oauth2-google"}),
            "search 'user123' (50)": (search, {"q": "user123", "limit": "50"}),
            "search 'USER9999' (11)": (search, {"q": "USER9999", "limit": "50"}),
            "search by id": (search, {"q": everyone[500]}),
        }
        for name, (path, params) in cases.items():
            out[name] = timed(http, path, params, headers, rounds)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "users": args.users,
                               "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-admin-") as tmp:
        if args.only in (None, "sqlite"):
            data_dir = Path(tmp) / "sqlite"
            data_dir.mkdir()
            results["sqlite"] = measure(f"sqlite:{data_dir / 'bench.sqlite3'}", data_dir,
                                        args.users, args.rounds)
        if args.only in (None, "postgres"):
            from tests.postgres_fixture import UNAVAILABLE, PostgresServer

            pg = PostgresServer.start()
            if pg is None:
                print(UNAVAILABLE)
            else:
                try:
                    data_dir = Path(tmp) / "postgres"
                    data_dir.mkdir()
                    results["postgres"] = measure(pg.fresh_url(), data_dir, args.users,
                                                  args.rounds)
                finally:
                    pg.stop()
    results["load_after"] = os.getloadavg()
    for store in ("sqlite", "postgres"):
        for name, figures in results.get(store, {}).get("store", {}).items():
            print(f"{store:8} store {name:26} median {figures['median_ms']:7.2f} ms  p95 "
                  f"{figures['p95_ms']:7.2f} ms")
        for name, figures in results.get(store, {}).items():
            if isinstance(figures, dict) and "results" in figures:
                ok = "ok" if figures["median_ms"] <= TARGET_MS else "OVER"
                print(f"{store:8} HTTP  {name:26} median {figures['median_ms']:7.2f} ms  p95 "
                      f"{figures['p95_ms']:7.2f} ms  ({figures['results']} results)  {ok}")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    write_json("admin_users", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
