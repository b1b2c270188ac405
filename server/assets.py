"""The vendored runtimes, served fast: precompressed, cached for long, and a quick Pyodide start.

``server.web`` mounts what ``vendor_routes()`` returns. Setup runs ``python -m server.assets``
(``scripts/setup``), which prepares everything below in ``CACHE_DIR``; without it the server
still works, only slower.

Rules that must hold:

1. Compression happens once, at setup, never per request. ``python -m server.assets`` writes a
   brotli and a gzip copy of every compressible vendored file into ``CACHE_DIR``, each stamped
   with its source's mtime. A copy is served only when the request accepts its encoding and the
   stamp still matches the source; otherwise the file itself goes out. Every answer for a
   compressible file says ``Vary: Accept-Encoding``.
2. Pyodide is also served under a content-addressed prefix, ``/vendor/pyodide@<tag>/``, where
   the tag is a digest of the Pyodide build's files: those answers are cached for a year
   (``immutable``), since a new build gets a new tag. ``/vendor/pyodide/`` stays as it was
   (cached for a day), for embedding pages and anything else that names it.
3. ``/vendor/pyodide-boot.mjs`` is PyScript's ``interpreter`` (``pyscript.toml``): a small module,
   revalidated on every load, that loads Pyodide from the tagged prefix and restores it from a
   memory snapshot when setup made one for this exact build (``server.snapshot``). The snapshot
   lives at ``/vendor/pyodide-snapshot/<tag>.bin`` (immutable too). A page whose snapshot is
   missing, or fails to restore, starts Pyodide the ordinary way: slower, never broken.
4. A vendored file with a patch we carry (``server.vendor_patches``: PyScript without
   ``'unsafe-eval'``, Pyodide's lock with micropip's hash) is served from its patched copy, made
   at setup or when the server starts, with compressed copies of its own; the extra files
   fetched at setup (micropip's wheel) are served beside the package's own.
5. ``/vendor/latchkey-boot.mjs`` is the same module for our own pages and the embed: it restores
   the app's snapshot (``server.snapshot`` rule 2: the SDK imported too) when setup made one
   from the app's files as they are now (``app_digest``), else the base snapshot. Only the
   current app snapshot is kept. Other sites' Python pages use ``/vendor/pyodide-boot.mjs``,
   whose interpreter holds no module of ours.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Receive, Scope, Send

from . import vendor_patches
from .settings import REPO_ROOT

PYODIDE_DIR = REPO_ROOT / "node_modules" / "pyodide"
#: Derived files, made at setup; ``npm ci`` wipes them with the rest of ``node_modules``.
CACHE_DIR = REPO_ROOT / "node_modules" / ".cache" / "latchkey"
COMPRESSED = "compressed"
#: Snapshots made from the stored standard library zip (``server.vendor_patches`` rule 4): an
#: interpreter restored from one has that zip's table of contents in memory, so a snapshot of
#: the deflated zip (in ``snapshot/``, before) must not be served with it.
SNAPSHOTS = "snapshots"
BOOT_TEMPLATE = Path(__file__).with_name("pyodide_boot.mjs")
#: The boot module of our own pages and the embed: the app's snapshot when it is current.
APP_BOOT = "/vendor/latchkey-boot.mjs"

#: The files of one Pyodide build; their digest is the tag of rule 2.
BUILD_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
               "pyodide-lock.json")
COMPRESSIBLE = frozenset({".js", ".mjs", ".wasm", ".json", ".css", ".bin", ".zip", ".html"})
MIN_COMPRESS_BYTES = 1024
# Encodings in order of preference, with the file suffix of their copies. Brotli needs the
# optional ``brotli`` package at setup; gzip is always made.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
BROTLI_QUALITY = 9  # Close to 11 in size (the snapshot: 5.0 MB against 4.3), 10x faster.
#: A 16 MB window (the largest standard one): the snapshot and the stored stdlib zip have
#: repeats further apart than the default 4 MB.
BROTLI_WINDOW = 24

DAY = "public, max-age=86400"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


# The tag of a Pyodide build (rule 2) ---------------------------------------------------------

_tags: dict[tuple[object, ...], str] = {}
_tags_lock = threading.Lock()


def build_tag(pyodide_dir: Path = PYODIDE_DIR) -> str | None:
    """A digest of the Pyodide build's files (16 hex digits), or ``None`` without Pyodide.

    Computed once per process and build (about 30 ms), keyed by the files' sizes and mtimes.
    """
    try:
        stats = [(pyodide_dir / name).stat() for name in BUILD_FILES]
    except OSError:
        return None
    key = (str(pyodide_dir), *((s.st_size, s.st_mtime_ns) for s in stats))
    with _tags_lock:
        tag = _tags.get(key)
        if tag is None:
            digest = hashlib.sha256()
            for name in BUILD_FILES:
                digest.update(name.encode() + b"\0" + (pyodide_dir / name).read_bytes())
            tag = _tags[key] = digest.hexdigest()[:16]
    return tag


def snapshot_path(tag: str, cache_dir: Path = CACHE_DIR, app: str | None = None) -> Path:
    """Where the memory snapshot of the build ``tag`` is kept; ``app``: the app's snapshot made
    from the app files whose digest that is (rule 5)."""
    return cache_dir / SNAPSHOTS / (f"{tag}-{app}.bin" if app else f"{tag}.bin")


_digests: dict[tuple[object, ...], str] = {}


def app_digest(root: Path) -> str:
    """A digest of the files the app's snapshot imports (16 hex digits), as they are now."""
    from .snapshot import app_files

    files = app_files(root)
    key = tuple((rel, p.stat().st_size, p.stat().st_mtime_ns) for rel, p in files.items())
    with _tags_lock:
        digest = _digests.get(key)
        if digest is None:
            hashed = hashlib.sha256()
            for rel, path in files.items():
                hashed.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
            digest = _digests[key] = hashed.hexdigest()[:16]
    return digest


