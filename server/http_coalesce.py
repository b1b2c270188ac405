"""One write per small response: the status line and headers wait for the body's first bytes.

uvicorn writes a response's head (status line and headers) as soon as the app sends
``http.response.start``, and the body as a second write: two sends, two TCP segments, and a
client woken twice, for every answer. ``CoalescingTransport`` holds a head back and sends it with
the next write, which for an ordinary response comes at once (``Response`` sends its body in the
same step); a head still held at the end of the event loop's step goes out alone then, so a
streamed response is never delayed longer than that. Closing the transport sends what is held.
Wraps the transport of ``server.http_limits.LimitedHttpProtocol``; imports the stdlib only.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """An ``asyncio.Transport`` whose response heads go out with the body that follows."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held = b""

    def write(self, data: bytes) -> None:
        """Send ``data``, or hold it back when it is a response head."""
        if self._held:
            data, self._held = self._held + data, b""
        elif data.startswith(b"HTTP/") and data.endswith(b"\r\n\r\n"):
            self._held = data
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def flush(self) -> None:
        """Send a held head now."""
        if self._held:
            data, self._held = self._held, b""
            self._transport.write(data)

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
