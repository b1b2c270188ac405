"""kill -9 under load, on SQLite and on PostgreSQL (issue 16): what was acknowledged survives.

Each round starts ``serve.py`` on the same data dir and database, lets 16 clients run account
lifecycles against it, kills it with SIGKILL while requests are in flight, starts it again and
checks every account of the round against what its client was told:

- an answered (2xx) write is there: the account logs in, a live session refreshes, a logged-out
  session is refused, and after a password reset only the new password works;
- a refused write (the reset function said no) changed nothing;
- a write whose answer never came (the kill) happened wholly or not at all: an account that
  cannot log in can be registered again, and exactly one of the old and new password works.

Each lifecycle runs one step at a time, and stops at its first unanswered request. After the
last round every account of every round is checked again, so later kills did not undo earlier
writes. The rounds are bounded by acknowledged writes, not time, so a slow machine gets the
same test, only slower.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sdk import routes
from tests.sdk.runner import run

from .cluster import APP_ID, UNLIMITED, ServeProcess, free_port, spawn, wait_ready, write_config

CLIENTS = 8
#: Acknowledged writes before the kill, per round. The clients move almost in step, so these
#: land the kills on different steps: registrations, logins, logouts, resets.
KILL_AFTER = (10, 28, 50, 75)
ROUNDS = len(KILL_AFTER)
OLD, NEW = "first-password-1", "second-password-2"
REGISTER = routes.userpass(APP_ID, routes.USERPASS_REGISTER)
RESET = routes.userpass(APP_ID, routes.USERPASS_RESET_CALL)
LOGIN = routes.login(APP_ID, routes.LOCAL_USERPASS)
CONFIG = {**UNLIMITED, "providers": {"local-userpass": {"reset": "function"}}}
#: An answer that never came: the request was in flight when the server died.
LOST = -1


@dataclass
class Account:
    """One account's lifecycle as its client saw it: each step and the status it got."""

    email: str
    address: str
    steps: dict[str, int] = field(default_factory=dict)
    first: str = ""  # Refresh token of the session logged out in step "logout_first".
    second: str = ""  # Refresh token of the session opened with the new password.

    def acked(self, step: str) -> bool:
        return 200 <= self.steps.get(step, 0) < 300

    def lost(self, step: str) -> bool:
        return self.steps.get(step) == LOST


