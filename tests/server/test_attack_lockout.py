"""The pace as a lock-out button (found by attacking a running server): once an account was paced,
one attacker address that kept polling took every slot the moment it opened, so the owner on a
new device never got one (0 of 10 tries in 12 s). An address that took a paced attempt now
takes none of the next one."""

from __future__ import annotations

import time

from .helpers import PASSWORD
from .test_bruteforce import log_in, make_clients, owner_device

__all__ = ["make_clients"]

ATTACKER = "203.0.113.66"


def test_one_polling_address_cannot_keep_new_devices_out(make_clients) -> None:
    at = make_clients({"security": {
        "login_failures_per_account": 1000, "login_attempts_per_address": 100_000,
        "login_slowdown_after": 2, "login_max_delay_seconds": 1}})
    owner_device(at)
    attacker = at(ATTACKER)
    got_in = tries = 0
    began = next_try = time.monotonic()
    while time.monotonic() - began < 8:
        log_in(attacker, "wrong guess")
        if time.monotonic() >= next_try:  # The owner, on a new phone at a new address.
            tries += 1
            got_in += log_in(at(f"192.0.2.{tries}"), PASSWORD).status_code == 200
            next_try += 0.45
        time.sleep(0.02)
    # One slot a second, the attacker's every other one: the owner gets in every 2 s or so.
    assert got_in >= 2, (got_in, tries)


def test_the_attacker_still_gets_its_share(make_clients) -> None:
    at = make_clients({"security": {
        "login_failures_per_account": 1000, "login_attempts_per_address": 100_000,
        "login_slowdown_after": 1, "login_max_delay_seconds": 1}})
    owner_device(at)
    attacker = at(ATTACKER)
    time.sleep(1.05)
    assert log_in(attacker, "wrong guess").status_code == 401  # its paced attempt
    time.sleep(1.05)
    refused = log_in(attacker, "wrong guess")  # the next slot is not its own
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    time.sleep(1.0)
    assert log_in(attacker, "wrong guess").status_code == 401  # and the one after that is