# Serving (rules 1 and 2) ---------------------------------------------------------------------


def accepted_encodings(header: str | None) -> set[str]:
    """The content codings an ``Accept-Encoding`` header accepts (``q=0`` means refused)."""
    accepted: set[str] = set()
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name and quality > 0:
            accepted.add(name.strip().lower())
    return accepted


class PrecompressedFiles(StaticFiles):
    """``StaticFiles`` that answers with a precompressed copy from ``copies`` when it can.

    ``copies`` mirrors ``directory``: ``<copies>/<path>.br`` and ``.gz`` (rule 1). Path checks,
    ``HEAD``, ``ETag`` and ``304`` answers are ``StaticFiles``' own.
    """

    def __init__(self, directory: Path, copies: Path, headers: Iterable[tuple[str, str]] = (),
                 patches: tuple[Path, str] | None = None):
        super().__init__(directory=directory, check_dir=False)
        self.source = directory
        self.copies = copies
        self.headers = list(headers)
        # (cache dir, package name): serve the carried patches' copies (rule 4).
        self.patches = patches

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        full_path, stat_result = super().lookup_path(path)
        if stat_result is None and self.patches is not None and "/" not in path.strip("/"):
            # An extra file served beside the package (rule 4), e.g. micropip's wheel.
            extra = vendor_patches.extra_file(*self.patches, path.strip("/"))
            if extra is not None:
                return str(extra), extra.stat()
        return full_path, stat_result

    async def check_config(self) -> None:
        # A package that is not installed (no ``npm ci`` yet) answers 404, never a 500.
        if self.source.is_dir():
            await super().check_config()

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        path = Path(full_path)
        request_headers = Headers(scope=scope)
        headers = dict(self.headers)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        served, served_stat = path, stat_result
        copies, base = self.copies, self.source
        if self.patches is not None:
            patched = self._patched(path, stat_result)
            if patched is not None:
                served, served_stat = patched, patched.stat()
                copies = self.patches[0] / COMPRESSED / vendor_patches.PATCHED
                base = self.patches[0] / vendor_patches.PATCHED
        if path.suffix in COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
            copy = self._copy_for(served, served_stat, request_headers.get("accept-encoding"),
                                  base, copies)
            if copy is not None:
                encoding, served, served_stat = copy
                headers["Content-Encoding"] = encoding
        response = FileResponse(served, status_code=status_code, stat_result=served_stat,
                                media_type=media_type, headers=headers)
        if "content-encoding" in response.headers:
            # Ranges would be of the compressed bytes; nothing here needs them.
            del response.headers["accept-ranges"]
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response

    def _patched(self, path: Path, stat_result: os.stat_result) -> Path | None:
        assert self.patches is not None
        try:
            relative = path.resolve().relative_to(self.source.resolve()).as_posix()
        except ValueError:
            return None
        cache_dir, package = self.patches
        return vendor_patches.patched_file(cache_dir, package, relative, stat_result)

    def _copy_for(self, path: Path, source: os.stat_result, accept_encoding: str | None,
                  base: Path, copies: Path) -> tuple[str, Path, os.stat_result] | None:
        accepted = accepted_encodings(accept_encoding)
        try:
            relative = path.resolve().relative_to(base.resolve())
        except ValueError:
            return None
        for encoding, suffix in ENCODINGS:
            if encoding not in accepted:
                continue
            copy = copies / (relative.as_posix() + suffix)
            try:
                stat = copy.stat()
            except OSError:
                continue
            if stat.st_mtime_ns == source.st_mtime_ns:
                return encoding, copy, stat
        return None


class _Tagged:
    """ASGI app for ``/vendor/pyodide@{tag}/``: the files, if the tag is the current build's."""

    def __init__(self, files: PrecompressedFiles, pyodide_dir: Path) -> None:
        self.files = files
        self.pyodide_dir = pyodide_dir

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path_params", {}).get("tag") != build_tag(self.pyodide_dir):
            await Response("not found", status_code=404)(scope, receive, send)
            return
        await self.files(scope, receive, send)