class Load:
    """Clients running lifecycles until ``KILL_AFTER`` writes are acknowledged."""

    def __init__(self, base_url: str, round_no: int) -> None:
        self.base_url = base_url
        self.round_no = round_no
        self.accounts: list[Account] = []
        self.acked = 0
        self.enough = asyncio.Event()
        self.unexpected: list[str] = []
        self.counter = itertools.count()

    async def client(self, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            while True:  # Until a request goes unanswered: the server was killed.
                i = next(self.counter)
                account = Account(f"crash-{self.round_no}-{i}@example.com",
                                  f"10.{self.round_no}.{i // 250}.{i % 250 + 1}")
                self.accounts.append(account)
                if not await self._lifecycle(http, account, keep_second=i % 2 == 1):
                    return

    async def _step(self, http: httpx.AsyncClient, account: Account, step: str, method: str,
                    path: str, expect: int, *, body: Any = None, token: str = "") -> Any:
        headers = {"X-Forwarded-For": account.address}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = await http.request(method, path, json=body, headers=headers)
        except httpx.TransportError:
            account.steps[step] = LOST
            return None
        account.steps[step] = resp.status_code
        if resp.status_code != expect:
            self.unexpected.append(f"{account.email} {step}: {resp.status_code} {resp.text}")
            return None
        if 200 <= resp.status_code < 300 and step != "refresh":
            self.acked += 1
            if self.acked >= KILL_AFTER[self.round_no]:
                self.enough.set()
        return resp.json() if resp.content else {}

    async def _lifecycle(self, http: httpx.AsyncClient, a: Account, *, keep_second: bool) -> bool:
        """The steps of one account; False once one went unanswered (the server is gone)."""
        creds = {"email": a.email, "password": OLD}
        if await self._step(http, a, "register", "POST", REGISTER, 201, body=creds) is None:
            return False
        first = await self._step(http, a, "login_first", "POST", LOGIN, 200,
                                 body={"username": a.email, "password": OLD})
        if first is None:
            return False
        a.first = first["refresh_token"]
        steps: list[tuple[str, str, str, int, Any, str]] = [
            ("refresh", "POST", routes.session(), 201, None, a.first),
            ("logout_first", "DELETE", routes.session(), 204, None, a.first),
            ("reset_refused", "POST", RESET, 400,
             {"email": a.email, "password": "never-set-1", "arguments": ["no"]}, ""),
            ("reset", "POST", RESET, 204,
             {"email": a.email, "password": NEW, "arguments": ["let me in"]}, ""),
        ]
        for step, method, path, expect, body, token in steps:
            if await self._step(http, a, step, method, path, expect, body=body,
                                token=token) is None:
                return False
        second = await self._step(http, a, "login_second", "POST", LOGIN, 200,
                                  body={"username": a.email, "password": NEW})
        if second is None:
            return False
        a.second = second["refresh_token"]
        if not keep_second and await self._step(http, a, "logout_second", "DELETE",
                                                routes.session(), 204,
                                                token=a.second) is None:
            return False
        return True


async def _can_log_in(http: httpx.AsyncClient, a: Account, password: str) -> bool:
    resp = await http.post(LOGIN, json={"username": a.email, "password": password},
                           headers={"X-Forwarded-For": a.address})
    assert resp.status_code in (200, 401), (a.email, resp.status_code, resp.text)
    return resp.status_code == 200


async def _session_alive(http: httpx.AsyncClient, token: str) -> bool:
    resp = await http.post(routes.session(), headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code in (201, 401), resp.text
    return resp.status_code == 201


async def _check(http: httpx.AsyncClient, a: Account) -> list[str]:
    """What is wrong with one account after the restart (nothing, we hope)."""
    wrong: list[str] = []
    if not a.acked("register"):
        # Never acknowledged: there wholly (it logs in) or not at all (it can be registered).
        if not await _can_log_in(http, a, OLD):
            resp = await http.post(REGISTER, json={"email": a.email, "password": OLD},
                                   headers={"X-Forwarded-For": a.address})
            if resp.status_code != 201:
                wrong.append(f"{a.email}: half-registered ({resp.status_code} {resp.text})")
            a.steps = {"register": 201}  # Now it is there, for the final check.
        return wrong
    old, new = await _can_log_in(http, a, OLD), await _can_log_in(http, a, NEW)
    if a.acked("reset"):
        expected = {(False, True)}
    elif a.lost("reset"):
        expected = {(True, False), (False, True)}  # One of the two, never both or neither.
    else:
        expected = {(True, False)}  # Including a refused reset: nothing changed.
    if (old, new) not in expected:
        wrong.append(f"{a.email}: old/new password log in {old}/{new} after {a.steps}")
    if a.first and a.acked("logout_first") and await _session_alive(http, a.first):
        wrong.append(f"{a.email}: a logged-out session refreshes")
    if a.first and "logout_first" not in a.steps and not await _session_alive(http, a.first):
        wrong.append(f"{a.email}: a session that was never logged out is gone")
    if a.second:
        alive = await _session_alive(http, a.second)
        if a.acked("logout_second") and alive:
            wrong.append(f"{a.email}: the second session refreshes after its logout")
        if "logout_second" not in a.steps and not alive:
            wrong.append(f"{a.email}: the second session is gone")
    return wrong


async def _check_all(base_url: str, accounts: list[Account]) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        sem = asyncio.Semaphore(8)

        async def one(a: Account) -> list[str]:
            async with sem:
                return await _check(http, a)

        found = await asyncio.gather(*(one(a) for a in accounts))
    return [line for lines in found for line in lines]


def _database(store: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if store == "sqlite":
        return f"sqlite:{tmp / 'crash.sqlite3'}"
    return str(request.getfixturevalue("postgres_server").fresh_url())


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_kill_9_under_load_loses_no_acknowledged_write(store: str, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    database = _database(store, tmp_path, request)
    config = write_config(tmp_path / "config.toml", CONFIG)
    every: list[Account] = []
    figures: Counter[str] = Counter()
    began = time.monotonic()

    def start() -> ServeProcess:
        # The same data dir (signing key) and database each time, on a fresh port.
        process = spawn("crash", tmp_path, database, config, "--forwarded-allow-ips",
                        "127.0.0.1", port=free_port())
        try:
            wait_ready(process)
        except BaseException:
            process.stop()
            raise
        return process

    process = start()
    try:
        for round_no in range(ROUNDS):
            load = Load(process.base_url, round_no)

            async def storm(load: Load = load, victim: ServeProcess = process) -> None:
                clients = [asyncio.create_task(load.client(n)) for n in range(CLIENTS)]
                await asyncio.wait_for(load.enough.wait(), 120)
                victim.kill()
                await asyncio.gather(*clients)

            run(storm())
            assert process.proc.returncode == -9
            assert not load.unexpected, load.unexpected[:5]
            figures["acknowledged"] += load.acked
            figures.update(f"{step} {'unanswered' if code == LOST else code}"
                           for a in load.accounts for step, code in a.steps.items())
            # The restarted server is checked, then carries the next round's load.
            process = start()
            wrong = run(_check_all(process.base_url, load.accounts))
            assert not wrong, wrong[:10]
            every += load.accounts
        # Later kills did not undo earlier writes.
        wrong = run(_check_all(process.base_url, every[:-len(load.accounts)]))
        assert not wrong, wrong[:10]
    finally:
        process.stop()
    lost = sum(n for name, n in figures.items() if name.endswith("unanswered"))
    print(f"\nkill -9 on {store}: {ROUNDS} rounds, {len(every)} accounts, "
          f"{figures['acknowledged']} acknowledged writes, {lost} requests unanswered at the "
          f"kills, 0 lost, {time.monotonic() - began:.1f} s; by step: {sorted(figures.items())}")
