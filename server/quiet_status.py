"""Expected refusals without red console lines: an opt-in of our own browser clients.

Chromium prints "Failed to load resource: the server responded with a status of 401" in red for
every ``fetch`` answered 4xx, and a script cannot stop it. The page and the embed expect many 4xx
answers (a wrong password, "confirm your email first", an address already taken) and say each
in words; the red lines then look like bugs to the people who open the console. A request that
carries ``X-Latchkey-Quiet-Errors: 1`` gets a 4xx answer with status 200 and the real status in
``X-Latchkey-Status``; headers and body are unchanged. The SDK's browser adapter
(``app/sdk/adapters/browser.py``) sends the header and puts the status back before anything
else sees the response, so the SDK sees exactly the server's answer.

Rule that must hold: without the header nothing changes, so realm-web and every other client
see the real statuses. 5xx answers are never rewritten: they are not expected.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_HEADER = b"x-latchkey-quiet-errors"
STATUS_HEADER = "X-Latchkey-Status"


class QuietStatusMiddleware:
    """Pure ASGI middleware: 4xx answers to opted-in requests go out as 200 (see above)."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not scope["path"].startswith(self.prefix)
                or scope["method"] == "OPTIONS"
                or (REQUEST_HEADER, b"1") not in list(scope.get("headers", []))):
            await self.app(scope, receive, send)
            return

        async def send_quietly(message: Message) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                real = str(message["status"]).encode()
                message = {**message, "status": 200,
                           "headers": [*message.get("headers", []),
                                       (STATUS_HEADER.lower().encode(), real)]}
            await send(message)

        await self.app(scope, receive, send_quietly)
