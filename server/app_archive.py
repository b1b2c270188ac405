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
3. Beside each module, in its ``__pycache__``, it holds the ``.pyc`` that setup made from
   exactly that file, when there is one (``server.app_bytecode``): Python then imports the
   module without compiling it. So for PyScript's own package: ``pyscript/__pycache__/`` only,
   since PyScript writes its sources itself.
4. Its members are stored, not deflated, and the whole archive goes out compressed (brotli or
   gzip, by ``Accept-Encoding``, made once per version): smaller than deflating each file (the
   sources and their ``.pyc`` share most of their strings), and PyScript unpacks it without
   inflating anything.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import app_bytecode
from .settings import REPO_ROOT

# ``server.assets`` is imported where it is used, so that ``python -m server.assets`` does not
# find itself imported already (``server.web`` imports this module).

URL = "/app.zip"
EXCLUDE = frozenset({"app/sdk/adapters/native.py"})
TIMESTAMP = (2020, 1, 1, 0, 0, 0)


def archive_files(root: Path = REPO_ROOT) -> list[str]:
    """The repo-relative paths the archive holds, sorted (rule 1)."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "app").rglob("*.py")
                  if "__pycache__" not in p.parts
                  and p.relative_to(root).as_posix() not in EXCLUDE)


def build_archive(root: Path = REPO_ROOT, cache_dir: Path | None = None) -> bytes:
    """The archive's bytes (rules 2 and 3)."""
    from .assets import CACHE_DIR, build_tag

    tag = build_tag()
    cache_dir = CACHE_DIR if cache_dir is None else cache_dir
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for rel in archive_files(root):
            data = (root / rel).read_bytes()
            members = [(rel, data)]
            compiled = app_bytecode.lookup(cache_dir, tag, rel, data)
            if compiled is not None:
                members.append(compiled)
            for name, content in members:
                _add(archive, name, content)
        for rel, data in app_bytecode.pyscript_sources(pyscript_dist()).items():
            compiled = app_bytecode.lookup(cache_dir, tag, rel, data)
            if compiled is not None:
                _add(archive, *compiled)
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    entry = zipfile.ZipInfo(name, TIMESTAMP)
    entry.external_attr = 0o644 << 16
    entry.compress_type = zipfile.ZIP_STORED
    archive.writestr(entry, content)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def pyscript_dist() -> Path:
    """Where PyScript's bundle is (``server.web.VENDOR``)."""
    from .web import VENDOR

    return VENDOR["/vendor/pyscript"]


def encoded_bodies(data: bytes) -> dict[str, bytes]:
    """``{content coding: body}`` of ``data`` (rule 4; ``server.embed_bundle`` too):
    ``identity``, ``gzip`` and, with the ``brotli`` package, ``br``."""
    bodies = {"identity": data, "gzip": gzip.compress(data, compresslevel=9, mtime=0)}
    try:
        import brotli  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return bodies
    bodies["br"] = brotli.compress(data, quality=9)
    return bodies


def negotiated(request: Request, bodies: dict[str, bytes], digest: str, media_type: str,
               headers: dict[str, str]) -> Response:
    """The body of ``bodies`` (``encoded_bodies``) the client accepts, revalidated by an ETag
    per coding (each is a different body), or 304; ``server.embed_bundle`` answers with it too."""
    from .assets import accepted_encodings

    accepted = accepted_encodings(request.headers.get("accept-encoding"))
    coding = next((c for c in ("br", "gzip") if c in accepted and c in bodies), "identity")
    etag = f'"{digest}"' if coding == "identity" else f'"{digest}-{coding}"'
    headers = {"Cache-Control": "no-cache", "ETag": etag, "Vary": "Accept-Encoding", **headers}
    if coding != "identity":
        headers["Content-Encoding"] = coding
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(bodies[coding], media_type=media_type, headers=headers)


def archive_routes(root: Path = REPO_ROOT) -> list[Route]:
    """``GET /app.zip``; ``server.web`` mounts it with the front end."""
    lock = threading.Lock()
    cached: dict[str, object] = {}

    def current() -> tuple[dict[str, bytes], str]:
        from .assets import CACHE_DIR, build_tag

        files = [root / rel for rel in archive_files(root)]
        key = (app_bytecode.version(CACHE_DIR, build_tag()), _mtime(pyscript_dist()),
               *((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
        with lock:
            if cached.get("key") != key:
                data = build_archive(root)
                cached.update(key=key, bodies=encoded_bodies(data),
                              etag=hashlib.sha256(data).hexdigest()[:32])
            return cached["bodies"], cached["etag"]  # type: ignore[return-value]

    async def archive(request: Request) -> Response:
        bodies, digest = current()
        return negotiated(request, bodies, digest, "application/zip",
                          {"X-Content-Type-Options": "nosniff"})

    return [Route(URL, archive, methods=["GET", "HEAD"])]
