"""Per-address limits against addresses an attacker can vary (found by attacking a running
server): an IPv6 subscriber holds a /64 and got a fresh allowance from each of its 2**64
addresses, and ``::ffff:192.0.2.1`` counted apart from ``192.0.2.1``. IPv6 now counts by /64,
IPv4-mapped addresses as their IPv4 address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .addresses import Clients, open_clients
from .helpers import assert_error


@pytest.fixture
def make_clients(tmp_path: Path) -> Iterator[Callable[..., Clients]]:
    yield from open_clients(tmp_path)


@pytest.mark.parametrize("spellings", [
    ["2001:db8:1:2::1", "2001:db8:1:2::beef", "2001:DB8:1:2:ffff:ffff:ffff:ffff"],
    ["203.0.113.9", "::ffff:203.0.113.9", "::FFFF:cb00:7109"],
])
def test_one_subscriber_is_one_address(make_clients, spellings: list[str]) -> None:
    at = make_clients({"security": {"logins_per_address": 3}})
    for address in spellings:
        assert at(address).anon().status_code == 200
    resp = at(spellings[0].replace("1:2::1", "1:2::2")).anon()
    assert_error(resp, 429, "TooManyRequests")


def test_neighbouring_networks_count_apart(make_clients) -> None:
    at = make_clients({"security": {"logins_per_address": 1}})
    assert at("2001:db8:1:2::1").anon().status_code == 200
    assert_error(at("2001:db8:1:2::2").anon(), 429, "TooManyRequests")
    assert at("2001:db8:1:3::1").anon().status_code == 200
    assert at("203.0.113.10").anon().status_code == 200
