"""The page's quick start (``server/assets.py``): Pyodide restored from the memory snapshot
made at setup, and an ordinary start whenever the snapshot is missing or unusable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route

from server import assets

from .ui_helpers import violations, wait_ready, watch

pytestmark = pytest.mark.browser

# The state a restored interpreter must not share with every other page restored from the same
# snapshot, read back through a second script of the page.
PROBE = """<script type="py">
import random, sys
from pyscript import document
document.body.dataset.probe = f"{random.random()}|{'asyncio' in sys.modules}"
</script></body>"""


def _snapshot_or_skip() -> str:
    tag = assets.build_tag()
    if tag is None or not assets.snapshot_path(tag).is_file():
        pytest.skip("no Pyodide snapshot here (scripts/setup makes it where Chromium is)")
    return tag


def _requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def _probe(page: Page, url: str) -> tuple[str, str]:
    def with_probe(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("</body>", PROBE))

    page.route(url, with_probe)
    page.goto(url)
    wait_ready(page)
    page.wait_for_function("() => document.body.dataset.probe", timeout=30_000)
    page.unroute(url)
    number, preloaded = str(page.evaluate("document.body.dataset.probe")).split("|")
    return number, preloaded


def test_the_page_starts_from_the_snapshot(page: Page, live_server) -> None:
    tag = _snapshot_or_skip()
    watch(page)
    seen = _requests(page)
    first, preloaded = _probe(page, live_server.base_url + "/")
    # The app's snapshot (the SDK imported too) when setup made it from the files as they are.
    with_app = assets.snapshot_path(tag, app=assets.app_digest(assets.REPO_ROOT))
    name = with_app.name if with_app.is_file() else f"{tag}.bin"
    assert any(url.endswith(f"/vendor/pyodide-snapshot/{name}") for url in seen)
    assert any(f"/vendor/pyodide@{tag}/pyodide.asm.wasm" in url for url in seen)
    assert preloaded == "True"  # Imported in the snapshot, not by the page.
    assert violations(page) == []
    # Every restored page reseeds its random numbers.
    second, _ = _probe(page, live_server.base_url + "/")
    assert first != second


@pytest.mark.parametrize("failure", ["missing", "corrupt"])
def test_without_a_usable_snapshot_the_page_starts_anyway(page: Page, live_server,
                                                          failure: str) -> None:
    _snapshot_or_skip()
    if failure == "missing":
        page.route("**/vendor/pyodide-snapshot/**", lambda route: route.fulfill(status=404))
    else:
        page.route("**/vendor/pyodide-snapshot/**",
                   lambda route: route.fulfill(status=200, body=b"\0" * 4096))
    page.goto(live_server.base_url + "/")
    wait_ready(page)
    assert page.locator("#login-email").is_enabled()
