"""The benchmark server: Latchkey's app as ``serve.py`` runs it, plus benchmark-only routes.

    python -m benchmarks.server --port PORT --data-dir DIR     # Latchkey + reference pages
    python -m benchmarks.server --port PORT --floor            # a bare Starlette JSON endpoint

The extra routes (all under ``/__bench__/``) serve the reference pages of ``benchmarks/pages``,
the official realm-web browser bundle (served exactly as the vendored Pyodide is, so both sides
get the same caching and compression), and the SDK sources the round-trip page copies into
Pyodide. They are added the way ``tests/e2e/conftest.py`` adds its harness routes; nothing here
is part of the product.

Uvicorn gets the options ``serve.py`` gives it (one process, access log on and batched, no proxy
headers), so the figures are those of the shipped server.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import FileResponse, JSONResponse, Response  # noqa: E402
from starlette.routing import BaseRoute, Mount, Route  # noqa: E402

PAGES = Path(__file__).resolve().parent / "pages"
REALM_WEB_DIST = REPO / "node_modules" / "realm-web" / "dist"
#: Python the round-trip page copies into Pyodide: the SDK and the page's own driver.
SDK_SOURCES = ("app/__init__.py", "app/sdk/**/*.py")
SDK_EXCLUDE = frozenset({"app/sdk/adapters/native.py"})
#: Login limits high enough that a load generator on one address is never throttled; every
#: other setting is the demo config's.
OVERRIDES: dict[str, Any] = {
    "mail": {"console": False},
    "security": {"login_attempts_per_address": 10**9, "login_failures_per_account": 10**9,
                 "logins_per_address": 10**9, "logins_per_identity": 10**9,
                 "email_requests_per_address": 10**9, "login_slowdown_after": 10**9},
}


def sdk_files() -> list[str]:
    """Repo-relative paths of the SDK sources, sorted."""
    found: set[str] = set()
    for pattern in SDK_SOURCES:
        found.update(p.relative_to(REPO).as_posix() for p in REPO.glob(pattern)
                     if "__pycache__" not in p.parts)
    return sorted(found - SDK_EXCLUDE)


def vendor_mount(prefix: str, directory: Path, name: str) -> Mount:
    """Serve ``directory`` under ``prefix`` exactly as the server serves vendored runtimes:
    with compressed copies (made here, as setup makes Pyodide's) and a day of caching."""
    try:
        from server import assets
    except ImportError:  # A server from before server/assets.py (before/after comparisons).
        from server import web

        return Mount(prefix, app=web._static(directory, web.VENDOR_CACHE, public=True))
    try:
        from server.asset_setup import compress_tree
    except ImportError:  # Before the setup moved out of server/assets.py.
        compress_tree = assets.compress_tree  # type: ignore[attr-defined]
    compress_tree(directory, assets.CACHE_DIR / assets.COMPRESSED / name)
    return Mount(prefix, app=assets.vendor_files(directory, name, public=True))


def bench_routes() -> list[BaseRoute]:
    """The ``/__bench__/`` routes."""
    files = sdk_files()

    async def blank(request: Request) -> Response:
        return Response("<!doctype html><title>blank</title>", media_type="text/html")

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        path = PAGES / name
        if "/" in name or not path.is_file():
            return Response(status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def manifest(request: Request) -> Response:
        return JSONResponse(files)

    async def source(request: Request) -> Response:
        rel = request.path_params["path"]
        if rel not in files:
            return Response(status_code=404)
        return FileResponse(REPO / rel, media_type="text/plain",
                            headers={"Cache-Control": "no-cache"})

    return [
        Route("/__bench__/blank", blank),
        Route("/__bench__/pages/{name}", page),
        Route("/__bench__/manifest.json", manifest),
        Route("/__bench__/src/{path:path}", source),
        vendor_mount("/__bench__/realm-web", REALM_WEB_DIST, "realm-web"),
    ]


def latchkey_app(data_dir: Path, port: int, extra: dict[str, Any] | None = None,
                 origins: list[str] | None = None) -> Starlette:
    """Latchkey's app for the demo config on ``data_dir``, with the benchmark routes first;
    ``extra`` adds config (``--overrides FILE``, JSON); ``origins`` are allowed to call the API
    (the embed's page of another origin)."""
    from server import create_app
    from server.settings import DEFAULT_CONFIG, Settings

    overrides = {**OVERRIDES, "cors": {"allowed_origins": origins}} if origins else OVERRIDES
    settings = Settings.load(DEFAULT_CONFIG, data_dir,
                             database_url=f"sqlite:{data_dir / 'latchkey.sqlite3'}",
                             overrides={**overrides, **(extra or {})})
    settings = dataclasses.replace(settings, link_base_url=f"http://127.0.0.1:{port}")
    app = create_app(settings)
    app.router.routes[:0] = bench_routes()
    return app


def floor_app() -> Starlette:
    """The floor of the stack: Starlette and uvicorn answering one small JSON object."""
    body = {"user_id": "0" * 24, "type": "normal", "data": {"email": "floor@example.com"}}

    async def hello(request: Request) -> Response:
        return JSONResponse(body)

    return Starlette(routes=[Route("/floor", hello)])


def _limited_protocol() -> Any:
    """serve.py's HTTP protocol with the demo config's limits, when the server has them."""
    try:
        from server.http_limits import HttpLimits, protocol
    except ImportError:  # A server from before server/http_limits.py (before/after runs).
        return "auto"
    return protocol(HttpLimits())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--allow-origin", action="append", default=[],
                        help="an origin the API answers (the embed benchmark's page)")
    # For before/after comparisons only: uvicorn's event loop and HTTP parser ("auto" picks
    # uvloop and httptools when they are installed, as serve.py does).
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    parser.add_argument("--overrides", type=Path, help="JSON config added to the demo config's")
    args = parser.parse_args(argv)
    import uvicorn

    if args.floor:
        app = floor_app()
    else:
        if args.data_dir is None:
            parser.error("--data-dir is required unless --floor")
        extra = json.loads(args.overrides.read_text()) if args.overrides else None
        app = latchkey_app(args.data_dir, args.port, extra, args.allow_origin)
    from server.asgi import keep_query_strings_out_of_logs

    keep_query_strings_out_of_logs()  # As serve.py does.
    print(json.dumps({"serving": args.port}), flush=True)
    http: Any = args.http
    if args.http == "auto" and not args.floor:
        http = _limited_protocol()  # serve.py's slow-client limits; --http httptools: none.
    logs: dict[str, Any] = {}
    if not args.floor:
        try:  # serve.py's log config (its access log is batched); the floor keeps uvicorn's.
            from server.observability import plainlog
        except ImportError:  # A server from before it (before/after runs).
            pass
        else:
            logs = {"log_config": plainlog.log_config()}
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info", proxy_headers=False,
                loop=args.loop, http=http, **logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
