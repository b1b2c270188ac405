"""The page's Python as one archive: ``/app.zip``, unpacked by PyScript's ``[files]``.

``pyscript.toml`` names it once (``"/app.zip" = "./*"``), instead of one entry and one request
per module of ``app/``: a new module needs no config edit, and a visit revalidates one URL
instead of about 25.

Rules that must hold:

1. The archive holds every ``app/**/*.py`` except the CPython-only adapter, under its
   repo-relative path, so it unpacks to ``app/...`` in Pyodide's working directory, where
   ``import app.sdk`` finds it (and where the memory snapshot imported the SDK from).
2. It is made from the files on disk, in memory, once per version of them (paths, sizes,
   mtimes), deterministic (sorted, fixed timestamps), and revalidated on every load
   (``no-cache`` with an ETag), like the page itself: a deploy is seen at once.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .settings import REPO_ROOT

URL = "/app.zip"
EXCLUDE = frozenset({"app/sdk/adapters/native.py"})
TIMESTAMP = (2020, 1, 1, 0, 0, 0)


def archive_files(root: Path = REPO_ROOT) -> list[str]:
    """The repo-relative paths the archive holds, sorted (rule 1)."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "app").rglob("*.py")
                  if "__pycache__" not in p.parts
                  and p.relative_to(root).as_posix() not in EXCLUDE)


def build_archive(root: Path = REPO_ROOT) -> bytes:
    """The archive's bytes (rule 2)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in archive_files(root):
            entry = zipfile.ZipInfo(rel, TIMESTAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (root / rel).read_bytes())
    return buffer.getvalue()


def archive_routes(root: Path = REPO_ROOT) -> list[Route]:
    """``GET /app.zip``; ``server.web`` mounts it with the front end."""
    lock = threading.Lock()
    cached: dict[str, object] = {}

    def current() -> tuple[bytes, str]:
        files = [root / rel for rel in archive_files(root)]
        key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        with lock:
            if cached.get("key") != key:
                data = build_archive(root)
                cached.update(key=key, data=data,
                              etag='"' + hashlib.sha256(data).hexdigest()[:32] + '"')
            return cached["data"], cached["etag"]  # type: ignore[return-value]

    async def archive(request: Request) -> Response:
        data, etag = current()
        headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="application/zip", headers=headers)

    return [Route(URL, archive, methods=["GET", "HEAD"])]
