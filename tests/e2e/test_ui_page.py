"""The page shell: what shows before Python is ready, keyboard use, the CSP and the file lists.

The first tests need no browser: they read ``pyscript.toml`` and the server's headers.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib

import pytest
from playwright.sync_api import Page, Route, expect
from starlette.testclient import TestClient

from app.sdk.adapters.native import make_app
from server import create_app
from server.web import embed_files
from tests.conftest import make_settings

from .ui_helpers import (
    PASSWORD,
    REPO,
    expect_signed_in,
    run_async,
    shot,
    violations,
    wait_ready,
    watch,
)

PAGES = ("/", "/index.html", "/confirm.html", "/reset.html")
NOT_IN_PYSCRIPT = {"app/main.py", "app/embed.py", "app/sdk/adapters/native.py"}


def test_pyscript_toml_copies_every_module_of_app():
    config = tomllib.loads((REPO / "pyscript.toml").read_text())
    # Pyodide from this server, through its quick-start module (server/assets.py).
    assert config["interpreter"] == "/vendor/pyodide-boot.mjs"
    assert "packages" not in config
    files = config["files"]
    modules = {p.relative_to(REPO).as_posix() for p in REPO.glob("app/**/*.py")
               if "__pycache__" not in p.parts and "console" not in p.parts}  # admin.toml
    assert {k.lstrip("/") for k in files} == modules - NOT_IN_PYSCRIPT
    assert all(value == f".{key}" for key, value in files.items())


def test_embed_bundle_has_the_sdk_and_the_bridge_only():
    files = embed_files()
    assert "app/embed.py" in files and "app/sdk/app.py" in files and "app/messages.py" in files
    assert "app/main.py" not in files and "app/ui.py" not in files
    assert "app/sdk/adapters/native.py" not in files


@pytest.mark.parametrize("path", PAGES)
def _policy(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in
                response.headers["content-security-policy"].split(";"))


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_minimal_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline]
    assert policy["script-src"].split() == ["'self'", "'wasm-unsafe-eval'", "'unsafe-eval'",
                                            *hashes]
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    # Profile pictures from social providers are https; nothing else, no data: URLs.
    assert policy["img-src"] == "'self' https:"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


def test_img_src_adds_the_http_origins_of_configured_issuers_only(tmp_path):
    secrets = {"enabled": True, "client_id": "c", "client_secret": "s"}
    endpoints = {"authorization_endpoint": "http://127.0.0.1:5555/auth",
                 "token_endpoint": "http://127.0.0.1:5555/token",
                 "jwks_uri": "http://127.0.0.1:5555/jwks"}
    settings = make_settings(tmp_path / "data", {"providers": {
        # A loopback provider as Google (as in the tests), one on https, one switched off.
        "oauth2-google": {**secrets, **endpoints, "issuer": "http://127.0.0.1:5555/realm"},
        "oidc": {**secrets, **endpoints, "issuer": "https://sso.example.com/realms/main"},
        "oidc-off": {**secrets, "enabled": False, "issuer": "http://10.0.0.1:8080"},
    }})
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        for path in PAGES[:3]:
            policy = _policy(test_client.get(path))
            assert policy["img-src"] == "'self' https: http://127.0.0.1:5555"


def test_embedding_assets_are_public_and_the_runtime_is_cached(client):
    embed = client.get("/static/embed.js")
    assert embed.headers["access-control-allow-origin"] == "*"
    wasm = client.head("/vendor/pyodide/pyodide.mjs")
    assert wasm.headers["access-control-allow-origin"] == "*"
    assert "max-age=86400" in wasm.headers["cache-control"]
    bundle = client.get("/embed/bundle.json")
    assert bundle.headers["access-control-allow-origin"] == "*"
    assert "app/sdk/__init__.py" in bundle.json()
    again = client.get("/embed/bundle.json", headers={"if-none-match": bundle.headers["etag"]})
    assert again.status_code == 304
    page_script = client.get("/app/main.py")
    assert "access-control-allow-origin" not in page_script.headers


def _hold_python(page: Page) -> list[Route]:
    """Hold the Pyodide wasm download, so the page stays in its before-Python state."""
    held: list[Route] = []
    page.route("**/pyodide.asm.wasm", lambda route: held.append(route))
    return held


def _release(page: Page, held: list[Route]) -> None:
    page.wait_for_function("() => true")  # Let the route handler run.
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    held.clear()
    page.unroute("**/pyodide.asm.wasm")


def _tab_to(page: Page, selector: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.browser
def test_shell_before_python_returning_user_and_keyboard_only(page: Page, live_server):
    run_async(make_app("latchkey-demo", live_server.base_url)
              .email_password_auth.register_user("kim@example.com", PASSWORD))
    watch(page)

    # Before Python: the forms are there at once, disabled, with a visible "starting" state.
    held = _hold_python(page)
    page.goto(live_server.base_url)
    expect(page.locator("#status")).to_contain_text("Starting")
    expect(page.locator("#login-email")).to_be_visible()
    expect(page.locator("#login-email")).to_be_disabled()
    assert page.locator("html").get_attribute("data-ready") is None
    shot(page, "00-starting")
    _release(page, held)
    wait_ready(page)
    expect(page.locator("#login-email")).to_be_enabled()

    # Keyboard only: sign in.
    page.locator("body").focus()
    _tab_to(page, "#login-email")
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect_signed_in(page, "kim@example.com")
    expect(page.locator("#account-title")).to_be_focused()

    # A returning user: the first paint is the account view, never the login form.
    held = _hold_python(page)
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#signin")).to_be_hidden()
    # The stored name or email shows at once (index.html); the rest waits for Python.
    expect(page.locator("#current-user-name")).to_have_text("kim@example.com")
    expect(page.locator("#account-summary .placeholder")).to_have_text("Loading your account…")
    _release(page, held)
    wait_ready(page)
    expect_signed_in(page, "kim@example.com")

    # Keyboard only: log out from the account list.
    page.locator("#account-title").focus()
    _tab_to(page, 'button[aria-label="Log out kim@example.com"]')
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    expect(page.locator("#accounts-title")).to_be_focused()
    assert violations(page) == []


@pytest.mark.browser
def test_a_page_that_cannot_start_says_so(page: Page, live_server):
    page.route("**/app/sdk/user.py", lambda route: route.fulfill(body="raise ImportError('x')"))
    page.goto(live_server.base_url)
    page.wait_for_function("() => document.documentElement.dataset.ready === 'failed'",
                           timeout=30_000)
    expect(page.locator("#status")).to_have_text(
        "This page could not start. Reload it to try again.")
    expect(page.locator("#login-email")).to_be_disabled()
