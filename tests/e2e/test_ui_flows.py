"""The page in Chromium: anonymous use and linking, the emailed links, and the error messages.

Accounts that a test only needs to exist are made with the SDK under CPython (``make_app``), which
is much faster than another page load.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.sdk import Credentials
from app.sdk.adapters.native import make_app

from .ui_helpers import (
    PASSWORD,
    account_row,
    emailed_link,
    expect_signed_in,
    log_in,
    open_app,
    register,
    run_async,
    shot,
    task,
    violations,
    watch,
)

pytestmark = pytest.mark.browser

CONFIRM_BY_EMAIL = {"providers": {"local-userpass": {"confirmation": "email"}}}


def sdk_register(base_url: str, email: str, password: str = PASSWORD) -> None:
    app = make_app("latchkey-demo", base_url)
    run_async(app.email_password_auth.register_user(email, password))


def test_anonymous_user_links_a_login_and_calls_functions(page: Page, live_server):
    watch(page)
    open_app(page, live_server.base_url)
    page.get_by_role("button", name="Continue without an account").click()
    expect_signed_in(page, "Anonymous user")
    expect(page.locator("#link-section")).to_be_visible()

    # The demo functions: translate, and write custom data that a refresh then shows.
    page.get_by_role("button", name="Translate").click()
    expect(page.locator("#translate-form-result")).to_have_text("Translation: bonjour")
    page.get_by_label("Favorite color").fill("teal")
    page.get_by_role("button", name="Save color").click()
    expect(page.locator("#color-form-result")).to_contain_text("Saved on the server")
    expect(page.locator("#custom-data")).not_to_contain_text("teal")
    page.get_by_role("button", name="Refresh custom data").click()
    expect(page.locator("#custom-data")).to_contain_text('"favorite_color": "teal"')
    expect(page.locator("#custom-data-message")).to_have_text("Custom data refreshed.")

    # Keep the account: add an email and password to the same user.
    user_id = page.locator("#current-user-id").text_content()
    page.locator("#link-email").fill("linked@example.com")
    page.locator("#link-password").fill(PASSWORD)
    page.get_by_role("button", name="Add email and password").click()
    expect(page.locator("#account-message")).to_contain_text("linked@example.com")
    expect(page.locator("#link-section")).to_be_hidden()
    expect(page.locator("#current-identities")).to_contain_text("Email and password")
    expect(page.locator("#current-identities")).to_contain_text("Anonymous")
    shot(page, "05-linked-account")

    # Signing in with the new login reaches the same user.
    page.get_by_role("button", name="Add another account").click()
    log_in(page, "linked@example.com")
    expect(page.locator("#current-user-id")).to_have_text(user_id or "")
    assert violations(page) == []


def test_confirmation_through_the_emailed_link(page: Page, server_factory):
    live = server_factory(CONFIRM_BY_EMAIL)
    watch(page)
    open_app(page, live.base_url)
    register(page, "carol@example.com")
    expect(page.locator("#register-form-message")).to_contain_text(
        "Check your email. We sent a link to carol@example.com")
    shot(page, "06-check-your-email")
    log_in(page, "carol@example.com")
    expect(page.locator("#login-form-error")).to_have_text(
        "Confirm your email address first: open the link we sent you, then sign in.")

    link = emailed_link(live, "carol@example.com", "confirm.html")
    open_app(page, live.base_url + link)
    expect(page.locator("#outcome")).to_have_text(
        "Your email address is confirmed. You can sign in now.")
    assert "token" not in page.url, "the one-time token stays in the address bar"
    shot(page, "07-confirmed")
    page.get_by_role("link", name="Go to sign in").click()
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    log_in(page, "carol@example.com")
    expect_signed_in(page, "carol@example.com")

    # The same link a second time.
    open_app(page, live.base_url + link)
    expect(page.locator("#outcome")).to_contain_text("already been used")
    assert violations(page) == []


def test_expired_and_broken_confirmation_links(page: Page, server_factory):
    live = server_factory({"providers": {"local-userpass": {"confirmation": "email",
                                                            "token_minutes": 0}}})
    sdk_register(live.base_url, "late@example.com")
    watch(page)
    open_app(page, live.base_url + emailed_link(live, "late@example.com", "confirm.html"))
    expect(page.locator("#outcome")).to_have_text(
        "This confirmation link has expired. Ask for a new one below.")
    page.get_by_label("Email", exact=True).fill("late@example.com")
    page.get_by_role("button", name="Send a new link").click()
    expect(page.locator("#again-form-message")).to_contain_text("a new link is on its way")
    assert len([m for m in live.outbox() if m["to"] == "late@example.com"]) == 2

    open_app(page, live.base_url + "/confirm.html?token=abc&tokenId=def")
    expect(page.locator("#outcome")).to_contain_text("This confirmation link isn't valid.")
    assert violations(page) == []


def test_forgot_password_through_the_emailed_link(page: Page, live_server):
    sdk_register(live_server.base_url, "dan@example.com")
    watch(page)
    open_app(page, live_server.base_url)
    page.get_by_text("Forgot your password?").click()
    page.locator("#forgot-email").fill("dan@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.locator("#forgot-form-message")).to_contain_text(
        "If there is an account for dan@example.com")

    link = emailed_link(live_server, "dan@example.com", "reset.html")
    open_app(page, live_server.base_url + link)
    assert "token" not in page.url
    page.get_by_label("New password (6 to 128 characters)").fill("a brand new one")
    page.get_by_label("New password again").fill("not the same")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("#reset-form-error")).to_have_text("The two passwords are not the same.")
    page.get_by_label("New password again").fill("a brand new one")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("#outcome")).to_have_text(
        "Your password is changed. Sign in with your new password.")
    shot(page, "08-password-changed")

    page.get_by_role("link", name="Go to sign in").click()
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    log_in(page, "dan@example.com", "a brand new one")
    expect_signed_in(page, "dan@example.com")
    assert violations(page) == []


def test_error_messages_api_key_and_server_down(page: Page, server_factory):
    live = server_factory({"security": {"login_failures_per_account": 2}})
    sdk_register(live.base_url, "eve@example.com")
    owner = make_app("latchkey-demo", live.base_url)

    async def make_key() -> str:
        user = await owner.log_in(Credentials.email_password("eve@example.com", PASSWORD))
        key = await user.api_keys.create("laptop")
        assert key.key
        return key.key

    secret = run_async(make_key())
    watch(page)
    open_app(page, live.base_url)

    log_in(page, "eve@example.com", "wrong password")
    error = page.locator("#login-form-error")
    expect(error).to_have_text("That email and password don't match. Check both and try again.")
    expect(error).to_have_attribute("role", "alert")
    shot(page, "09-wrong-password")
    log_in(page, "eve@example.com", "wrong again")
    expect(error).to_have_text("That email and password don't match. Check both and try again.")
    log_in(page, "eve@example.com", PASSWORD)
    expect(error).to_have_text("Too many attempts. Wait a few minutes, then try again.")

    register(page, "eve@example.com")
    expect(page.locator("#register-form-error")).to_have_text(
        "There is already an account with this email. Sign in instead, or reset its password.")
    page.locator("#register-email").fill("not-an-email")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-email-problem")).to_have_text(
        "That doesn't look like an email address.")
    expect(page.locator("#register-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#register-email")).to_be_focused()

    task(page, "signin")
    page.get_by_role("button", name="API key", exact=True).click()
    page.locator("#apikey-key").fill("not a key")
    page.get_by_role("button", name="Sign in with key").click()
    expect(page.locator("#apikey-form-error")).to_contain_text("That API key isn't valid")
    page.locator("#apikey-key").fill(secret)
    page.get_by_role("button", name="Sign in with key").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#account-summary")).to_contain_text("This session: API key")
    expect(account_row(page, "eve@example.com")).to_have_count(1)

    live.stop()
    page.get_by_role("button", name="Add another account").click()
    page.get_by_role("button", name="Continue without an account").click()
    expect(page.locator("#anon-form-error")).to_have_text(
        "Can't reach the server. Check your connection and try again in a moment.")
    shot(page, "10-server-unreachable")
    assert violations(page) == []


def test_access_tokens_expire_while_the_page_is_open_without_a_hiccup(page: Page,
                                                                      server_factory):
    # Three-second access tokens: every action below needs a refresh first.
    live = server_factory({"tokens": {"access_token_minutes": 0.05}})
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url)
            if r.method == "POST" and r.url.endswith("/auth/session") else None)
    watch(page)
    open_app(page, live.base_url)
    page.get_by_role("button", name="Continue without an account").click()
    expect_signed_in(page, "Anonymous user")
    for _ in range(2):
        page.wait_for_timeout(3500)
        page.get_by_role("button", name="Translate").click()
        expect(page.locator("#translate-form-result")).to_have_text("Translation: bonjour")
        page.locator("#translate-form-result").evaluate("el => { el.textContent = ''; }")
    assert len(refreshes) >= 2
    expect(page.locator("[role=alert]:visible, .error:visible")).to_have_count(0)
    expect_signed_in(page, "Anonymous user")
    assert violations(page) == []
