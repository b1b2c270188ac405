"""Connection limits for the HTTP server: slow clients are closed, open connections are capped.

uvicorn closes idle kept-alive connections, but a client that sends half a request line, or
headers a byte every few seconds, or a body that never ends, keeps its connection (and a file
descriptor) for ever; a few thousand of them fill the file descriptor table and nobody else
gets in. ``LimitedHttpProtocol`` is uvicorn's own httptools protocol with three rules added:

1. A request's headers must be complete within ``header_seconds`` of the connection opening,
   or of the request's first byte on a kept-alive connection; then its body within
   ``body_seconds``. A connection that misses a deadline gets a 408 (if no answer has started)
   and is closed; an app task still waiting for that body is cancelled, quietly.
2. At most ``max_connections`` are open per process. A new connection beyond that closes the
   one that has waited longest for its client (idle, or still sending headers; then one still
   sending a body); when every connection has a request in the app, the new one is closed.
3. Closed connections are logged as one summary line per ``LOG_EVERY`` seconds, not one line
   each: an attack must not flood the log.
4. What the server answers before the app sees a request (a 408 here, uvicorn's 400 for bytes
   that are not HTTP) is the error JSON like every other error, its link on this server.

The parsing, flow control and the app calls stay uvicorn's; a request costs a few dict
operations more (deadlines are checked by one sweep, not a timer per request). Pass
``protocol(limits)`` as uvicorn's ``http=``; it pickles, so ``--workers`` processes get it too.
Under uvicorn's own command line, ``--http server.http_limits:LimitedHttpProtocol`` gives the
default limits.
This module imports uvicorn and the error JSON (``server.errors``), never routes or services.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import resource
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.sdk.errors import ErrorCode

from .errors import ApiError
from .http_coalesce import CoalescingTransport
from .settings import SecuritySettings

__all__ = ["HttpLimits", "LimitedHttpProtocol", "connection_cap", "protocol", "raise_fd_limit"]

log = logging.getLogger("uvicorn.error")

#: Seconds between two summary lines about closed connections.
LOG_EVERY = 10.0
#: File descriptors kept free of client connections: the listening socket, the store, logs,
#: function worker pipes.
FD_RESERVE = 256
_TIMEOUT_HEAD = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                 b"connection: close\r\ncontent-length: %d\r\n\r\n")
_BAD_REQUEST_HEAD = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                     b"connection: close\r\ncontent-length: %d\r\n\r\n")


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How long a client may take, and how many connections one process holds."""

    header_seconds: float = 10.0
    body_seconds: float = 30.0
    max_connections: int = 10_000
    #: The base URL of error links (``public_url``, else the address ``serve.py`` listens on);
    #: empty: the socket address the connection came in on.
    link_base: str = ""

    @classmethod
    def from_security(cls, security: SecuritySettings, max_connections: int,
                      link_base: str = "") -> HttpLimits:
        """The limits of the config's ``[security]`` section, with the capped connection count."""
        return cls(security.header_timeout_seconds, security.body_timeout_seconds,
                   max_connections, link_base.rstrip("/"))


def raise_fd_limit() -> tuple[int, int]:
    """Raise this process's open-file soft limit to the hard limit; ``(soft, hard)`` after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # Some platforms cap the soft limit lower (macOS).
            pass
    return soft, hard


def connection_cap(wanted: int, fd_soft_limit: int) -> int:
    """The connection cap per process: ``wanted``, lowered to stay ``FD_RESERVE`` descriptors
    below the open-file limit (each process has its own)."""
    if fd_soft_limit == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, fd_soft_limit - FD_RESERVE))


def protocol(limits: HttpLimits) -> Callable[..., LimitedHttpProtocol]:
    """The protocol factory to pass as uvicorn's ``http=``."""
    return functools.partial(LimitedHttpProtocol, limits=limits)


class _Tracker:
    """One server's connections that wait for their client, oldest first, the sweep that
    closes the late ones, and the counts of closed ones for the next log line.

    Deadlines are checked by one sweep a fraction of a second apart rather than a timer per
    request: entries go in at the end with the time they started waiting, so a sweep stops at
    the first one that is not late, and a request costs a few dict operations.
    """

    def __init__(self, limits: HttpLimits, loop: asyncio.AbstractEventLoop) -> None:
        self.limits = limits
        self.loop = loop
        #: Connected, or a request begun, headers not complete: when that started.
        self.headers: OrderedDict[LimitedHttpProtocol, float] = OrderedDict()
        #: Headers complete, body not: when the headers completed.
        self.body: OrderedDict[LimitedHttpProtocol, float] = OrderedDict()
        #: Between requests on a kept-alive connection (uvicorn's keep-alive timer runs).
        self.idle: OrderedDict[LimitedHttpProtocol, None] = OrderedDict()
        self.closed: dict[str, int] = {}
        self.flush: asyncio.TimerHandle | None = None
        self.sweeper: asyncio.TimerHandle | None = None
        self.every = max(0.05, min(1.0, limits.header_seconds / 4, limits.body_seconds / 4))

    def forget(self, conn: LimitedHttpProtocol) -> None:
        self.headers.pop(conn, None)
        self.body.pop(conn, None)
        self.idle.pop(conn, None)

    def start_sweeping(self) -> None:
        if self.sweeper is None:
            self.sweeper = self.loop.call_later(self.every, self._sweep)

    def _sweep(self) -> None:
        self.sweeper = None
        now = self.loop.time()
        for queue, seconds, reason in ((self.headers, self.limits.header_seconds,
                                        "sent no headers in time"),
                                       (self.body, self.limits.body_seconds,
                                        "sent no body in time")):
            late = []
            for conn, since in queue.items():
                if now - since < seconds:
                    break
                late.append(conn)
            for conn in late:
                conn.close_slow(reason, answer=True)
        if self.headers or self.body or self.idle:
            self.start_sweeping()

    def evict_one(self) -> bool:
        for queue in (self.idle, self.headers, self.body):
            while queue:
                oldest = next(iter(queue))
                if oldest.close_slow("closed for a new connection (cap reached)"):
                    return True
                queue.pop(oldest, None)
        return False

    def count(self, reason: str) -> None:
        self.closed[reason] = self.closed.get(reason, 0) + 1
        if self.flush is None:
            self.flush = self.loop.call_later(LOG_EVERY, self._log)

    def _log(self) -> None:
        self.flush = None
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(self.closed.items()))
        self.closed = {}
        log.warning("Closed slow or surplus connections in the last %.0f s: %s", LOG_EVERY,
                    counts)


