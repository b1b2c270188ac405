"""Brute-force defence for email/password logins, without a lock-out button for attackers.

A password can be guessed, so each attempt passes four counts in the store (``ratelimit``)
before its password hash is checked. None of them locks the owner out:

1. Per client address: ``login_attempts_per_address`` attempts per window, on any accounts
   (credential stuffing from one address).
2. Per account and source: ``login_failures_per_account`` failures per window, where the source
   is the client address, or the device when it is known (below). That source then waits for
   the window; other addresses and the owner's devices do not. A success clears the count. An
   attempt is counted before its hash is checked and the count is cleared if it succeeds, so
   concurrent guesses cannot slip past the limit.
3. Per account, from unknown devices on any address: the first ``login_slowdown_after``
   attempts in ``login_slowdown_window_seconds`` pass; after that the account is paced, never
   locked: the k-th further attempt must come at least ``min(2**k, login_max_delay_seconds)``
   seconds after the previous one, and of attempts that arrive together only one goes on.
   Others get 429 with ``Retry-After``. This is what holds a botnet with many addresses to a few
   dozen guesses per account per day. An address that took a paced attempt on an account takes
   none of the next one: otherwise one address, polling, would take every slot the moment it
   opened and keep the owner's new devices out for good (a lock-out button after all). It has
   to wait twice the pace, so the slot after its own is left to others.
4. Known devices skip 3 and have their own count in 2: a device is known to an account for the
   refresh token lifetime after a successful login from it, by the device id the session was
   issued for (realm-web sends it back as ``options.device.deviceId``). New device ids are 96
   random bits (``sessions.new_device_id``), so an attacker cannot guess the owner's.

Unknown emails go through exactly the same counts (keyed by the email instead of the account),
so the answers never tell whether an account exists.

HTTP-free: ``providers.email_password`` calls ``admit`` with the client address and device id.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..emails import email_key
from .context import Services
from .ratelimit import (
    LOGIN_MESSAGE,
    UNLIMITED,
    RateLimit,
    limit,
    too_many_requests,
)


@dataclass(frozen=True, slots=True)
class Admission:
    """An attempt that may check its password; tell it how that went."""

    services: Services
    account: str
    source: str
    device_id: str

    async def succeeded(self, *, remember_device: bool = True) -> None:
        """The password was right: clear the source's failures and remember the device."""
        await _failures(self.services).reset(self.source)
        if remember_device and self.device_id:
            await _known_devices(self.services).hit(f"{self.account}:{self.device_id}")


def account_key(account_id: str | None, email: str) -> str:
    """The key an account's attempts are counted under: its id, or the email for none."""
    return account_id if account_id is not None else "email:" + email_key(email)


def delay(over: int, longest: float) -> float:
    """The wait before the next attempt once ``over`` attempts went past the threshold."""
    return min(2.0 ** min(over, 62), longest)


async def admit(services: Services, account: str, address: str, device_id: str) -> Admission:
    """Let one attempt check its password, or raise 429 with ``Retry-After``."""
    known = bool(device_id) and await _known_devices(services).count(
        f"{account}:{device_id}") > 0
    source = f"{account}|device:{device_id}" if known else f"{account}|address:{address}"
    failures = _failures(services)
    # Refusals that cost nothing come first, so that a source already refused does not also use
    # up its address's allowance or the account's next paced attempt.
    if await failures.blocked(source):
        raise too_many_requests(LOGIN_MESSAGE, failures.window)
    per_address = limit(services, "login-address",
                        services.settings.security.login_attempts_per_address)
    await per_address.take(address, LOGIN_MESSAGE)
    if not known:
        await _pace(services, account, address)
    await failures.take(source, LOGIN_MESSAGE)
    return Admission(services, account, source, device_id)


async def _pace(services: Services, account: str, address: str) -> None:
    security = services.settings.security
    attempts = limit(services, "login-slowdown", security.login_slowdown_after,
                     security.login_slowdown_window_seconds)
    if await attempts.hit(account):
        return
    over = await attempts.count(account) - security.login_slowdown_after
    wait = delay(over, security.login_max_delay_seconds)
    # The slot makes "one paced attempt per wait" one step in the store: attempts from many
    # addresses arriving together see the same count, and only one of them records the slot.
    slot = RateLimit(services.store, "login-slot", 1, wait)
    taken = RateLimit(services.store, "login-slot-address", UNLIMITED,
                      2 * security.login_max_delay_seconds)
    mine = f"{account}|{address}"
    if await taken.count(mine, 2 * wait) > 0:
        raise too_many_requests(LOGIN_MESSAGE, 2 * wait)
    if await attempts.count(account, wait) > 0 or not await slot.hit(account):
        raise too_many_requests(LOGIN_MESSAGE, wait)
    await taken.hit(mine)
    await RateLimit(services.store, attempts.name, UNLIMITED, attempts.window).hit(account)


def _failures(services: Services) -> RateLimit:
    return limit(services, "login-account", services.settings.security.login_failures_per_account)


def _known_devices(services: Services) -> RateLimit:
    # One event per account and device, kept as long as a session from that login can live.
    return limit(services, "known-device", 1, services.settings.refresh_token_seconds)
