"""Embedding: a page on another origin adds one script tag and gets the SDK, the widget and the
JS API, under a strict CSP of its own; the API's CORS config decides which origins may log in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from .ui_helpers import PASSWORD, shot, violations, watch

pytestmark = pytest.mark.browser


class HostPage:
    """A static page on its own loopback port: the "other origin" that embeds Latchkey."""

    def __init__(self) -> None:
        self.html = ""
        self.csp = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                body = host.html.encode()
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", host.csp)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, latchkey: str, *, mount: bool = True) -> None:
        """Serve a page that embeds the Latchkey server at ``latchkey``."""
        mount_attr = ' data-mount="#login"' if mount else ""
        self.html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="{latchkey}/static/embed.js" data-app-id="latchkey-demo"
        data-server="{latchkey}"{mount_attr}></script>
</head><body><h1>A shop on another origin</h1><div id="login"></div></body></html>"""
        # What an embedding page needs to allow: scripts, WebAssembly, requests and the widget's
        # stylesheet from the Latchkey server, and nothing else (see the README).
        self.csp = (f"default-src 'none'; script-src {latchkey} 'wasm-unsafe-eval'; "
                    f"connect-src {latchkey}; style-src {latchkey}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def host() -> Iterator[HostPage]:
    page = HostPage()
    yield page
    page.close()


@pytest.fixture
def stranger() -> Iterator[HostPage]:
    page = HostPage()
    yield page
    page.close()


def ready(page: Page) -> None:
    page.wait_for_function("() => window.Latchkey")
    page.evaluate("() => Latchkey.ready.then(() => true)")


def test_widget_and_js_api_on_another_origin(page: Page, server_factory, host: HostPage):
    live = server_factory({"cors": {"allowed_origins": [host.origin]}})
    host.serve(live.base_url)
    page.set_viewport_size({"width": 560, "height": 420})
    watch(page)
    page.goto(host.origin + "/")
    ready(page)

    # The widget, in the element the page named.
    widget = page.locator("#login")
    widget.get_by_role("button", name="Create an account", exact=True).click()
    expect(widget.get_by_role("heading")).to_have_text("Create an account")
    widget.get_by_label("Email").fill("shopper@example.com")
    widget.get_by_label("Password").fill(PASSWORD)
    shot(page, "11-embedded-widget")
    widget.get_by_role("button", name="Create account", exact=True).click()
    expect(widget.locator(".lk-who")).to_have_text("Signed in as shopper@example.com")

    # The JS API over the same SDK state.
    user = page.evaluate("() => Latchkey.currentUser()")
    assert user["email"] == "shopper@example.com" and user["isCurrent"] is True
    assert page.evaluate("() => Latchkey.callFunction('translate', 'hello', 'en_fr')") == "bonjour"
    anonymous = page.evaluate("() => Latchkey.logIn('anonymous')")
    assert anonymous["providerType"] == "anon-user"
    expect(widget.get_by_role("button", name="Switch to shopper@example.com")).to_be_visible()
    assert len(page.evaluate("() => Latchkey.allUsers()")) == 2
    page.evaluate("(id) => Latchkey.switchUser(id)", user["id"])
    expect(widget.locator(".lk-who")).to_have_text("Signed in as shopper@example.com")

    seen = page.evaluate("""() => new Promise((resolve) => {
        const labels = [];
        const stop = Latchkey.subscribe((state) => {
            labels.push(state.currentUser && state.currentUser.label);
            if (labels.length === 2) { stop(); resolve(labels); }
        });
        Latchkey.logOut();
    })""")
    assert seen == ["shopper@example.com", "Anonymous user"]

    failure = page.evaluate("""() => Latchkey.logIn('emailPassword', 'shopper@example.com', 'nope')
        .then(() => null, (e) => [e.name, e.code, e.message])""")
    assert failure == ["LatchkeyError", "InvalidPassword",
                       "That email and password don't match. Check both and try again."]
    assert violations(page) == []


def test_an_origin_not_in_the_cors_config_cannot_log_in(page: Page, server_factory,
                                                        host: HostPage, stranger: HostPage):
    live = server_factory({"cors": {"allowed_origins": [host.origin]}})
    stranger.serve(live.base_url, mount=False)
    page.goto(stranger.origin + "/")
    ready(page)
    failure = page.evaluate("""() => Latchkey.logIn('anonymous')
        .then(() => null, (e) => [e.code, e.message])""")
    # The server answers, but not to this origin: the message says that, not "can't reach".
    assert failure[0] == "DomainNotAllowed"
    assert failure[1].startswith("This website isn't allowed to use its sign-in server.")
    assert stranger.origin in failure[1]
