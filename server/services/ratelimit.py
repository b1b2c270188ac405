"""Rate limits: sliding windows per key (an account, a client address, an email), in the store,
and the limits every login, registration and mail endpoint takes.

The events live in the ``Store`` (``hit_rate``, ``rate_count``, ``reset_rate``), not in process
memory, so every server process behind one address counts the same attempts: ten failed logins
spread over three processes count as ten on one would.

There is deliberately no in-memory fast path: a process cannot know, without asking the store,
that another process has recorded an event or reset a key, and a cache that answers "not limited"
from stale counts would let a spread-out attack through. One indexed query per check is cheap
next to the password hash that every login attempt costs anyway.

Keys hold client input (the username of a failed login, which nothing else limits in length or
content), so a long key, or one with control characters that some databases cannot store
(PostgreSQL text has no NUL), is kept as its digest. Times are wall-clock Unix seconds, since
processes on several machines share the events; keep their clocks in sync (NTP), as for tokens.

Rule 1: every request that can create a user or a session, send a mail, run an app function or
tell whether an email has an account is counted per client address *and* per target (the
email, the proven identity) before it does that work. Email/password logins, which can guess a
password, follow the stricter policy of ``bruteforce``.

Rule 2: a refusal is 429 ``TooManyRequests`` with ``Retry-After`` (whole seconds, at most the
window), and answers the same whether the email has an account or not.

HTTP-free: the routes pass the client address in; nothing here sees a request.

```python
limit = RateLimit(store, "login-address", limit=60, window=300)
if not await limit.hit("203.0.113.9"):
    raise too_many_requests("too many login attempts; try again later", limit.window)
```
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..emails import email_key
from ..errors import ApiError
from ..store.base import Identity, RateHit, Store
from .context import Services

MAX_KEY_LENGTH = 128
#: A limit that never refuses, for events that are recorded only to be counted.
UNLIMITED = 2**62
#: The config's largest limit (``config_check``): ``logins_per_address`` set to it is off, so
#: logins record no event (a load test from one address, behind a proxy that hides addresses).
NO_LIMIT = 10**9

LOGIN_MESSAGE = "too many login attempts; try again later"
EMAIL_MESSAGE = "too many requests for this email address; try again later"
ADDRESS_MESSAGE = "too many requests from this address; try again later"
MAIL_MESSAGE = "too many emails to this address; try again later"


def _key(name: str, key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{name}:{key}"


def too_many_requests(message: str, retry_after: float) -> ApiError:
    """429 ``TooManyRequests`` with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(1, math.ceil(retry_after))
    return ApiError(ErrorCode.TOO_MANY_REQUESTS, 429, message, {"Retry-After": str(seconds)})


class RateLimit:
    """At most ``limit`` events per key in the last ``window`` seconds, for every process.

    ``name`` keeps the keys of different limits apart in the store (``login-account``,
    ``login-address``, ``mail``).
    """

    def __init__(self, store: Store, name: str, limit: int, window: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.window = window
        self.clock = clock

    async def count(self, key: str, window: float | None = None) -> int:
        """How many events the key has in the window (or in the last ``window`` seconds)."""
        span = self.window if window is None else window
        return await self.store.rate_count(_key(self.name, key), span, self.clock())

    async def blocked(self, key: str) -> bool:
        """Whether the key has reached its limit."""
        return await self.count(key) >= self.limit

    async def hit(self, key: str) -> bool:
        """Record one event unless the key is at its limit; ``False`` means limited.

        The check and the record are one step in the store, so concurrent requests in several
        processes never get more than ``limit`` events through between them.
        """
        return await self.store.hit_rate(_key(self.name, key), self.window, self.clock(),
                                         self.limit)

    async def take(self, key: str, message: str) -> None:
        """Record one event, or raise 429 (``Retry-After``: the window) when at the limit."""
        if not await self.hit(key):
            raise too_many_requests(message, self.window)

    async def reset(self, key: str) -> None:
        """Forget a key (after a successful login)."""
        await self.store.reset_rate(_key(self.name, key))


def limit(services: Services, name: str, count: int, window: float | None = None) -> RateLimit:
    """A limit on the services' store; the window defaults to ``rate_window_seconds``."""
    span = services.settings.security.rate_window_seconds if window is None else window
    return RateLimit(services.store, name, count, span)


async def login_attempt(services: Services, address: str) -> None:
    """Count a login with any provider but email/password against its client address."""
    security = services.settings.security
    if security.logins_per_address >= NO_LIMIT:
        return
    await limit(services, "logins-address", security.logins_per_address).take(
        address, LOGIN_MESSAGE)


async def identity_login(services: Services, identity: Identity) -> None:
    """Count a login of one proven identity; anonymous identities are new every time."""
    if identity.provider_type == routes.ANON_USER:
        return
    security = services.settings.security
    await limit(services, "logins-identity", security.logins_per_identity).take(
        f"{identity.provider_type}:{identity.id}", LOGIN_MESSAGE)


async def email_request(services: Services, address: str, payload: dict[str, Any]) -> None:
    """Count a registration, mail request or confirmation/reset function call against its client
    address and its email, before anything tells whether the email has an account."""
    security = services.settings.security
    await limit(services, "email-address", security.email_requests_per_address).take(
        address, ADDRESS_MESSAGE)
    email = payload.get("email")
    if isinstance(email, str):
        await limit(services, "email-target", security.email_requests_per_address).take(
            email_key(email), EMAIL_MESSAGE)


async def mail_or_function(services: Services, email: str) -> None:
    """Count a mail to an email, or a run of the confirmation or reset function for it: the
    owner's inbox gets at most ``mails_per_address`` a window, whoever asks."""
    await limit(services, "mail", services.settings.security.mails_per_address).take(
        email_key(email), MAIL_MESSAGE)


def login_hit(services: Services, address: str) -> RateHit | None:
    """``login_attempt``'s event, for a store write that records it with its own rows
    (``Store.create_user_session``); ``None`` when the limit is off."""
    security = services.settings.security
    if security.logins_per_address >= NO_LIMIT:
        return None
    return RateHit(_key("logins-address", address), security.rate_window_seconds, time.time(),
                   security.logins_per_address)
