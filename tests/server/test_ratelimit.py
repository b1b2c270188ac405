"""Login rate limits: failures per account and attempts per client address."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from server.services.ratelimit import RateLimit
from server.store import SQLiteStore

from .helpers import Api, assert_error


def limits(**security: float) -> dict:
    return {"security": {"login_attempts_per_address": 1000, **security}}


def test_too_many_failures_lock_the_account(make_api) -> None:
    api: Api = make_api(limits(login_failures_per_account=3))
    api.user("victim@example.com")
    api.user("other@example.com")
    for _ in range(3):
        assert_error(api.log_in("victim@example.com", "wrong guess"), 401, "InvalidPassword")
    assert_error(api.log_in("victim@example.com", "wrong guess"), 429, "TooManyRequests")
    # Even the right password waits; other accounts do not.
    assert_error(api.log_in("victim@example.com"), 429, "TooManyRequests")
    assert api.log_in("other@example.com").status_code == 200


def test_unknown_accounts_are_limited_alike(make_api) -> None:
    api: Api = make_api(limits(login_failures_per_account=2))
    for _ in range(2):
        assert_error(api.log_in("ghost@example.com"), 401, "InvalidPassword")
    assert_error(api.log_in("ghost@example.com"), 429, "TooManyRequests")


def test_a_successful_login_clears_the_failures(make_api) -> None:
    api: Api = make_api(limits(login_failures_per_account=3))
    api.user("forgetful@example.com")
    for _ in range(2):
        api.log_in("forgetful@example.com", "wrong guess")
    assert api.log_in("forgetful@example.com").status_code == 200
    for _ in range(2):
        assert_error(api.log_in("forgetful@example.com", "wrong guess"), 401, "InvalidPassword")
    assert api.log_in("forgetful@example.com").status_code == 200


def test_two_servers_on_one_store_count_together(make_api, tmp_path) -> None:
    # The failures live in the store, so servers sharing it (processes behind one address)
    # share the count: two failures on each of two servers lock the account on both.
    first: Api = make_api(limits(login_failures_per_account=4), data_dir=tmp_path / "shared")
    second: Api = make_api(limits(login_failures_per_account=4), data_dir=tmp_path / "shared")
    first.user("shared@example.com")
    for api in (first, second, first, second):
        assert_error(api.log_in("shared@example.com", "wrong guess"), 401, "InvalidPassword")
    for api in (first, second):
        assert_error(api.log_in("shared@example.com"), 429, "TooManyRequests")


def test_the_lock_ends_with_the_window(make_api) -> None:
    api: Api = make_api(limits(login_failures_per_account=1, rate_window_seconds=1))
    api.user("patient@example.com")
    api.log_in("patient@example.com", "wrong guess")
    assert_error(api.log_in("patient@example.com"), 429, "TooManyRequests")
    time.sleep(1.05)
    assert api.log_in("patient@example.com").status_code == 200


def test_attempts_per_address(make_api) -> None:
    api: Api = make_api({"security": {"login_attempts_per_address": 3}})
    api.register("a@example.com")
    assert api.log_in("a@example.com").status_code == 200
    assert_error(api.log_in("b@example.com"), 401, "InvalidPassword")
    assert_error(api.log_in("c@example.com"), 401, "InvalidPassword")
    assert_error(api.log_in("a@example.com"), 429, "TooManyRequests")
    assert_error(api.log_in("d@example.com"), 429, "TooManyRequests")
    # Other providers are not email/password logins.
    assert api.anon().status_code == 200


def test_the_limit_counts_over_loopback_per_address(server_factory) -> None:
    import httpx

    live = server_factory({"security": {"login_attempts_per_address": 2}})
    with httpx.Client(base_url=live.base_url) as http:
        api = Api(http)
        for _ in range(2):
            assert_error(api.log_in("x@example.com"), 401, "InvalidPassword")
        assert_error(api.log_in("y@example.com"), 429, "TooManyRequests")


# The limiter itself, on a real store.


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


async def _limiter(tmp_path, limit: int, window: float) -> tuple[RateLimit, Clock, SQLiteStore]:
    store = SQLiteStore(tmp_path / "limits.sqlite3")
    await store.open()
    clock = Clock()
    return RateLimit(store, "test", limit, window, clock), clock, store


def test_rate_limit_counts_per_key(tmp_path) -> None:
    async def main() -> None:
        limit, clock, store = await _limiter(tmp_path, 2, 10)
        try:
            assert await limit.hit("a") and not await limit.blocked("a")
            clock.now += 1
            assert await limit.hit("a") and await limit.blocked("a")
            assert not await limit.hit("a") and await limit.count("a") == 2
            assert not await limit.blocked("b")
            clock.now += 9.5  # the first hit left the window
            assert not await limit.blocked("a")
            await limit.reset("a")
            assert await limit.count("a") == 0
        finally:
            await store.close()

    asyncio.run(main())


def test_rate_limit_keys_are_short_and_storable(tmp_path) -> None:
    # Login usernames are not length-checked before they become limiter keys, and may hold
    # characters that PostgreSQL text cannot: such keys are stored as digests.
    async def main() -> None:
        limit, _clock, store = await _limiter(tmp_path, 5, 60)
        try:
            for key in ("x" * 60_000, "a\x00@example.com", "tab\there"):
                for _ in range(5):
                    assert await limit.hit(key)
                assert await limit.blocked(key) and not await limit.blocked(key + "!")
                await limit.reset(key)
                assert not await limit.blocked(key)
            await limit.hit("y" * 60_000)
            rows = await asyncio.to_thread(_rate_keys, tmp_path / "limits.sqlite3")
            assert max(len(k) for k in rows) < 100 and not any("\x00" in k for k in rows)
        finally:
            await store.close()

    asyncio.run(main())


def _rate_keys(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [k for (k,) in conn.execute("SELECT key FROM rate_events")]


def test_mail_to_one_address_is_limited(make_api) -> None:
    # confirm/send and reset/send mail anybody's address on request: without a limit the
    # server would be a mail cannon pointed at its own users.
    api: Api = make_api({"security": {"mails_per_address": 3},
                         "providers": {"local-userpass": {"confirmation": "email"}}})
    api.register("target@example.com")
    api.register("bystander@example.com")
    for _ in range(2):
        assert api.action("confirm/send", {"email": "target@example.com"}).status_code == 204
    assert_error(api.action("reset/send", {"email": "target@example.com"}), 429,
                 "TooManyRequests")
    assert_error(api.action("confirm/send", {"email": "target@example.com"}), 429,
                 "TooManyRequests")
    assert len([m for m in api.outbox() if m["to"] == "target@example.com"]) == 3
    assert api.action("reset/send", {"email": "bystander@example.com"}).status_code == 204
