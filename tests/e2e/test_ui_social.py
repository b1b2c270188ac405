"""Social login on our own page (``index.html``), in Chromium, against the real OpenID Connect
provider on loopback (``tests/social/oidc_server.mjs``) configured as ``oauth2-google``.

The provider signs its test account ("Alice Example", with a picture it serves itself) in at
once, so nobody fills in a form there: the popup, or the page itself, goes provider -> our
callback -> our page by redirects alone, and our page (``app/social.py``) finishes the login.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from tests.social.helpers import SocialApi
from tests.social.provider import SocialServer, oidc_provider, social_server  # noqa: F401

from .ui_helpers import expect_signed_in, open_app, shot, violations, watch

pytestmark = pytest.mark.browser

#: A popup loads Pyodide before it can hand the result over; a full-page redirect, twice.
FLOW_MS = 90_000
GOOGLE = "Sign in with Google"
DOWN = {"providers": {"oauth2-google": {"token_endpoint": "http://127.0.0.1:9/token"}}}


@pytest.fixture
def our_page(social_server: Callable[..., SocialServer]  # noqa: F811
             ) -> Callable[..., SocialServer]:
    """Our server for the provider, whose redirect allowlist has our page (``/``) on it."""
    def make(extra: dict | None = None) -> SocialServer:
        return social_server(extra, redirect_uris=lambda base: [base + "/"])

    return make


def block_popups(page: Page) -> None:
    """Do what a popup blocker does, on every document of the page: window.open() gives null."""
    page.add_init_script("window.open = () => null;")


def start_flow(page: Page, button, *, blocked: bool) -> None:
    """Click a social button: a popup opens, or (popups blocked) this page leaves for the
    provider and, later, comes back."""
    if blocked:
        with page.expect_navigation(timeout=FLOW_MS):
            button.click()
    else:
        with page.expect_popup():
            button.click()


def stored_keys(page: Page) -> list[str]:
    return list(page.evaluate("() => Object.keys(localStorage)"))


def expect_alice(page: Page, social: SocialServer) -> None:
    """Alice is signed in, with her name and her picture from the provider."""
    expect_signed_in(page, "Alice Example", timeout=FLOW_MS)
    picture = page.locator("#current-user-picture")
    expect(picture).to_have_attribute("src", f"{social.provider.issuer}/pictures/alice.svg")
    expect(picture).to_have_attribute("alt", "Alice Example")
    # Loaded, i.e. the CSP's img-src let the provider's picture in.
    page.wait_for_function(
        "() => { const i = document.getElementById('current-user-picture');"
        " return i && i.complete && i.naturalWidth > 0; }", timeout=10_000)
    expect(page.locator("#current-profile")).to_contain_text("alice@example.com")
    expect(page.locator("#current-identities")).to_contain_text("Google")


def test_no_social_buttons_when_the_server_has_none(page: Page, live_server):
    with page.expect_response(lambda r: r.url.endswith("/auth/providers")) as listed:
        open_app(page, live_server.base_url)
    assert listed.value.json() and all("display_name" not in p for p in listed.value.json())
    page.wait_for_timeout(200)  # The list has been rendered by now.
    expect(page.locator("#social")).to_be_hidden()
    expect(page.get_by_role("button", name=GOOGLE)).to_have_count(0)


def test_sign_in_with_google_in_a_popup(page: Page, our_page: Callable[..., SocialServer]):
    social = our_page()
    watch(page)
    open_app(page, social.base_url + "/")
    for name in (GOOGLE, "Sign in with OpenID Connect", "Sign in with Facebook"):
        expect(page.get_by_role("button", name=name)).to_be_visible()
    shot(page, "social-sign-in")

    # Closing the popup before signing in says so, and nothing is created.
    with page.expect_popup() as opened:
        page.get_by_role("button", name=GOOGLE).click()
    opened.value.close()
    expect(page.locator("#social-error")).to_have_text(
        "The Google sign-in window was closed before you finished. Try again when you're ready.",
        timeout=FLOW_MS)
    assert not [k for k in stored_keys(page) if ":user(" in k]

    # With the keyboard this time: the popup signs Alice in and our page shows her.
    page.get_by_role("button", name=GOOGLE).focus()
    with page.expect_popup() as opened:
        page.keyboard.press("Enter")
    popup = opened.value
    expect_alice(page, social)
    expect(page.locator("#social-error")).to_be_empty()
    expect(page.locator("#account-title")).to_be_focused()
    # Our page closed the popup once the result arrived.
    page.wait_for_timeout(200)
    if not popup.is_closed():
        popup.wait_for_event("close", timeout=10_000)
    assert not [k for k in stored_keys(page) if ":result" in k]
    assert violations(page) == []
    page.evaluate("() => document.activeElement.blur()")  # No focus ring in the picture.
    shot(page, "social-profile")

    # A reload keeps her, picture included.
    page.reload()
    expect_alice(page, social)


def test_full_page_redirect_when_the_popup_is_blocked(
        page: Page, our_page: Callable[..., SocialServer]):
    social = our_page()
    watch(page)
    block_popups(page)
    open_app(page, social.base_url + "/")
    start_flow(page, page.get_by_role("button", name=GOOGLE), blocked=True)
    expect_alice(page, social)
    # The tokens of the fragment never stay in the address bar, nor the flow's result.
    assert page.url == social.base_url + "/"
    assert not [k for k in stored_keys(page) if ":result" in k]
    expect(page.locator("#social-error")).to_be_empty()
    assert violations(page) == []


@pytest.mark.parametrize("blocked", [False, True], ids=["popup", "full-page"])
def test_link_google_to_an_anonymous_user(page: Page, our_page: Callable[..., SocialServer],
                                          blocked: bool):
    social = our_page()
    if blocked:
        block_popups(page)
    open_app(page, social.base_url + "/")
    page.get_by_role("button", name="Continue without an account").click()
    expect_signed_in(page, "Anonymous user")
    guest_id = page.locator("#current-user-id").text_content()
    link = page.get_by_role("button", name="Link your Google account")
    expect(link).to_be_visible()
    if not blocked:
        shot(page, "social-link")

    start_flow(page, link, blocked=blocked)
    expect_alice(page, social)
    expect(page.locator("#account-message")).to_have_text(
        "Google linked: sign in with Google to come back to this account, here or on another "
        "device.", timeout=FLOW_MS)
    # The same user as before, now with a Google login too; nothing left to link.
    expect(page.locator("#current-user-id")).to_have_text(guest_id or "")
    expect(page.locator("#current-identities")).to_contain_text("Anonymous")
    expect(page.locator("#link-section")).to_be_hidden()
    expect(page.locator("#accounts-list > li")).to_have_count(1)


@pytest.mark.parametrize(("blocked", "name"), [(False, "Google"), (True, "the sign-in service")],
                         ids=["popup", "full-page"])
def test_a_provider_that_is_down_is_a_clear_message(
        page: Page, our_page: Callable[..., SocialServer], blocked: bool, name: str):
    social = our_page(DOWN)
    if blocked:
        block_popups(page)
    open_app(page, social.base_url + "/")
    start_flow(page, page.get_by_role("button", name=GOOGLE), blocked=blocked)
    expect(page.locator("#social-error")).to_have_text(
        f"Can't reach {name} right now. Try again in a moment, or choose another way to sign in.",
        timeout=FLOW_MS)
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    expect(page.locator("#social")).to_be_visible()
    assert not [k for k in stored_keys(page) if ":user(" in k or ":result" in k]
    with ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's event loop.
        assert pool.submit(SocialApi(social).user_count).result() == 0
