"""The front end: the page, its Python, static files, and Pyodide/PyScript from ``node_modules``.

Nothing here is fetched from a CDN; the vendored runtimes are served from the npm install made at
setup. Missing folders (no ``npm install`` yet) answer 404 rather than failing the server.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .settings import REPO_ROOT

VENDOR = {
    "/vendor/pyodide": REPO_ROOT / "node_modules" / "pyodide",
    "/vendor/pyscript": REPO_ROOT / "node_modules" / "@pyscript" / "core" / "dist",
}
PAGES = ("index.html", "confirm.html", "reset.html", "pyscript.toml")


def _page(name: str) -> Route:
    path = REPO_ROOT / name

    async def serve(request: Request) -> Response:
        return FileResponse(path)

    return Route(f"/{name}", serve, methods=["GET", "HEAD"], name=f"page:{name}")


async def _index(request: Request) -> Response:
    return FileResponse(REPO_ROOT / "index.html")


def frontend_routes(root: Path = REPO_ROOT) -> list[BaseRoute]:
    """Routes that serve the page and its assets."""
    routes: list[BaseRoute] = [Route("/", _index, methods=["GET", "HEAD"])]
    routes += [_page(name) for name in PAGES if (root / name).exists()]
    routes.append(Mount("/app", app=StaticFiles(directory=root / "app", check_dir=False)))
    routes.append(Mount("/static", app=StaticFiles(directory=root / "static", check_dir=False)))
    routes += [Mount(prefix, app=StaticFiles(directory=path, check_dir=False))
               for prefix, path in VENDOR.items()]
    return routes
