"""Expected refusals without red console lines: an opt-in of our own browser clients.

Chromium prints "Failed to load resource: the server responded with a status of 401" in red for
every ``fetch`` answered 4xx, and a script cannot stop it. The page and the embed expect many 4xx
answers (a wrong password, "confirm your email first", an address already taken) and say each
in words; the red lines then look like bugs to the people who open the console. A request that
carries ``X-Latchkey-Quiet-Errors: 1`` gets a 4xx answer with status 200 and the real status in
``X-Latchkey-Status``; headers and body are unchanged. The SDK's browser adapter
(``app/sdk/adapters/browser.py``) sends the header and puts the status back before anything
else sees the response, so the SDK sees exactly the server's answer.

The same opt-in gives an empty 2xx answer (201 after a registration, 204 after a log-out) the
body ``null``, with status 200 and ``X-Latchkey-Empty: 1``: Chromium reports a response without a
body that Pyodide's ``fetch`` received as a cancelled request (``net::ERR_ABORTED``) in the
network panel, though the request succeeded. The adapter puts the empty body back.

Rule that must hold: without the header nothing changes, so realm-web and every other client
see the real statuses. 5xx answers are never rewritten: they are not expected.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_HEADER = b"x-latchkey-quiet-errors"
STATUS_HEADER = "X-Latchkey-Status"
EMPTY_HEADER = "X-Latchkey-Empty"


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

        filled = False

        async def send_quietly(message: Message) -> None:
            nonlocal filled
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
                if 400 <= status < 500:
                    message = {**message, "status": 200,
                               "headers": [*headers, (STATUS_HEADER.lower().encode(),
                                                      str(status).encode())]}
                elif 200 <= status < 300 and (b"content-length", b"0") in headers:
                    filled = True
                    kept = [(k, v) for k, v in headers
                            if k not in (b"content-length", b"content-type")]
                    message = {**message, "status": 200, "headers": [
                        *kept, (b"content-length", b"4"), (b"content-type", b"application/json"),
                        (STATUS_HEADER.lower().encode(), str(status).encode()),
                        (EMPTY_HEADER.lower().encode(), b"1")]}
            elif message["type"] == "http.response.body" and filled:
                message = {**message, "body": b"null" if not message.get("more_body") else b""}
                if not message.get("more_body"):
                    filled = False
            await send(message)

        await self.app(scope, receive, send_quietly)
