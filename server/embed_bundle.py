"""``/embed/bundle.json``: the Python an embedding page loads (``static/embed.js``), compressed.

Rules that must hold:

1. The body is ``{repo-relative path: text}`` for every file ``server.web.embed_files`` names,
   plus ``{".../__pycache__/<name>.pyc": base64}`` for the modules the app's snapshot does not
   import (``server.snapshot.APP_MODULES``: the embed's own, the browser adapter), when setup
   made their ``.pyc`` from exactly those files (``server.app_bytecode``). ``embed.js`` writes
   a ``.pyc`` entry as bytes, everything else as text.
2. Made once per version of those files and ``.pyc``, revalidated on every load (``no-cache``
   with an ETag, one per content coding), public (``Access-Control-Allow-Origin: *``), and sent
   with brotli or gzip when the request accepts it (it is JSON text, 175 kB before this).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import app_bytecode
from .app_archive import encoded_bodies, negotiated

URL = "/embed/bundle.json"


def _module(rel: str) -> str:
    return rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def bundle_body(root: Path, files: list[str], cache_dir: Path, tag: str | None) -> bytes:
    """The JSON body of rule 1."""
    from .snapshot import APP_MODULES

    body: dict[str, str] = {}
    for rel in files:
        data = (root / rel).read_bytes()
        body[rel] = data.decode("utf-8")
        compiled = app_bytecode.lookup(cache_dir, tag, rel, data)
        if compiled is not None and _module(rel) not in APP_MODULES:
            body[compiled[0]] = base64.b64encode(compiled[1]).decode()
    return json.dumps(body, sort_keys=True).encode()


def bundle_routes(root: Path, files: list[str] | None = None) -> list[Route]:
    """``GET /embed/bundle.json``; ``files``: the paths (``server.web.embed_files``)."""
    from .web import PUBLIC, embed_files

    lock = threading.Lock()
    cached: dict[str, object] = {}

    def current() -> tuple[dict[str, bytes], str]:
        from .assets import CACHE_DIR, build_tag

        names = embed_files(root) if files is None else files
        tag = build_tag()
        key = (tag, app_bytecode.version(CACHE_DIR, tag),
               *(((root / rel).stat().st_size, (root / rel).stat().st_mtime_ns, rel)
                 for rel in names))
        with lock:
            if cached.get("key") != key:
                data = bundle_body(root, names, CACHE_DIR, tag)
                cached.update(key=key, bodies=encoded_bodies(data),
                              digest=hashlib.sha256(data).hexdigest()[:32])
            return cached["bodies"], cached["digest"]  # type: ignore[return-value]

    async def bundle(request: Request) -> Response:
        bodies, digest = current()
        return negotiated(request, bodies, digest, "application/json",
                          {k.decode(): v.decode() for k, v in PUBLIC})

    return [Route(URL, bundle, methods=["GET", "HEAD"])]
