"""The front end: the pages, their Python, static files, and Pyodide/PyScript from ``node_modules``.

Nothing here is fetched from a CDN; the vendored runtimes are served from the npm install made at
setup. Missing folders (no ``npm install`` yet) answer 404 rather than failing the server.

Rules that must hold:

1. Every HTML page goes out with a Content-Security-Policy that allows what the page needs and
   nothing more: scripts from this origin plus the hashes of the page's own inline scripts
   (computed here from the file, so editing a page never needs a CSP edit), WebAssembly
   compilation (``'wasm-unsafe-eval'``, which Pyodide needs), styles from this origin, and
   requests to this origin only. No ``'unsafe-eval'``: PyScript 0.7.31 needed it for its worker
   hooks, and is served with a patch we carry that removes the need (``server.vendor_patches``).
   ``'unsafe-inline'`` is never allowed, so HTML that slipped
   into a page could not run scripts or event handler attributes. Images come from this origin
   and from any ``https:`` host, since the profile shows the picture a social login provider
   gives (Google and Facebook serve them from CDNs whose host names change), plus the plain
   ``http`` origins of the configured social providers' issuers (a provider on loopback, in tests
   and development): no other ``http`` host, and no ``data:``.
   ``tests/e2e/test_ui_page.py`` checks that a page loads with no CSP violation reported.
2. What an embedding page on another origin loads (``/static/embed.js``, ``/static/embed.css``,
   ``/embed/bundle.json``, the SDK's wheel under ``/sdk/``, Pyodide under ``/vendor/pyodide``
   and PyScript under ``/vendor/pyscript``, for Python pages of their own) is public and carries
   no credentials, so it is served with ``Access-Control-Allow-Origin: *``. The API's own CORS
   (``[cors] allowed_origins``, in ``server/cors.py``) is what decides who may log in.
3. Pages, the page's Python and the embed bundle are revalidated on every load (``no-cache`` with
   an ETag), so a deploy is seen at once; the vendored runtimes change only with ``npm ci`` and
   are cached for a day, or for a year under a content-addressed URL, and go out precompressed
   (``server/assets.py``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import app_archive, embed_bundle, sdk_wheel
from .page_app_id import page_for_app
from .settings import REPO_ROOT, Settings

VENDOR = {
    "/vendor/pyodide": REPO_ROOT / "node_modules" / "pyodide",
    "/vendor/pyscript": REPO_ROOT / "node_modules" / "@pyscript" / "core" / "dist",
}
PAGES = ("index.html", "confirm.html", "reset.html", "pyscript.toml")
#: The Python an embedding page copies into Pyodide: the SDK plus the JS bridge, never the
#: CPython-only adapter or the PyScript page code.
EMBED_SOURCES = ("app/__init__.py", "app/messages.py", "app/embed.py", "app/embed_factors.py",
                 "app/sdk/**/*.py")
EMBED_EXCLUDE = frozenset({"app/sdk/adapters/native.py"})

REVALIDATE = "no-cache"
VENDOR_CACHE = "public, max-age=86400"
PUBLIC = [(b"access-control-allow-origin", b"*"),
          (b"cross-origin-resource-policy", b"cross-origin")]
BASE_CSP = {
    "default-src": "'none'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "style-src": "'self'",
    "connect-src": "'self'",
    "img-src": "'self' https:",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
#: Directives a page narrows: the admin console shows no pictures, so none from other hosts.
PAGE_CSP = {"admin.html": {"img-src": "'self'"}}
PAGE_HEADERS = {
    "Cache-Control": REVALIDATE,
    "X-Content-Type-Options": "nosniff",
    # The confirmation and reset pages carry one-time tokens in their URLs.
    "Referrer-Policy": "no-referrer",
}


class _InlineScripts(HTMLParser):
    """Collects the text of inline JavaScript ``<script>`` elements (no ``src``, JS type)."""

    JS_TYPES = frozenset({"", "module", "text/javascript", "application/javascript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        values = dict(attrs)
        kind = (values.get("type") or "").strip().lower()
        if "src" not in values and kind in self.JS_TYPES:
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for each inline script of a page."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in parser.scripts
    ]


def picture_origins(settings: Settings) -> tuple[str, ...]:
    """The ``http://`` origins of the configured social providers' issuers, sorted.

    ``https:`` pictures are allowed anyway; this lets the picture of a provider that runs over
    plain HTTP (on loopback, in tests and development) show too, and no other ``http`` host.
    """
    origins: set[str] = set()
    for provider in settings.oauth.values():
        for issuer in (provider.issuer, *provider.issuers):
            parts = urlsplit(issuer)
            if parts.scheme == "http" and parts.netloc:
                origins.add(f"http://{parts.netloc}")
    return tuple(sorted(origins))


def content_security_policy(html: str, img_sources: Iterable[str] = (),
                            narrowed: dict[str, str] | None = None) -> str:
    """The policy for one page: ``BASE_CSP`` plus the hashes of its inline scripts, and
    ``img_sources`` (e.g. ``picture_origins(settings)``) added to ``img-src``; ``narrowed``
    (``PAGE_CSP``) replaces whole directives."""
    directives = {**BASE_CSP, **(narrowed or {})}
    hashes = inline_script_hashes(html)
    if hashes:
        directives["script-src"] += " " + " ".join(hashes)
    extra = " ".join(img_sources)
    if extra:
        directives["img-src"] += " " + extra
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _page(root: Path, name: str, url: str | None = None,
          img_sources: tuple[str, ...] = (), app_id: str = "") -> Route:
    path = root / name
    # The policy is computed once per version of the file (by its mtime).
    cache: dict[str, tuple[float, str]] = {}

    def policy() -> str:
        mtime = path.stat().st_mtime
        cached = cache.get("csp")
        if cached is None or cached[0] != mtime:
            html = path.read_text(encoding="utf-8")
            cached = cache["csp"] = (mtime, content_security_policy(
                html, () if name in PAGE_CSP else img_sources, PAGE_CSP.get(name)))
        return cached[1]

    async def serve(request: Request) -> Response:
        headers = dict(PAGE_HEADERS)
        if name.endswith(".html"):
            headers["Content-Security-Policy"] = policy()
            named = page_for_app(path, app_id) if app_id else None
            if named is not None:
                return _named_page(request, *named, headers)
        return FileResponse(path, headers=headers)

    return Route(url or f"/{name}", serve, methods=["GET", "HEAD"], name=f"page:{url or name}")


def _named_page(request: Request, body: bytes, etag: str, headers: dict[str, str]) -> Response:
    """A page rewritten for the configured app id (``server.page_app_id``), revalidated by ETag."""
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


class _Headers:
    """ASGI wrapper that adds fixed headers to every response of the wrapped app."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.headers}
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _static(directory: Path, cache: str, *, public: bool = False) -> _Headers:
    headers = [(b"cache-control", cache.encode()), (b"x-content-type-options", b"nosniff")]
    return _Headers(StaticFiles(directory=directory, check_dir=False),
                    headers + (PUBLIC if public else []))


