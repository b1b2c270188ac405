"""The page under a strict Content-Security-Policy (no ``'unsafe-eval'``), and what a cold visit
costs in bytes: from the browser's own network events, not a timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page

from server import assets, sdk_wheel, vendor_patches
from tests.conftest import LiveServer, make_settings, start_server

from .ui_helpers import violations, wait_ready, watch

pytestmark = pytest.mark.browser
#: Bytes over the network on a cold visit of the page (brotli, which Chromium asks for from
#: loopback): today's figure (10.3 MB) with a margin, so a regression fails. The issue's target
#: is 6 MB; what stands in the way is the memory snapshot (4.8 MB br) beside the wasm (3.1 MB)
#: and the standard library (1.8 MB, stored and sent with brotli): see the README's benchmarks.
COLD_BUDGET = 11_000_000
MICROPIP = next(name for package, name in vendor_patches.EXTRA_FILES if package == "pyodide")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(make_settings(tmp_path_factory.mktemp("front") / "data"))
    yield live
    live.stop()


def test_the_page_runs_without_unsafe_eval(page: Page, server: LiveServer) -> None:
    watch(page)
    response = page.goto(server.base_url + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in policy and "'wasm-unsafe-eval'" in policy
    wait_ready(page)
    assert page.locator("#login-email").is_enabled()
    assert violations(page) == []
    # The policy is enforced: a string evaluated as JavaScript is refused, and reported.
    # (From a task of the page's own: Playwright's evaluate itself may evaluate strings.)
    refused = page.evaluate("""() => new Promise((resolve) => setTimeout(() => {
        try { resolve(String(new Function("return 1")())); } catch (e) { resolve(e.name); }
    }))""")
    assert refused == "EvalError"
    assert [v.split()[0] for v in violations(page)] == ["script-src"]


def test_a_cold_visit_stays_within_its_byte_budget(browser: Browser, server: LiveServer) -> None:
    # A fresh context: empty caches, as a first visit. Counted as the browser received them
    # over the network: headers and bodies, compressed (the copies setup made).
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent",
               lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]))
        cdp.send("Network.enable")
        page.goto(server.base_url + "/")
        wait_ready(page)
        page.wait_for_load_state("networkidle")
        total = sum(sizes.values())
        biggest = sorted(((size, urls.get(rid, "?")) for rid, size in sizes.items()),
                         reverse=True)[:4]
        assert total <= COLD_BUDGET, f"{total / 1e6:.2f} MB on a cold visit: {biggest}"
        # The runtime went out compressed: the wasm's gzip copy, not its 9.6 MB.
        wasm = next(size for size, url in biggest if url.endswith("pyodide.asm.wasm"))
        assert wasm < 5_000_000
    finally:
        context.close()


class OtherSite:
    """Static files on a loopback port of their own: the other origin, with a strict CSP."""

    def __init__(self, files: dict[str, tuple[str, str]], csp: str) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                kind, text = site.files.get(self.path.split("?")[0], ("text/plain", "not found"))
                body = text.encode()
                self.send_response(404 if text == "not found" else 200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Security-Policy", site.csp)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.files, self.csp = files, csp
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


PYTHON_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A Python page</title>
<script type="module" src="{latchkey}/vendor/pyscript/core.js"></script>
</head><body><h1>Someone else's Python page</h1>
<script type="py" config="./pyscript.toml">
from latchkey import App, Credentials
from latchkey.adapters.browser import FetchTransport, LocalStorage
from pyscript import document

app = App("latchkey-demo", base_url="{latchkey}", transport=FetchTransport(),
          storage=LocalStorage())
user = await app.log_in(Credentials.anonymous())
document.body.dataset.user = f"{{user.id}} {{user.provider_type}}"
</script></body></html>"""

PYTHON_CONFIG = """interpreter = "{latchkey}/vendor/pyodide-boot.mjs"
packages = ["{latchkey}/sdk/{wheel}"]
plugins = ["!codemirror", "!deprecations-manager", "!donkey", "!error", "!py-editor", "!py-game",
           "!py-terminal"]
"""


def test_a_python_page_of_another_origin_installs_the_sdk_wheel_and_logs_in(
        page: Page, tmp_path_factory: pytest.TempPathFactory) -> None:
    if vendor_patches.extra_file(assets.CACHE_DIR, "pyodide", MICROPIP) is None:
        pytest.skip("micropip's wheel was not fetched at setup (python -m server.assets)")
    site = OtherSite({}, "")
    try:
        live = start_server(make_settings(tmp_path_factory.mktemp("python-page") / "data",
                                          {"cors": {"allowed_origins": [site.origin]}}))
        latchkey = live.base_url
        site.files = {
            "/": ("text/html", PYTHON_PAGE.format(latchkey=latchkey)),
            "/pyscript.toml": ("text/plain", PYTHON_CONFIG.format(
                latchkey=latchkey, wheel=sdk_wheel.wheel_name())),
        }
        # The strict policy of a site of its own: the Latchkey server's scripts, WebAssembly,
        # requests to itself and to the Latchkey server (the config, the wheel, the API).
        site.csp = (f"default-src 'none'; script-src {latchkey} 'self' 'wasm-unsafe-eval'; "
                    f"connect-src 'self' {latchkey}; style-src {latchkey}")
        watch(page)
        page.goto(site.origin + "/")
        page.wait_for_function("() => document.body.dataset.user", timeout=60_000)
        user_id, provider = str(page.evaluate("document.body.dataset.user")).split()
        assert provider == "anon-user"
        assert violations(page) == []
        live.stop()
    finally:
        site.close()


EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="{latchkey}/static/embed.js" data-app-id="latchkey-demo"
        data-server="{latchkey}"></script>
</head><body><h1>A shop</h1></body></html>"""


def test_the_embed_starts_from_the_snapshot_and_the_long_lived_cache(
        page: Page, server: LiveServer) -> None:
    tag = assets.build_tag()
    if tag is None or not assets.snapshot_path(tag).is_file():
        pytest.skip("no Pyodide snapshot here (scripts/setup makes it where Chromium is)")
    latchkey = server.base_url
    site = OtherSite({"/": ("text/html", EMBED_PAGE.format(latchkey=latchkey))},
                     f"default-src 'none'; script-src {latchkey} 'wasm-unsafe-eval'; "
                     f"connect-src {latchkey}")
    try:
        seen: dict[str, str] = {}
        page.on("response", lambda r: seen.__setitem__(r.url, r.headers.get("cache-control", "")))
        watch(page)
        page.goto(site.origin + "/")
        page.wait_for_function("() => window.Latchkey")
        page.evaluate("() => Latchkey.ready.then(() => true)")
        snapshots = [url for url in seen if "/vendor/pyodide-snapshot/" in url]
        assert len(snapshots) == 1 and seen[snapshots[0]] == assets.IMMUTABLE
        wasm = f"{latchkey}/vendor/pyodide@{tag}/pyodide.asm.wasm"
        assert seen[wasm] == assets.IMMUTABLE
        assert violations(page) == []
    finally:
        site.close()
