"""Several ``serve.py`` processes on different ports sharing one PostgreSQL (issue 8).

Any process serves any request: sessions, logouts, login rate limits, custom user data and API
keys are in the database, and so is the signing key. The load tests spread concurrent requests
over the processes, and one kills a process with SIGKILL in the middle of the load.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Any

import httpx

from app.sdk import routes
from server.store import open_store_for
from tests.sdk.runner import run
from tests.server.helpers import assert_error, auth, claims

from .cluster import APP_ID, PASSWORD, UNLIMITED, ServeProcess
from .conftest import MakeApis, StartProcesses

KEYS = routes.api_keys()


def test_log_in_on_one_refresh_on_another_log_out_on_a_third(trio: list[ServeProcess],
                                                              apis: MakeApis) -> None:
    a, b, c = apis(trio)
    email = f"roam-{time.time_ns()}@example.com"
    assert a.register(email).status_code == 201
    session = a.log_in_ok(email)
    refreshed = b.refresh(session["refresh_token"])
    assert refreshed.status_code == 201, refreshed.text
    access = refreshed.json()["access_token"]
    assert c.profile(access).json()["user_id"] == session["user_id"]
    assert c.log_out(session["refresh_token"]).status_code == 204
    # The logout on c ended the session for every process, at once.
    for api in (a, b, c):
        assert_error(api.refresh(session["refresh_token"]), 401, "InvalidSession")
    # A second session of the same user, from another process, is untouched.
    other = b.log_in_ok(email)
    assert a.refresh(other["refresh_token"]).status_code == 201


def test_processes_share_the_signing_key(trio: list[ServeProcess], apis: MakeApis) -> None:
    each = apis(trio)
    tokens = [api.anon_ok() for api in each]
    for api, token in itertools.product(each, tokens):
        assert api.profile(token["access_token"]).status_code == 200
        assert api.refresh(token["refresh_token"]).status_code == 201


def test_login_rate_limits_count_across_processes(processes: StartProcesses,
                                                  apis: MakeApis) -> None:
    group = processes(3, {"security": {"login_failures_per_account": 4,
                                       "login_attempts_per_address": 9}})
    a, b, c = apis(group)
    a.user("locked@example.com")
    # Four failures, no more than two on any process, lock the account on all of them.
    for api in (a, b, c, b):
        assert_error(api.log_in("locked@example.com", "wrong guess"), 401, "InvalidPassword")
    for api in (a, b, c):
        assert_error(api.log_in("locked@example.com"), 429, "TooManyRequests")
    # The address allowance (9 attempts) was spent by 1 + 4 counted attempts above, the 429s
    # refused before counting; four more anywhere use it up, everywhere.
    c.user("free@example.com")
    for api in (a, b, c):
        assert api.log_in("free@example.com").status_code == 200
    for api in (a, b, c):
        assert_error(api.log_in("free@example.com"), 429, "TooManyRequests")


def test_custom_data_and_api_keys_across_processes(trio: list[ServeProcess],
                                                   apis: MakeApis) -> None:
    a, b, c = apis(trio)
    user = a.user(f"data-{time.time_ns()}@example.com")
    # Custom user data written through a function on a is in the token b issues.
    called = a.http.post(routes.functions_call(APP_ID), headers=auth(user["access_token"]),
                         json={"name": "set_favorite_color", "arguments": ["teal"]})
    assert called.status_code == 200, called.text
    fresh = b.refresh(user["refresh_token"]).json()["access_token"]
    assert claims(fresh)["user_data"]["favorite_color"] == "teal"

    # An API key made on a logs in on b as the same user; disabling it on c ends that.
    made = a.http.post(KEYS, headers=auth(user["refresh_token"]), json={"name": "laptop"})
    assert made.status_code == 201, made.text
    key = made.json()
    by_key = b.login("api-key", {"key": key["key"]})
    assert by_key.status_code == 200 and by_key.json()["user_id"] == user["user_id"]
    listed = c.http.get(KEYS, headers=auth(user["refresh_token"])).json()
    assert [k["name"] for k in listed] == ["laptop"]
    disabled = c.http.put(f"{KEYS}/{key['_id']}/disable", headers=auth(user["refresh_token"]))
    assert disabled.status_code == 204, disabled.text
    assert b.login("api-key", {"key": key["key"]}).status_code == 401
    assert_error(a.refresh(by_key.json()["refresh_token"]), 401, "InvalidSession")


async def _spread(group: list[ServeProcess],
                  requests: list[tuple[int, str, dict[str, Any]]]) -> list[httpx.Response]:
    """POST every ``(process index, path, body)`` at once; the answers in order."""
    # Fresh connections for each burst: a kept-alive connection that sat idle through a long
    # burst may be closed by the server (uvicorn's 5 s keep-alive) just as it is reused.
    clients = [httpx.AsyncClient(base_url=p.base_url, timeout=60,
                                 limits=httpx.Limits(max_connections=100)) for p in group]
    try:
        return await asyncio.gather(*(clients[i].post(path, json=body)
                                      for i, path, body in requests))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def test_concurrent_registrations_and_first_logins_make_one_user_per_email(
    processes: StartProcesses, postgres_server: Any,
) -> None:
    url = postgres_server.fresh_url()
    group = processes(3, UNLIMITED, database_url=url)
    emails = [f"crowd-{i}@example.com" for i in range(50)]
    register = routes.userpass(APP_ID, routes.USERPASS_REGISTER)
    login = routes.login(APP_ID, routes.LOCAL_USERPASS)

    async def storm() -> tuple[list[tuple[str, int]], list[tuple[str, int, str]]]:
        # 200 registrations, four per email, spread over the three processes at once.
        jobs = [(email, i % 3) for i, email in enumerate(emails * 4)]
        answers = await _spread(group, [(i, register, {"email": e, "password": PASSWORD})
                                        for e, i in jobs])
        registered = [(e, r.status_code) for (e, _), r in zip(jobs, answers, strict=True)]
        # Then the first logins, one per email on every process, at once.
        jobs = [(email, i) for email in emails for i in range(3)]
        answers = await _spread(group, [(i, login, {"username": e, "password": PASSWORD})
                                        for e, i in jobs])
        logins = [(e, r.status_code, r.json().get("user_id", ""))
                  for (e, _), r in zip(jobs, answers, strict=True)]
        return registered, logins

    registered, logins = run(storm())
    assert Counter(status for _, status in registered) == {201: 50, 409: 150}
    assert {e for e, status in registered if status == 201} == set(emails)
    assert all(status == 200 for _, status, _ in logins), Counter(s for _, s, _ in logins)
    owners = {(e, uid) for e, _, uid in logins}
    assert len(owners) == 50 and {e for e, _ in owners} == set(emails)

    async def stored() -> list[Any]:
        store = open_store_for(url, group[0].data_dir)
        await store.open()
        try:
            return await store.list_users()
        finally:
            await store.close()

    users = run(stored())
    assert len(users) == 50
    assert sorted(u.identities[0].data["email"] for u in users) == sorted(emails)
    assert {u.id for u in users} == {uid for _, uid in owners}


LOAD_SECONDS = 4.0
KILL_AFTER = 1.5


def test_a_process_killed_mid_load_loses_nothing_committed(processes: StartProcesses) -> None:
    group = processes(3, UNLIMITED)
    victim = 1
    committed: list[tuple[str, Any]] = []  # What some process answered 200/201 for.
    failures: dict[int, list[str]] = {i: [] for i in range(3)}
    after_kill = Counter[int]()
    killed_at: list[float] = []

    async def worker(n: int, clients: list[httpx.AsyncClient], until: float) -> None:
        for step in itertools.count():
            if time.monotonic() > until:
                return
            index = (n + step) % 3
            http = clients[index]
            try:
                kind, value = await _operation(http, f"load-{n}-{step}", step % 2 == 0)
            except httpx.TransportError as exc:
                failures[index].append(repr(exc))
                continue
            except AssertionError as exc:  # An error answer: a failure of that process.
                failures[index].append(str(exc))
                continue
            committed.append((kind, value))
            if killed_at:
                after_kill[index] += 1

    async def load() -> None:
        clients = [httpx.AsyncClient(base_url=p.base_url, timeout=30) for p in group]
        try:
            until = time.monotonic() + LOAD_SECONDS
            workers = [asyncio.create_task(worker(n, clients, until)) for n in range(12)]
            await asyncio.sleep(KILL_AFTER)
            group[victim].kill()
            killed_at.append(time.monotonic())
            await asyncio.gather(*workers)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))

    run(load())
    survivors = [i for i in range(3) if i != victim]
    # The others kept serving, without a single failed request, before and after the kill.
    assert all(not failures[i] for i in survivors), {i: failures[i][:3] for i in survivors}
    assert all(after_kill[i] >= 5 for i in survivors), after_kill
    assert group[victim].proc.returncode == -9
    assert len(committed) > 20  # A floor that shows load ran, even on a busy CI machine.
    # Everything any process answered with success, the victim included, is still there.
    run(_verify_committed(group[survivors[0]], committed))


async def _operation(http: httpx.AsyncClient, label: str, anonymous: bool) -> tuple[str, Any]:
    """One unit of load; what it committed. Raises ``AssertionError`` on an error answer."""
    if anonymous:
        resp = await http.post(routes.login(APP_ID, routes.ANON_USER), json={})
        assert resp.status_code == 200, resp.text
        return "session", resp.json()
    email = f"{label}@example.com"
    resp = await http.post(routes.userpass(APP_ID, routes.USERPASS_REGISTER),
                           json={"email": email, "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    return "account", email


async def _verify_committed(process: ServeProcess, committed: list[tuple[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=process.base_url, timeout=60) as http:
        sem = asyncio.Semaphore(20)

        async def check(kind: str, value: Any) -> None:
            async with sem:
                if kind == "session":
                    resp = await http.post(routes.session(), headers=auth(value["refresh_token"]))
                    assert resp.status_code == 201, (value["user_id"], resp.text)
                else:
                    resp = await http.post(routes.login(APP_ID, routes.LOCAL_USERPASS),
                                           json={"username": value, "password": PASSWORD})
                    assert resp.status_code == 200, (value, resp.text)

        await asyncio.gather(*(check(k, v) for k, v in committed))