def embed_files(root: Path = REPO_ROOT) -> list[str]:
    """The repo-relative paths of the Python an embedding page loads, sorted."""
    found: set[str] = set()
    for pattern in EMBED_SOURCES:
        found.update(p.relative_to(root).as_posix() for p in root.glob(pattern)
                     if "__pycache__" not in p.parts)
    return sorted(found - EMBED_EXCLUDE)


def frontend_routes(root: Path = REPO_ROOT, *,
                    img_sources: tuple[str, ...] = (), app_id: str = "") -> list[BaseRoute]:
    """Routes that serve the pages and their assets; ``img_sources`` widen the pages'
    ``img-src`` (``create_app`` passes ``picture_origins(settings)``); ``app_id`` is the app
    the pages sign in to (``server.page_app_id``)."""
    routes: list[BaseRoute] = []
    if (root / "index.html").exists():
        routes.append(_page(root, "index.html", "/", img_sources, app_id))
    routes += [_page(root, name, None, img_sources, app_id)
               for name in PAGES if (root / name).exists()]
    routes += embed_bundle.bundle_routes(root)
    routes += sdk_wheel.wheel_routes(root)
    routes += app_archive.archive_routes(root)
    routes.append(Mount("/app", app=_static(root / "app", REVALIDATE)))
    routes.append(Mount("/static", app=_static(root / "static", REVALIDATE, public=True)))
    # The runtimes, precompressed, plus Pyodide's quick start. (Imported here, so that
    # ``python -m server.assets`` does not find itself imported already.)
    from . import assets, console_page

    routes += console_page.console_routes(root)
    routes += assets.vendor_routes(VENDOR, public=list(VENDOR), app_root=root)
    return routes
