"""``Observe``: the ASGI middleware that counts and times every HTTP request.

It sets ``server.services.audit.client_address`` for the request (the peer address uvicorn
reports, which is the forwarded client's behind a trusted proxy), so that services record it
without seeing the request. After the answer it counts the request by method, route template
(``scope["route"]``, set by Starlette's router; ``unmatched`` for a 404 of no route) and status,
and observes its time. A plain ASGI middleware, not ``BaseHTTPMiddleware``: no task or stream
per request.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..services.audit import client_address
from . import metrics


class Observe:
    """Count, time and note the client of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        client = scope.get("client")
        token = client_address.set(client[0] if client else None)
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            client_address.reset(token)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.observe_request(scope["method"], template, status,
                                    time.perf_counter() - start)
