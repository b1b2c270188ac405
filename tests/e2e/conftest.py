"""Browser fixtures: Debian's Chromium through pytest-playwright, and a live server that also
serves the test harness (the SDK's and the scenarios' Python files, read into Pyodide).

Playwright's own browser download does not work here; ``/usr/bin/chromium`` is used instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from tests.conftest import LiveServer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
# Python files the harness copies into Pyodide's file system, relative to the repo root.
HARNESS_GLOBS = ("app/__init__.py", "app/sdk/**/*.py", "tests/__init__.py", "tests/sdk/__init__.py",
                 "tests/sdk/scenarios.py", "tests/sdk/helpers.py", "tests/e2e/__init__.py",
                 "tests/e2e/browser_runner.py")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium with flags that keep it off the closed network."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup test (apt-get install chromium).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def harness_files() -> list[str]:
    """The files the harness page loads, as repo-relative POSIX paths."""
    found: set[str] = set()
    for pattern in HARNESS_GLOBS:
        found.update(p.relative_to(REPO).as_posix() for p in REPO.glob(pattern)
                     if "__pycache__" not in p.parts)
    return sorted(found)


def add_harness_routes(live: LiveServer) -> None:
    """Serve ``/__tests__/harness.html``, its manifest and the listed sources on a live server."""
    files = harness_files()

    async def manifest(request: Request) -> Response:
        return JSONResponse(files)

    async def source(request: Request) -> Response:
        rel = request.path_params["path"]
        if rel not in files:
            return Response(status_code=404)
        return FileResponse(REPO / rel, media_type="text/plain")

    async def page(request: Request) -> Response:
        return FileResponse(Path(__file__).parent / "harness.html")

    app = live.server.config.app
    app.router.routes[:0] = [
        Route("/__tests__/manifest.json", manifest),
        Route("/__tests__/src/{path:path}", source),
        Route("/__tests__/harness.html", page),
    ]


@pytest.fixture
def harness_server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    """A live demo server that also serves the in-browser harness."""
    live = server_factory()
    add_harness_routes(live)
    return live


def read_result(page: Any, timeout_ms: int = 120_000) -> dict[str, Any]:
    """Wait for the harness to write ``#result`` and return it decoded."""
    page.wait_for_function(
        "document.getElementById('result') && document.getElementById('result').dataset.done",
        timeout=timeout_ms,
    )
    text = page.locator("#result").text_content() or "{}"
    value: dict[str, Any] = json.loads(text)
    return value
