"""Login rate limits: sliding windows per account and per client address, kept in memory.

A limiter counts events per key inside a window; ``hit`` records one and ``blocked`` says whether
the key reached its limit. Memory stays bounded: keys whose events all left the window are dropped,
at most ``max_keys`` keys are kept, and a long key is kept as its digest (keys hold client input,
such as the username of a failed login, which nothing else limits in length).
"""

from __future__ import annotations

import hashlib
import time
from collections import deque

MAX_KEY_LENGTH = 128


def _key(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SlidingWindow:
    """At most ``limit`` events per key in the last ``window`` seconds."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def blocked(self, key: str, now: float | None = None) -> bool:
        """Whether the key has reached its limit."""
        now = time.monotonic() if now is None else now
        key = _key(key)
        events = self._trim(key, now)
        if not events:
            del self._events[key]
            return False
        return len(events) >= self.limit

    def hit(self, key: str, now: float | None = None) -> None:
        """Record one event for the key."""
        now = time.monotonic() if now is None else now
        if len(self._events) >= self.max_keys:
            self._sweep(now)
        self._trim(_key(key), now).append(now)

    def reset(self, key: str) -> None:
        """Forget a key (after a successful login)."""
        self._events.pop(_key(key), None)

    def _sweep(self, now: float) -> None:
        for key in list(self._events):
            if not self._trim(key, now):
                del self._events[key]
        # Still full: drop the oldest keys so memory stays bounded under a flood of addresses.
        while len(self._events) >= self.max_keys:
            self._events.pop(next(iter(self._events)))
