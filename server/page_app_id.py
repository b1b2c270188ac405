"""The pages name the app they sign in to: the served config's app id, not the demo's.

``index.html``, ``confirm.html`` and ``reset.html`` carry ``data-app-id="latchkey-demo"`` on their
``<html>`` element, which ``app/actions.py`` and the page's inline script read. A server started
with another config (``app_id = "myapp"``, or an App Services export) answers that id with
``AppNotFound``, so every button of the page failed. The page route serves the file as it is
when it already names the configured id (the demo: nothing changes, the file goes out as a
``FileResponse``), and otherwise this copy with the attribute replaced, made once per version
of the file. Only the attribute changes, never an inline script, so the CSP hashes still hold.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

_ATTRIBUTE = re.compile(r'(<html\b[^>]*?\bdata-app-id=")([^"]*)(")')
_cache: dict[tuple[Path, str], tuple[int, bytes | None, str]] = {}


def page_for_app(path: Path, app_id: str) -> tuple[bytes, str] | None:
    """The page's bytes and ETag with ``data-app-id`` set to ``app_id``; ``None`` when the file
    names it already (or names no app), so the caller serves the file itself."""
    mtime = path.stat().st_mtime_ns
    cached = _cache.get((path, app_id))
    if cached is None or cached[0] != mtime:
        text = path.read_text(encoding="utf-8")
        wanted = html.escape(app_id, quote=True)
        match = _ATTRIBUTE.search(text)
        body = None
        if match is not None and match.group(2) != wanted:
            body = _ATTRIBUTE.sub(lambda m: m.group(1) + wanted + m.group(3), text, count=1)
        data = body.encode() if body is not None else None
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"' if data is not None else ""
        cached = _cache[(path, app_id)] = (mtime, data, etag)
    return None if cached[1] is None else (cached[1], cached[2])
