"""Brute force without a lock-out button (issue 16, item 7): guesses are held back per address,
per account and address, and per account across addresses by slowing down; the owner gets in
from their own device, and from anywhere after a short wait, while an attacker hammers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.sdk import routes
from server.errors import ApiError
from server.services import bruteforce

from .addresses import Clients, open_clients
from .helpers import PASSWORD, Api, assert_error

HOME, CAFE = "198.51.100.7", "192.0.2.44"
ATTACKER = "203.0.113.66"
EMAIL = "owner@example.com"


@pytest.fixture
def make_clients(tmp_path) -> Iterator[Callable[..., Clients]]:
    yield from open_clients(tmp_path)


def log_in(api: Api, password: str = PASSWORD, device: str | None = None) -> Any:
    options = {"device": {"deviceId": device} if device else {}}
    body = {"username": EMAIL, "password": password, "options": options}
    return api.login(routes.LOCAL_USERPASS, body)


def limited(resp: Any) -> int:
    assert_error(resp, 429, "TooManyRequests")
    retry = resp.headers.get("retry-after", "")
    assert retry.isdigit() and int(retry) >= 1, resp.headers
    return int(retry)


def owner_device(at: Clients) -> str:
    """Register the owner and log in once from home; the device id that login was for."""
    home = at(HOME)
    assert home.register(EMAIL).status_code == 201
    resp = log_in(home)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["device_id"])


def test_an_attacker_at_one_address_does_not_lock_the_owner_out(make_clients) -> None:
    at = make_clients({"security": {"login_failures_per_account": 3}})
    device = owner_device(at)
    attacker = at(ATTACKER)
    for _ in range(3):
        assert_error(log_in(attacker, "wrong guess"), 401, "InvalidPassword")
    # The attacker's address is done with this account for the window, right password or not.
    limited(log_in(attacker, "wrong guess"))
    limited(log_in(attacker))
    # The owner is not: from their device, from home in a new browser, and from a new address.
    assert log_in(at(HOME), device=device).status_code == 200
    assert log_in(at(HOME)).status_code == 200
    assert log_in(at(CAFE)).status_code == 200
    # The attacker's refused attempts never reached the password check, so they did not count.
    assert log_in(at("203.0.113.67")).status_code == 200


def test_many_addresses_are_slowed_down_never_locked(make_clients) -> None:
    at = make_clients({"security": {"login_failures_per_account": 2, "login_slowdown_after": 4}})
    device = owner_device(at)
    # A botnet: every address stays under its own limit, but the account counts them all.
    # (The owner's first login from home was one of the account's attempts from a new device.)
    for n in range(3):
        assert_error(log_in(at(f"203.0.113.{n}"), "wrong guess"), 401, "InvalidPassword")
    # From now on attempts from new devices are paced, wherever they come from: 1 s, 2 s, ...
    # (The owner in a café is one of them: the server cannot tell them from the attacker.)
    retry = limited(log_in(at(CAFE)))
    assert retry == 1
    # The owner's device gets through at once, as often as the owner likes.
    for _ in range(3):
        assert log_in(at(HOME), device=device).status_code == 200
    # A new device waits its turn, then gets in: slowed, not locked.
    time.sleep(retry)
    assert log_in(at(CAFE)).status_code == 200
    # Each paced attempt doubles the wait for the next one.
    assert limited(log_in(at("203.0.113.11"), "wrong guess")) == 2


def test_a_known_device_has_its_own_failure_count(make_clients) -> None:
    at = make_clients({"security": {"login_failures_per_account": 2}})
    device = owner_device(at)
    home = at(HOME)
    for _ in range(2):
        assert_error(log_in(home, "typo", device=device), 401, "InvalidPassword")
    # A device id is no skeleton key: it gets as many guesses as an address.
    limited(log_in(home, device=device))
    # The owner's address is a separate count, and so is every other device.
    assert log_in(home).status_code == 200


def test_the_pace_grows_and_is_capped() -> None:
    assert [bruteforce.delay(n, 900) for n in range(4)] == [1, 2, 4, 8]
    assert bruteforce.delay(10, 900) == 900
    assert bruteforce.delay(10**6, 900) == 900


def test_one_paced_attempt_at_a_time_whatever_the_number_of_addresses(make_clients) -> None:
    at = make_clients({"security": {"login_slowdown_after": 1}})
    api = at(HOME)

    async def burst(services: Any) -> list[bool]:
        await bruteforce.admit(services, "acct", "198.51.100.1", "")  # the free attempt
        await asyncio.sleep(1.05)  # the first paced attempt may come 1 s after the last
        results = await asyncio.gather(
            *(bruteforce.admit(services, "acct", f"203.0.113.{n}", "") for n in range(12)),
            return_exceptions=True)
        for r in results:
            assert not isinstance(r, Exception) or (isinstance(r, ApiError) and r.status == 429)
        return [not isinstance(r, Exception) for r in results]

    assert sum(api.run(burst, api.services)) == 1


def test_new_device_ids_are_unpredictable(make_clients) -> None:
    # An ObjectId's middle bytes are the same for every id a process makes and its last ones
    # count up: anybody could guess the device id the owner got. A known device id gets past
    # the account's slow-down, so it must be random.
    api = make_clients()(HOME)
    ids = [api.anon_ok()["device_id"] for _ in range(3)]
    assert len({i[8:18] for i in ids}) == 3
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
