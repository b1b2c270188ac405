"""Many clients at once over loopback: registrations, logins, refreshes, and one email raced."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx

from app.sdk import routes
from tests.conftest import sqlite_only

from .helpers import APP_ID, PASSWORD

N = 50
UNLIMITED = {"security": {"login_attempts_per_address": 10_000,
                          "email_requests_per_address": 10_000}}


async def _register_and_log_in(base_url: str) -> tuple[list[int], list[httpx.Response]]:
    limits = httpx.Limits(max_connections=N)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        emails = [f"user{i}@example.com" for i in range(N)]
        registered = await asyncio.gather(*(
            http.post(routes.userpass(APP_ID, "register"),
                      json={"email": e, "password": PASSWORD}) for e in emails))
        logins = await asyncio.gather(*(
            http.post(routes.login(APP_ID, "local-userpass"),
                      json={"username": e, "password": PASSWORD}) for e in emails))
        return [r.status_code for r in registered], logins


def test_fifty_concurrent_registrations_and_logins(server_factory) -> None:
    live = server_factory(UNLIMITED)
    statuses, logins = asyncio.run(_register_and_log_in(live.base_url))
    assert statuses == [201] * N
    assert [r.status_code for r in logins] == [200] * N
    assert len({r.json()["user_id"] for r in logins}) == N
    assert len({r.json()["refresh_token"] for r in logins}) == N


async def _race(base_url: str, email: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        return await asyncio.gather(*(
            http.post(routes.userpass(APP_ID, "register"),
                      json={"email": email, "password": f"{PASSWORD} {i}"}) for i in range(n)))


def test_one_email_registered_concurrently_wins_once(server_factory) -> None:
    live = server_factory(UNLIMITED)
    for round_, n in enumerate((2, 2, 2, 10)):
        email = f"race{round_}@example.com"
        answers = asyncio.run(_race(live.base_url, email, n))
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [409] * (n - 1)
        for r in answers:
            if r.status_code == 409:
                assert r.json()["error_code"] == "AccountNameInUse"
        # Exactly the winner's password works.
        winner = next(i for i, r in enumerate(answers) if r.status_code == 201)
        resp = httpx.post(live.base_url + routes.login(APP_ID, "local-userpass"),
                          json={"username": email, "password": f"{PASSWORD} {winner}"})
        assert resp.status_code == 200


async def _first_logins_and_refreshes(base_url: str) -> tuple[list[int], list[int], set[str]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await http.post(routes.userpass(APP_ID, "register"),
                        json={"email": "first@example.com", "password": PASSWORD})
        # The first logins of one account all at once: one user, one identity.
        logins = await asyncio.gather(*(
            http.post(routes.login(APP_ID, "local-userpass"),
                      json={"username": "first@example.com", "password": PASSWORD})
            for _ in range(10)))
        refresh = logins[0].json()["refresh_token"]
        refreshes = await asyncio.gather(*(
            http.post(routes.session(), headers={"Authorization": f"Bearer {refresh}"})
            for _ in range(N)))
        return ([r.status_code for r in logins], [r.status_code for r in refreshes],
                {r.json()["user_id"] for r in logins})


def test_concurrent_first_logins_and_refreshes(server_factory) -> None:
    live = server_factory(UNLIMITED)
    logins, refreshes, users = asyncio.run(_first_logins_and_refreshes(live.base_url))
    assert logins == [200] * 10 and refreshes == [201] * N
    assert len(users) == 1


@sqlite_only
def test_the_database_is_in_wal_mode(live_server) -> None:
    assert httpx.post(live_server.base_url + routes.login(APP_ID, "anon-user"),
                      json={}).status_code == 200
    path = live_server.settings.database_url.removeprefix("sqlite:")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
