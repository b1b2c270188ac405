"""Social login in Chromium: the SDK in Pyodide, our server, and the real OpenID Connect provider.

``social_page.html`` is a minimal app page (the product page's buttons are the UI's): it runs the
SDK with the browser adapters, and is its own redirect target, as an app page would be. The
provider (``oidc_server.mjs``) signs the test account in at once, so no form is filled in: the
popup or the page goes provider -> our callback -> the app page by redirects alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tests.social.provider import SocialServer, oidc_provider, social_server  # noqa: F401

from .conftest import add_harness_routes

pytestmark = pytest.mark.browser

PAGE_PATH = "/__social__/page.html"
PAGE_FILE = Path(__file__).with_name("social_page.html")
TIMEOUT_MS = 120_000


@pytest.fixture
def make_app_page(social_server: Callable[..., SocialServer]  # noqa: F811
                  ) -> Callable[..., SocialServer]:
    """Our server for the provider (with config overrides), also serving the test page and
    the SDK sources."""
    def make(extra: dict[str, Any] | None = None) -> SocialServer:
        social = social_server(extra, redirect_uris=lambda base: [base + PAGE_PATH])

        async def page(request: Request) -> Response:
            return FileResponse(PAGE_FILE)

        add_harness_routes(social.live)
        social.live.server.config.app.router.routes.insert(0, Route(PAGE_PATH, page))
        return social

    return make


@pytest.fixture
def app_page(make_app_page: Callable[..., SocialServer]) -> SocialServer:
    return make_app_page()


def open_page(page: Any, social: SocialServer) -> None:
    page.goto(social.base_url + PAGE_PATH)
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=TIMEOUT_MS)
    assert page.locator("#result").text_content() == "", page.locator("#result").text_content()


def result(page: Any, *, failed: bool = False) -> dict[str, Any]:
    page.wait_for_function("document.getElementById('result').dataset.done === '1'",
                           timeout=TIMEOUT_MS)
    value: dict[str, Any] = json.loads(page.locator("#result").text_content() or "{}")
    assert "fatal" not in value and ("error" in value) == failed, value
    return value


def test_popup_sign_in_with_google(page: Any, app_page: SocialServer) -> None:
    open_page(page, app_page)
    with page.expect_popup() as opened:
        page.click("#login-popup")
    popup = opened.value
    user = result(page)["user"]
    assert user["name"] == "Alice Example" and user["email"] == "alice@example.com"
    assert user["picture"] == f"{app_page.provider.issuer}/pictures/alice.svg"
    assert user["identities"] == ["oauth2-google"]
    # The opener closed the popup when the result arrived (perhaps before we look).
    page.wait_for_timeout(200)
    if not popup.is_closed():
        popup.wait_for_event("close", timeout=10_000)
    # The tokens never stay in storage under the flow's state, only with the user.
    keys = page.evaluate("Object.keys(localStorage)")
    assert not [k for k in keys if ":result" in k], keys
    assert f"realm-web:app(latchkey-demo):user({user['id']}):refreshToken" in keys


def test_full_page_sign_in_with_google(page: Any, app_page: SocialServer) -> None:
    open_page(page, app_page)
    page.click("#login-page")
    # The page leaves for the provider and comes back; its new life finishes the login.
    page.wait_for_url(app_page.base_url + PAGE_PATH, timeout=TIMEOUT_MS)
    done = result(page)
    assert done["user"]["name"] == "Alice Example"
    assert done["hash"] == ""  # handle_auth_redirect() removed the tokens from the address bar.
    assert "#" not in page.url


def test_link_google_to_a_guest_in_a_popup(page: Any, app_page: SocialServer) -> None:
    open_page(page, app_page)
    with page.expect_popup():
        page.click("#link-popup")
    user = result(page)["user"]
    assert user["identities"] == ["anon-user", "oauth2-google"]
    assert user["provider_type"] == "anon-user" and user["name"] == "Alice Example"


def test_provider_down_at_the_exchange_is_a_clear_error(
        page: Any, make_app_page: Callable[..., SocialServer]) -> None:
    social = make_app_page({"providers": {"oauth2-google": {
        "token_endpoint": "http://127.0.0.1:9/token"}}})
    open_page(page, social)
    with page.expect_popup():
        page.click("#login-popup")
    failed = result(page, failed=True)
    assert failed["code"] == "InternalServerError", failed
    assert "could not reach the identity provider of oauth2-google" in failed["error"]
    keys = page.evaluate("Object.keys(localStorage)")
    assert not [k for k in keys if ":user(" in k or ":result" in k], keys
