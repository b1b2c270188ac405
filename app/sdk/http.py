"""Plain request and response values, and the ``Transport`` seam that sends them.

The SDK core builds ``Request`` values and reads ``Response`` values; it never does I/O itself.
Each runtime supplies one ``Transport`` (``adapters.browser.FetchTransport`` in Pyodide,
``adapters.native`` under CPython). Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: method, absolute URL, headers and an optional JSON text body."""

    method: str
    url: str
    # Kept out of repr: the Authorization header carries a token and bodies carry passwords.
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response, already converted to Python values by the transport."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header (looked up case-insensitively), or ``""``."""
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value
        return ""

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The decoded JSON body, or ``None`` for a response without a JSON content type."""
        if not self.content_type.startswith("application/json") or not self.body:
            return None
        return json.loads(self.body)


class Transport(Protocol):
    """Sends one ``Request`` and returns its ``Response``.

    A transport raises ``OSError`` (or any ``Exception``) when no response arrives at all; the
    fetcher turns that into ``AppError`` with ``ErrorCode.NETWORK_ERROR``. It never raises for an
    HTTP error status.
    """

    async def send(self, request: Request) -> Response:
        """Send the request and return the whole response."""
        ...