_trackers: weakref.WeakKeyDictionary[ServerState, _Tracker] = weakref.WeakKeyDictionary()


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for headers and body and a connection cap."""

    def __init__(self, *args: Any, limits: HttpLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tracker = _trackers.get(self.server_state)
        if tracker is None:
            tracker = _trackers[self.server_state] = _Tracker(limits or HttpLimits(), self.loop)
        self.tracker = tracker
        #: Where the parser is in the current request: None between requests.
        self.parsing: str | None = None
        self.timed_out = False
        self.app_task: asyncio.Task[Any] | None = None

    # Connection life

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        tracker = self.tracker
        if len(self.connections) > tracker.limits.max_connections and not tracker.evict_one():
            self.close_slow("refused (all connections busy)")
            return
        tracker.headers[self] = self.loop.time()
        tracker.start_sweeping()

    def connection_lost(self, exc: Exception | None) -> None:
        self.tracker.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Bytes between requests that begin none (blank lines) cancelled uvicorn's keep-alive
        # timer: they get the header deadline, or a trickle of them would hold the connection.
        if self.parsing is None and self in self.tracker.idle:
            del self.tracker.idle[self]
            self.tracker.headers[self] = self.loop.time()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.parsing is None and not self.transport.is_closing():
            self.tracker.idle[self] = None

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.parsing = "headers"
        tracker = self.tracker
        if self not in tracker.headers:
            tracker.idle.pop(self, None)
            tracker.headers[self] = self.loop.time()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.parsing = "body"
        tracker = self.tracker
        tracker.headers.pop(self, None)
        tracker.body[self] = self.loop.time()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.parsing = None
        self.tracker.body.pop(self, None)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        super()._start_asgi_task(cycle, functools.partial(_quiet_on_timeout, app, self))

    # Closing

    def close_slow(self, reason: str, *, answer: bool = False) -> bool:
        """Close this connection for being slow or surplus; False if it was closing already."""
        self.tracker.forget(self)
        if self.transport.is_closing():
            return False
        self.timed_out = True
        self.tracker.count(reason)
        if answer and self._may_answer():
            self.transport.write(_answer(_TIMEOUT_HEAD, ApiError(
                ErrorCode.BAD_REQUEST, 408, "request not received in time"), self._link_base()))
        self.transport.close()
        # An app still waiting for the body would see a disconnect and log it as an error;
        # it is cancelled instead, and _quiet_on_timeout ends it quietly.
        if self.app_task is not None and self.parsing == "body":
            self.app_task.cancel()
        return True

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes that are not HTTP, as the error JSON."""
        self.transport.write(_answer(_BAD_REQUEST_HEAD, ApiError(
            ErrorCode.BAD_REQUEST, 400, "invalid HTTP request"), self._link_base()))
        self.transport.close()

    def _link_base(self) -> str:
        if self.tracker.limits.link_base:
            return self.tracker.limits.link_base
        if not self.server or self.server[1] is None:
            return ""
        host, port = self.server
        return f"{self.scheme}://{f'[{host}]' if ':' in host else host}:{port}"

    def _may_answer(self) -> bool:
        cycle = self.cycle
        if self.parsing == "body":
            return not cycle.response_started
        return cycle is None or bool(cycle.response_complete)  # Not inside another answer.


def _answer(head: bytes, error: ApiError, base: str) -> bytes:
    _, body = error(base)
    data = json.dumps(body).encode()
    return head % len(data) + data


async def _quiet_on_timeout(app: Any, owner: LimitedHttpProtocol, scope: Any, receive: Any,
                            send: Any) -> None:
    """Run the app; when its connection was closed for being slow, it ends without an error."""
    owner.app_task = asyncio.current_task()
    try:
        await app(scope, receive, send)
    except asyncio.CancelledError:
        if not owner.timed_out:
            raise
    finally:
        owner.app_task = None