PUBLIC = (("Access-Control-Allow-Origin", "*"), ("Cross-Origin-Resource-Policy", "cross-origin"))


def _headers(cache: str, public: bool) -> list[tuple[str, str]]:
    return [("Cache-Control", cache), ("X-Content-Type-Options", "nosniff"),
            *(PUBLIC if public else ())]


def vendor_files(directory: Path, name: str, *, cache: str = DAY, public: bool = False,
                 cache_dir: Path = CACHE_DIR) -> PrecompressedFiles:
    """The files of one vendored package, with their precompressed copies (rule 1) and the
    patched copies of rule 4."""
    return PrecompressedFiles(directory, cache_dir / COMPRESSED / name, _headers(cache, public),
                              patches=(cache_dir, name))


def boot_module(pyodide_dir: Path = PYODIDE_DIR, cache_dir: Path = CACHE_DIR,
                app_root: Path | None = None) -> str | None:
    """The text of ``/vendor/pyodide-boot.mjs`` (rule 3), or ``None`` without Pyodide; with
    ``app_root``, of ``/vendor/latchkey-boot.mjs`` (rule 5)."""
    tag = build_tag(pyodide_dir)
    if tag is None:
        return None
    snapshot = snapshot_path(tag, cache_dir)
    if app_root is not None:
        with_app = snapshot_path(tag, cache_dir, app_digest(app_root))
        snapshot = with_app if with_app.is_file() else snapshot
    snapshot_url = f"/vendor/pyodide-snapshot/{snapshot.name}" if snapshot.is_file() else None
    text = BOOT_TEMPLATE.read_text(encoding="utf-8")
    # The index URL goes inside string literals (a tag is hex, nothing to escape); the snapshot
    # URL replaces a whole literal, so that it can be null.
    return (text.replace("__INDEX_URL__", f"/vendor/pyodide@{tag}/")
                .replace('"__SNAPSHOT_URL__"', json.dumps(snapshot_url)))


def _boot_route(pyodide_dir: Path, cache_dir: Path, public: bool = False,
                app_root: Path | None = None) -> Route:
    async def boot(request: Request) -> Response:
        text = boot_module(pyodide_dir, cache_dir, app_root)
        if text is None:
            return Response("Pyodide is not installed (run scripts/setup).", status_code=404)
        etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
        headers = {"Cache-Control": REVALIDATE, "ETag": etag, "X-Content-Type-Options": "nosniff",
                   **(dict(PUBLIC) if public else {})}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(text, media_type="text/javascript", headers=headers)

    path = "/vendor/pyodide-boot.mjs" if app_root is None else APP_BOOT
    return Route(path, boot, methods=["GET", "HEAD"])


def vendor_routes(vendor: dict[str, Path], *, public: Iterable[str] = (),
                  pyodide_prefix: str = "/vendor/pyodide",
                  cache_dir: Path = CACHE_DIR, app_root: Path | None = None) -> list[BaseRoute]:
    """Routes for the vendored packages (``{url prefix: directory}``), plus rule 2 and 3's."""
    shared = set(public)
    routes: list[BaseRoute] = []
    _ensure_patches(vendor, cache_dir)
    pyodide_dir = vendor.get(pyodide_prefix)
    if pyodide_dir is not None:
        name = pyodide_prefix.rsplit("/", 1)[-1]
        open_to_all = pyodide_prefix in shared
        tagged = vendor_files(pyodide_dir, name, cache=IMMUTABLE, public=open_to_all,
                              cache_dir=cache_dir)
        # The boot module and the snapshot are as public as Pyodide: the embed starts from them.
        routes += [
            _boot_route(pyodide_dir, cache_dir, open_to_all),
            *([_boot_route(pyodide_dir, cache_dir, open_to_all, app_root)] if app_root else []),
            Mount("/vendor/pyodide-snapshot",
                  app=vendor_files(cache_dir / SNAPSHOTS, SNAPSHOTS, cache=IMMUTABLE,
                                   public=open_to_all, cache_dir=cache_dir)),
            Mount(pyodide_prefix + "@{tag}", app=_Tagged(tagged, pyodide_dir)),
        ]
    for prefix, directory in vendor.items():
        routes.append(Mount(prefix, app=vendor_files(
            directory, prefix.rsplit("/", 1)[-1], public=prefix in shared, cache_dir=cache_dir)))
    return routes


def _ensure_patches(vendor: dict[str, Path], cache_dir: Path) -> None:
    # Cheap (a text replacement), so a server started without setup serves the patched files
    # too; a patch that no longer fits is said once, and the original file is served.
    try:
        vendor_patches.apply_patches(vendor, cache_dir)
    except (OSError, vendor_patches.PatchError) as exc:
        print(f"assets: the vendored files are served unpatched: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """``python -m server.assets``: the setup in ``server.asset_setup``."""
    from .asset_setup import main as setup

    return setup(argv)


if __name__ == "__main__":
    sys.exit(main())
