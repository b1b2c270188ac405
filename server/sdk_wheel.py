"""The SDK as a wheel for Python pages of other sites: ``/sdk/latchkey-<ver>-py3-none-any.whl``.

A PyScript page of someone else's lists the URL in its ``pyscript.toml`` ``packages`` (micropip
installs it), and ``pip install <url>`` works under CPython too. The wheel holds ``app/sdk`` as
the top-level package ``latchkey`` (``from latchkey import App, Credentials``;
``latchkey.adapters.browser`` in Pyodide, ``latchkey.adapters.native`` under CPython): a page's
own ``app`` module would clash with ``app.sdk``, and the SDK imports itself only relatively.

Rules that must hold:

1. The wheel is made from the files on disk, in memory, once per version of those files (their
   paths, sizes and mtimes), so it can never be stale; it is deterministic (sorted entries, fixed
   timestamps), so its ETag and sha256 change only when the SDK does.
2. It is public (``Access-Control-Allow-Origin: *``) and revalidated on every load (``no-cache``
   with an ETag), like the embed's bundle: it carries no secret, and a deploy is seen at once.
3. Standard library only: the wheel is a zip with ``METADATA``, ``WHEEL`` and ``RECORD``
   (PEP 427), nothing needs building at setup.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import tomllib
import zipfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .settings import REPO_ROOT

PACKAGE = "latchkey"
SOURCE = Path("app") / "sdk"
TIMESTAMP = (2020, 1, 1, 0, 0, 0)
MEDIA_TYPE = "application/zip"


def version(root: Path = REPO_ROOT) -> str:
    """The project's version, from ``pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def wheel_name(root: Path = REPO_ROOT) -> str:
    """``latchkey-<version>-py3-none-any.whl``."""
    return f"{PACKAGE}-{version(root)}-py3-none-any.whl"


def _sources(root: Path) -> list[Path]:
    return sorted(p for p in (root / SOURCE).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix in (".py", ".typed"))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def build_wheel(root: Path = REPO_ROOT) -> bytes:
    """The wheel's bytes (rule 1 and 3)."""
    ver = version(root)
    info = f"{PACKAGE}-{ver}.dist-info"
    entries: list[tuple[str, bytes]] = [
        (f"{PACKAGE}/{p.relative_to(root / SOURCE).as_posix()}", p.read_bytes())
        for p in _sources(root)
    ]
    entries += [
        (f"{info}/METADATA", (
            "Metadata-Version: 2.1\n"
            f"Name: {PACKAGE}\n"
            f"Version: {ver}\n"
            "Summary: Latchkey's client SDK (App Services-compatible user management), "
            "for Pyodide and CPython\n"
            "Requires-Python: >=3.11\n").encode()),
        (f"{info}/WHEEL", (
            b"Wheel-Version: 1.0\n"
            b"Generator: latchkey (server/sdk_wheel.py)\n"
            b"Root-Is-Purelib: true\n"
            b"Tag: py3-none-any\n")),
        (f"{info}/top_level.txt", f"{PACKAGE}\n".encode()),
    ]
    record = "".join(f"{name},{_record_hash(data)}\n" for name, data in entries)
    entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            entry = zipfile.ZipInfo(name, TIMESTAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return buffer.getvalue()


class _Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.key: tuple[object, ...] | None = None
        self.value: tuple[bytes, str] = (b"", "")

    def get(self) -> tuple[bytes, str]:
        files = [self.root / "pyproject.toml", *_sources(self.root)]
        key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        with self.lock:
            if key != self.key:
                data = build_wheel(self.root)
                self.value = (data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
                self.key = key
            return self.value


def wheel_routes(root: Path = REPO_ROOT) -> list[Route]:
    """``GET /sdk/<wheel name>`` (rule 2); ``server.web`` mounts it with the front end."""
    cache = _Cache(root)
    name = wheel_name(root)

    async def wheel(request: Request) -> Response:
        data, etag = cache.get()
        headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff",
                   "Access-Control-Allow-Origin": "*",
                   "Cross-Origin-Resource-Policy": "cross-origin"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=MEDIA_TYPE, headers=headers)

    return [Route(f"/sdk/{name}", wheel, methods=["GET", "HEAD"])]
