"""The CPython adapters: ``UrllibTransport``, ``FileStorage`` and ``make_app`` wiring them up.

Standard library only (no httpx): ``urllib.request`` runs in a worker thread through
``asyncio.to_thread``, so the SDK's async API works unchanged under CPython. This module never
imports ``js`` or ``pyodide``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ..app import App
from ..http import Request, Response
from ..storage import MemoryStorage, Storage

logger = logging.getLogger("app.sdk")


class UrllibTransport:
    """Sends requests with ``urllib.request`` in a worker thread.

    HTTP error statuses come back as ordinary ``Response`` values; only a missing response
    (refused connection, DNS failure, timeout) raises, as ``OSError``.
    """

    def __init__(self, *, timeout: float = 30.0, use_env_proxies: bool = True) -> None:
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [_SameOriginAuthRedirects()]
        if not use_env_proxies:
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    async def send(self, request: Request) -> Response:
        """Send the request from a worker thread and return the whole response."""
        return await asyncio.to_thread(self._send, request)

    def _send(self, request: Request) -> Response:
        data = None if request.body is None else request.body.encode("utf-8")
        native = urllib.request.Request(
            request.url, data=data, headers=request.headers, method=request.method
        )
        try:
            with self._opener.open(native, timeout=self.timeout) as reply:
                return Response(reply.status, dict(reply.headers.items()), _text(reply.read()))
        except urllib.error.HTTPError as err:
            # urllib raises for 4xx/5xx, but for the SDK those are answers, not failures.
            try:
                headers = dict(err.headers.items()) if err.headers else {}
                return Response(err.code, headers, _text(err.read()))
            finally:
                err.close()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class _SameOriginAuthRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects as ``fetch`` does: the bearer token goes only to the same origin.

    urllib's own handler copies every header to the redirect's target, so a redirect to another
    host (or from https to http) handed it the user's access or refresh token; browsers drop
    ``Authorization`` on a cross-origin redirect. Found in review.
    """

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class FileStorage(Storage):
    """A storage kept in one JSON file, rewritten atomically on every change.

    ```python
    app = make_app("latchkey-demo", url, storage=FileStorage("~/.latchkey/session.json"))
    ```

    The file is read once, when first needed; an unreadable file is logged and replaced.
    Separate ``FileStorage`` objects on one file do not see each other's later changes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._items: dict[str, str] | None = None

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def set(self, key: str, value: str) -> None:
        self._load()[key] = value
        self._save()

    def remove(self, key: str) -> None:
        if self._load().pop(key, None) is not None:
            self._save()

    def clear(self, prefix: str = "") -> None:
        items = self._load()
        doomed = [k for k in items if k.startswith(prefix)]
        for key in doomed:
            del items[key]
        if doomed:
            self._save()

    def _load(self) -> dict[str, str]:
        if self._items is None:
            self._items = self._read()
        return self._items

    def _read(self) -> dict[str, str]:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("Ignoring the unreadable storage file %s: %s", self.path, exc)
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            logger.warning("Ignoring the storage file %s: not a JSON object of strings.", self.path)
            return {}
        return value

    def _save(self) -> None:
        # Write a temporary file next to the target and rename it over, so a crash mid-write
        # leaves either the old or the new file, never half of one.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._items, handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def make_app(app_id: str, base_url: str, storage: Storage | None = None) -> App:
    """An ``App`` for CPython: ``UrllibTransport`` plus ``storage`` (default ``MemoryStorage``).

    ```python
    app = make_app("latchkey-demo", "http://127.0.0.1:8000", FileStorage("session.json"))
    ```
    """
    return App(
        app_id,
        base_url=base_url,
        transport=UrllibTransport(),
        storage=storage if storage is not None else MemoryStorage(),
    )
