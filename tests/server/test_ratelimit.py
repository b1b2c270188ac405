"""Rate limits: login failures per account and address, attempts per client address, and the
limits of every other provider, of registration and of the endpoints that send mail."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator

import pytest

from app.sdk import routes
from server.services.ratelimit import RateLimit
from server.store import SQLiteStore

from .addresses import Clients, open_clients
from .helpers import Api, assert_error, auth
from .test_custom_jwt import provider as jwt_provider
from .test_custom_jwt import token as jwt_token


def limits(**security: float) -> dict:
    return {"security": {"login_attempts_per_address": 1000, **security}}


def test_too_many_failures_stop_that_address_on_that_account(make_api) -> None:
    # Other addresses and the owner's known devices are not stopped (test_bruteforce.py).
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


# Every other way in (issue 16, item 6): each login provider, registration and every endpoint
# that sends mail or runs a confirmation or reset function is limited per client address and
# per target, and answers 429 with Retry-After.


@pytest.fixture
def make_clients(tmp_path) -> Iterator[Callable[..., Clients]]:
    yield from open_clients(tmp_path)


def assert_limited(resp) -> int:
    """A 429 in the error shape with a Retry-After of whole seconds; the seconds."""
    assert_error(resp, 429, "TooManyRequests")
    retry = resp.headers.get("retry-after", "")
    assert retry.isdigit() and int(retry) >= 1, resp.headers
    return int(retry)


def test_anonymous_logins_are_limited_per_address(make_clients) -> None:
    at = make_clients({"security": {"logins_per_address": 3}})
    first, second = at("203.0.113.1"), at("203.0.113.2")
    for _ in range(3):
        assert first.anon().status_code == 200
    assert assert_limited(first.anon()) <= 300
    assert second.anon().status_code == 200
    # Every provider but email/password shares the address's allowance.
    custom = {"username": "ada", "secret": "v3ry-s3cret"}
    assert_limited(first.login("custom-function", custom))
    assert second.login("custom-function", custom).status_code == 200


def test_api_key_logins_are_limited_per_address_and_per_key(make_clients) -> None:
    at = make_clients({"security": {"logins_per_address": 4, "logins_per_identity": 2}})
    owner = at("198.51.100.7")
    owner.register("keys@example.com")
    session = owner.log_in_ok("keys@example.com")
    resp = owner.http.post(routes.api_keys(), json={"name": "k"},
                           headers=auth(session["refresh_token"]))
    key = resp.json()["key"]
    for address in ("203.0.113.1", "203.0.113.2"):
        assert at(address).login("api-key", {"key": key}).status_code == 200
    # A third login with the same key waits, from any address.
    assert_limited(at("203.0.113.3").login("api-key", {"key": key}))
    # Wrong keys use up the allowance of the address that sends them.
    guesser = at("203.0.113.9")
    for n in range(4):
        assert_error(guesser.login("api-key", {"key": f"{n:064x}"}), 401, "AuthError")
    assert_limited(guesser.login("api-key", {"key": "f" * 64}))


def test_custom_function_logins_are_limited_per_identity(make_clients) -> None:
    at = make_clients({"security": {"logins_per_identity": 2}})
    ada = {"username": "ada", "secret": "v3ry-s3cret"}
    for address in ("203.0.113.1", "203.0.113.2"):
        assert at(address).login("custom-function", ada).status_code == 200
    assert_limited(at("203.0.113.3").login("custom-function", ada))
    bob = {"username": "bob", "secret": "v3ry-s3cret"}
    assert at("203.0.113.3").login("custom-function", bob).status_code == 200


def test_custom_jwt_logins_are_limited_per_subject_and_address(make_clients) -> None:
    at = make_clients({**jwt_provider(), "security": {"logins_per_identity": 2,
                                                      "logins_per_address": 5}})
    for address in ("203.0.113.1", "203.0.113.2"):
        assert at(address).login("custom-token", {"token": jwt_token()}).status_code == 200
    assert_limited(at("203.0.113.3").login("custom-token", {"token": jwt_token()}))
    other = jwt_token(sub="jwt-user-2")
    assert at("203.0.113.3").login("custom-token", {"token": other}).status_code == 200
    # Forged tokens name any subject they like; they count against their address only, so
    # they cannot use up a real subject's allowance.
    forger = at("203.0.113.66")
    for _ in range(5):
        forged = jwt_token(key="a-wrong-secret-of-at-least-thirty-two-bytes", sub="jwt-user-3")
        assert_error(forger.login("custom-token", {"token": forged}), 401, "AuthError")
    assert_limited(forger.login("custom-token", {"token": jwt_token(sub="jwt-user-3")}))
    assert at("203.0.113.4").login("custom-token",
                                   {"token": jwt_token(sub="jwt-user-3")}).status_code == 200


def test_registrations_are_limited_per_address_and_per_email(make_clients) -> None:
    at = make_clients({"security": {"email_requests_per_address": 3}})
    first = at("203.0.113.1")
    for n in range(3):
        assert first.register(f"new{n}@example.com").status_code == 201
    assert_limited(first.register("new3@example.com"))
    # One email, from many addresses: each try costs a password hash, so it is limited too.
    for address in ("203.0.113.2", "203.0.113.3"):
        assert_error(at(address).register("new0@example.com"), 409, "AccountNameInUse")
    assert_limited(at("203.0.113.4").register("NEW0@Example.com"))
    assert at("203.0.113.4").register("new4@example.com").status_code == 201


MAIL_ACTIONS = [("confirm/send", {}), ("reset/send", {}),
                ("confirm/call", {}), ("reset/call", {"password": "new password", "arguments": []})]


@pytest.mark.parametrize(("action", "extra"), MAIL_ACTIONS, ids=[a for a, _ in MAIL_ACTIONS])
def test_mail_and_function_endpoints_are_limited_per_address(make_clients, action: str,
                                                             extra: dict) -> None:
    # Unknown and known emails use up the address's allowance alike: whether an email has an
    # account can be probed only at the pace of the limit.
    at = make_clients({"security": {"email_requests_per_address": 4}})
    at("198.51.100.7").register("known@example.com")
    prober = at("203.0.113.1")
    answers = [prober.action(action, {"email": email, **extra})
               for email in ("ghost1@example.com", "known@example.com",
                             "ghost2@example.com", "known@example.com")]
    assert all(r.status_code != 429 for r in answers), [r.text for r in answers]
    for email in ("ghost3@example.com", "known@example.com"):
        limited = prober.action(action, {"email": email, **extra})
        assert_limited(limited)
        assert limited.json()["error"] == "too many requests from this address; try again later"
    assert at("203.0.113.2").action(action, {"email": "ghost3@example.com", **extra}) \
        .status_code != 429


def test_reset_functions_run_at_most_mails_per_address_times(make_clients) -> None:
    # Like a mail, each run is a side effect for the email's owner (the app's function may
    # text them a code, say), so runs count with the mails to that email.
    at = make_clients({"providers": {"local-userpass": {"reset": "function"}},
                       "security": {"mails_per_address": 2}})
    at("198.51.100.7").register("target@example.com")
    body = {"email": "target@example.com", "password": "new password", "arguments": []}
    for address in ("203.0.113.1", "203.0.113.2"):
        assert at(address).action("reset/call", body).status_code != 429
    assert_limited(at("203.0.113.3").action("reset/call", body))
