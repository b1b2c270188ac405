"""Login rate limits: failures per account and attempts per client address."""

from __future__ import annotations

import sys
import time

from server.services.ratelimit import SlidingWindow

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


# The limiter itself (pure).

def test_sliding_window_counts_per_key() -> None:
    window = SlidingWindow(2, 10)
    window.hit("a", now=0)
    assert not window.blocked("a", now=1)
    window.hit("a", now=1)
    assert window.blocked("a", now=2) and not window.blocked("b", now=2)
    assert not window.blocked("a", now=10.5)  # the first hit left the window
    window.reset("a")
    assert not window.blocked("a", now=2)


def test_sliding_window_memory_stays_bounded() -> None:
    window = SlidingWindow(5, 60, max_keys=100)
    for i in range(1000):
        window.hit(f"addr-{i}", now=float(i) / 1000)
    assert len(window._events) <= 100


def test_sliding_window_does_not_keep_huge_keys() -> None:
    # Login usernames are not length-checked before they become limiter keys; a flood of
    # failures with distinct 60 KB names must not pin 60 KB each.
    window = SlidingWindow(5, 60, max_keys=1000)
    for i in range(200):
        window.hit(f"userpass:{i}" + "x" * 60_000)
    assert sum(sys.getsizeof(k) for k in window._events) < 200 * 200
    big = "userpass:" + "y" * 60_000
    for _ in range(5):
        window.hit(big)
    assert window.blocked(big)
    window.reset(big)
    assert not window.blocked(big)


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
