"""The admin console's page: ``admin.html`` at ``/admin`` (and ``/admin.html``), and its PyScript
config at ``/admin.json``.

The config is made from the ``app/`` tree at each request rather than kept by hand: the console
imports the SDK, and a hand-kept list of its modules breaks the console the day the SDK gains
one. It copies ``app/__init__.py``, the SDK (not the CPython adapter) and ``app/console``
(whose ``main.py`` is the page's script itself) into Pyodide, and takes the interpreter and the
plugins from ``pyscript.toml``, so both pages start Pyodide the same way. The page's
Content-Security-Policy is ``server.web``'s, with ``PAGE_CSP``'s narrowing.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

CONSOLE_SOURCES = ("app/__init__.py", "app/sdk/**/*.py", "app/console/*.py")
CONSOLE_EXCLUDE = frozenset({"app/sdk/adapters/native.py", "app/console/main.py"})
CONFIG_URL = "/admin.json"


def console_files(root: Path) -> list[str]:
    """The repo-relative paths of the Python the console copies into Pyodide, sorted."""
    found: set[str] = set()
    for pattern in CONSOLE_SOURCES:
        found.update(p.relative_to(root).as_posix() for p in root.glob(pattern)
                     if "__pycache__" not in p.parts)
    return sorted(found - CONSOLE_EXCLUDE)


def console_config(root: Path) -> dict[str, Any]:
    """The console's PyScript config: ``pyscript.toml``'s interpreter and plugins, its files."""
    page = tomllib.loads((root / "pyscript.toml").read_text(encoding="utf-8"))
    config: dict[str, Any] = {k: page[k] for k in ("interpreter", "plugins") if k in page}
    config["files"] = {f"/{rel}": f"./{rel}" for rel in console_files(root)}
    return config


def console_routes(root: Path) -> list[BaseRoute]:
    """``/admin``, ``/admin.html`` and ``/admin.json``, when ``admin.html`` is there."""
    if not (root / "admin.html").exists():
        return []
    from .web import REVALIDATE, _page

    async def config(request: Request) -> Response:
        body = json.dumps(console_config(root), sort_keys=True)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers = {"Cache-Control": REVALIDATE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    return [_page(root, "admin.html", "/admin"), _page(root, "admin.html"),
            Route(CONFIG_URL, config, methods=["GET", "HEAD"])]
