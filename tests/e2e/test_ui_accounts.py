"""The page in Chromium: registering, signing in, reloading, and the account switcher.

Each test is one real browser session against a real server; a Pyodide start costs seconds, so a
test walks through a whole story rather than one step.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .ui_helpers import (
    account_menu,
    account_row,
    alerts,
    expect_signed_in,
    log_in,
    open_app,
    register,
    shot,
    violations,
    watch,
)

pytestmark = pytest.mark.browser


def test_register_reload_add_switch_log_out_remove_and_delete(page: Page, live_server):
    watch(page)
    open_app(page, live_server.base_url)
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    shot(page, "01-sign-in")

    register(page, "ada@example.com")
    expect_signed_in(page, "ada@example.com")
    expect(page.locator("#account-title")).to_be_focused()
    expect(page.locator("#current-identities")).to_contain_text("Email and password")

    # A reload keeps the user signed in, and the first paint is already the account view.
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#signin")).to_be_hidden()
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    expect_signed_in(page, "ada@example.com")

    # "Add another account" signs a second user in without signing the first out.
    page.get_by_role("button", name="Add another account").click()
    expect(page.locator("#signin-title")).to_have_text("Add another account")
    expect(page.locator("#signin-title")).to_be_focused()
    register(page, "grace@example.com")
    expect_signed_in(page, "grace@example.com")
    ada, grace = account_row(page, "ada@example.com"), account_row(page, "grace@example.com")
    expect(grace).to_have_attribute("aria-current", "true")
    expect(ada).to_contain_text("Email and password · Signed in")
    shot(page, "02-two-accounts")

    # Switch back to Ada.
    ada.get_by_role("button", name="Switch to ada@example.com").click()
    expect_signed_in(page, "ada@example.com")
    expect(ada).to_have_attribute("aria-current", "true")
    expect(grace).not_to_have_attribute("aria-current", "true")

    # Log Grace out: she stays listed, signed out; Ada stays current.
    account_menu(page, "grace@example.com", "Log out grace@example.com")
    expect(grace).to_contain_text("Signed out")
    expect_signed_in(page, "ada@example.com")

    # Remove Grace from this device.
    account_menu(page, "grace@example.com", "Remove from this device: grace@example.com")
    expect(grace).to_have_count(0)

    # Delete Ada, through the confirmation step; cancelling first keeps her.
    account_menu(page, "ada@example.com", "Delete account ada@example.com")
    expect(ada.get_by_role("group")).to_contain_text("cannot be undone")
    expect(ada.get_by_role("button", name="Cancel, keep ada@example.com")).to_be_focused()
    shot(page, "03-delete-confirmation")
    ada.get_by_role("button", name="Cancel, keep ada@example.com").click()
    expect(ada.get_by_role("group")).to_have_count(0)
    expect(ada.get_by_role("button", name="More for ada@example.com")).to_be_focused()
    account_menu(page, "ada@example.com", "Delete account ada@example.com")
    ada.get_by_role("button", name="Delete for good: ada@example.com").click()
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    expect(page.locator("#accounts")).to_be_hidden()

    # The account is gone on the server: signing in again is refused.
    log_in(page, "ada@example.com")
    expect(page.locator("#login-form-error")).to_have_text(
        "That email and password don't match. Check both and try again.")
    assert violations(page) == []


def test_hostile_email_is_shown_as_text_on_a_phone(page: Page, live_server):
    """Values from users never become HTML, and the layout holds at 360 px."""
    page.set_viewport_size({"width": 360, "height": 740})
    watch(page)
    open_app(page, live_server.base_url)
    hostile = "<img/src=x/onerror=alert(1)>@example.com"
    register(page, hostile)
    expect_signed_in(page, hostile)
    expect(account_row(page, hostile)).to_have_count(1)
    assert page.locator("main img").count() == 0
    assert alerts(page) == []
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    shot(page, "04-phone-hostile-email")
    assert violations(page) == []
