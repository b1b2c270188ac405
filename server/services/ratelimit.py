"""Rate limits: sliding windows per key (an account, a client address, an email), in the store.

The events live in the ``Store`` (``hit_rate``, ``rate_count``, ``reset_rate``), not in process
memory, so every server process behind one address counts the same attempts: ten failed logins
spread over three processes lock an account as ten on one would.

There is deliberately no in-memory fast path: a process cannot know, without asking the store,
that another process has recorded an event or reset a key, and a cache that answers "not limited"
from stale counts would let a spread-out attack through. One indexed query per check is cheap
next to the password hash that every login attempt costs anyway.

Keys hold client input (the username of a failed login, which nothing else limits in length or
content), so a long key, or one with control characters that some databases cannot store
(PostgreSQL text has no NUL), is kept as its digest. Times are wall-clock Unix seconds, since
processes on several machines share the events; keep their clocks in sync (NTP), as for tokens.

```python
limit = RateLimit(store, "login-address", limit=60, window=300)
if not await limit.hit("203.0.113.9"):
    raise too_many_requests()
```
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from ..store.base import Store

MAX_KEY_LENGTH = 128


def _key(name: str, key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{name}:{key}"


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

    async def count(self, key: str) -> int:
        """How many events the key has in the window."""
        return await self.store.rate_count(_key(self.name, key), self.window, self.clock())

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

    async def reset(self, key: str) -> None:
        """Forget a key (after a successful login)."""
        await self.store.reset_rate(_key(self.name, key))
