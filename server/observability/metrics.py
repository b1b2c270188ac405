"""The server's Prometheus metrics, in one process or in many (``serve.py --workers N``).

Every metric is made here, once per process, at import. With ``PROMETHEUS_MULTIPROC_DIR`` set in
the environment (``serve.py --workers N`` sets it and empties it at start), prometheus-client
keeps each process's values in memory-mapped files in that directory and ``render`` sums them,
so any worker answers a scrape for all of them.

Rule 1: label values come from bounded sets only: route templates (never raw paths), methods,
status codes, provider names the config enables, error codes, store method names.

Rule 2: a request pays a microsecond or two: its counts go into plain dicts of this process,
which ``flush`` moves into the metrics once a second (and before every scrape).

``latchkey_active_sessions`` is not kept by any process: it is counted in the store when
scraped (``SessionsCollector``), at most once per ``SESSIONS_CACHE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import os
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

#: What ``render`` answers with.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SESSIONS_CACHE_SECONDS = 10.0

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_STORE_LATENCY = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0)

REQUESTS = Counter("latchkey_http_requests", "HTTP requests answered, by route template "
                   "and status.", ["method", "route", "status"])
LATENCY = Histogram("latchkey_http_request_duration_seconds", "Time to answer a request, by "
                    "route template.", ["method", "route"], buckets=_LATENCY)
LOGINS = Counter("latchkey_logins", "Logins by provider and outcome (success, or the error "
                 "code of a refusal).", ["provider", "outcome"])
RATE_LIMITED = Counter("latchkey_rate_limited", "Requests refused with 429 TooManyRequests, by "
                       "route template.", ["route"])
FUNCTION_CALLS = Counter("latchkey_function_calls", "Function calls by outcome (ok, error, "
                         "timeout, not_found).", ["outcome"])
STORE_LATENCY = Histogram("latchkey_store_duration_seconds", "Time of store calls, by Store "
                          "method.", ["method"], buckets=_STORE_LATENCY)
AUDIT_DROPPED = Counter("latchkey_audit_events_dropped", "Audit events that could not be "
                        "written.")

#: What requests and store calls added since the last ``flush``, in plain Python numbers
#: (Rule 2): ``(method, route, status) -> count``, ``(method, route) -> [sum, bucket counts]``
#: and ``method -> [sum, bucket counts]``, a bucket per bound and one for +Inf.
_requests: dict[tuple[str, str, int], int] = {}
_latency: dict[tuple[str, str], list[float]] = {}
_store: dict[str, list[float]] = {}
#: Seconds between two flushes of a process's numbers into the shared metrics.
FLUSH_SECONDS = 1.0


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (into this process's buffer, see ``flush``)."""
    key = (method, route, status)
    _requests[key] = _requests.get(key, 0) + 1
    _add(_latency, (method, route), _LATENCY, seconds)


def _add(table: dict[Any, list[float]], key: Any, bounds: tuple[float, ...],
         seconds: float) -> None:
    found = table.get(key)
    if found is None:
        found = table[key] = [0.0] * (len(bounds) + 2)
    found[0] += seconds
    found[1 + bisect_left(bounds, seconds)] += 1


def flush() -> None:
    """Move the buffered counts into the Prometheus metrics (the mmap files under
    ``--workers``): every ``FLUSH_SECONDS`` in the background, and before a scrape.

    A request pays a dict update here instead of five locked writes to memory-mapped files
    (about 25 µs a request, measured); a scrape sees other workers' counts at most
    ``FLUSH_SECONDS`` late. Histogram children are filled through their bucket and sum values,
    which prometheus-client keeps as ``_buckets`` and ``_sum``: the one way to add many
    observations at once (pinned by tests/server/test_observability.py).
    """
    global _requests, _latency, _store
    requests, _requests = _requests, {}
    latency, _latency = _latency, {}
    store, _store = _store, {}
    for (method, route, status), n in requests.items():
        REQUESTS.labels(method, route, str(status)).inc(n)
        if status == 429:
            RATE_LIMITED.labels(route).inc(n)
    for (method, route), values in latency.items():
        _fill(LATENCY.labels(method, route), values)
    for name, values in store.items():
        _fill(STORE_LATENCY.labels(name), values)


def _fill(child: Any, values: list[float]) -> None:
    child._sum.inc(values[0])
    for bucket, n in zip(child._buckets, values[1:], strict=True):
        if n:
            bucket.inc(n)


async def flush_forever() -> None:
    """``flush`` every ``FLUSH_SECONDS`` until cancelled (then once more)."""
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            flush()
    finally:
        flush()


def login(provider: str, outcome: str) -> None:
    """Count one login by provider and outcome."""
    LOGINS.labels(provider, outcome).inc()


def function_call(outcome: str) -> None:
    """Count one function call by outcome."""
    child = _FUNCTION_OUTCOMES.get(outcome)
    if child is None:
        # ``labels`` costs a few microseconds a call; the outcomes are a handful of words.
        child = _FUNCTION_OUTCOMES[outcome] = FUNCTION_CALLS.labels(outcome)
    child.inc()


_FUNCTION_OUTCOMES: dict[str, Any] = {}


class TimedStore:
    """A ``Store`` whose every coroutine method's time goes to ``STORE_LATENCY``.

    It forwards attributes to the store it wraps; ``unwrap`` gives the store back (for code that
    asks what kind of store it is).
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._timed: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        found = self._timed.get(name)
        if found is not None:
            return found
        value = getattr(self._store, name)
        if not name.startswith("_") and asyncio.iscoroutinefunction(value):
            value = _timed(value, name)
            self._timed[name] = value
        return value

    def unwrap(self) -> Any:
        """The store this one times."""
        return self._store


def _timed(fn: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            _add(_store, name, _STORE_LATENCY, time.perf_counter() - start)

    return timed


class SessionsCollector(Collector):
    """``latchkey_active_sessions``: live sessions, counted in the store when scraped."""

    def __init__(self, count: Callable[[], Awaitable[int]]) -> None:
        self._count = count
        self.value: float | None = None
        self._at = 0.0

    async def refresh(self) -> None:
        """Count again when the last count is older than ``SESSIONS_CACHE_SECONDS``."""
        if self.value is None or time.monotonic() - self._at > SESSIONS_CACHE_SECONDS:
            self.value = float(await self._count())
            self._at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        if self.value is not None:
            yield GaugeMetricFamily("latchkey_active_sessions", "Sessions that have not "
                                    "expired, in the whole store.", value=self.value)


def multiprocess() -> bool:
    """Whether the metrics are shared by several processes through files."""
    return bool(os.environ.get(MULTIPROC_ENV))


def render(extra: Collector | None = None) -> bytes:
    """The text exposition of every process's metrics (and ``extra``'s); ``flush`` this
    process's numbers first, on the event loop's thread (the buffers are not locked)."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    if extra is not None:
        registry.register(extra)
    return generate_latest(registry)


class _Default(Collector):
    # The process-wide registry's metrics, without registering ``extra`` in it for good.
    def collect(self) -> Iterator[Metric]:
        return iter(REGISTRY.collect())


def prepare_directory(path: os.PathLike[str] | str) -> None:
    """Empty (or make) the multiprocess directory before the workers start: files of earlier
    runs would add their counts to this run's."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))
