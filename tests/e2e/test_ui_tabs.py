"""Two tabs of the page stay in step through the ``storage`` event, with no reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .ui_helpers import (
    PASSWORD,
    account_menu,
    account_row,
    expect_signed_in,
    open_app,
    register,
    violations,
    watch,
)

pytestmark = pytest.mark.browser

SOON_MS = 1_000  # "within a second"


def test_two_tabs_follow_each_other(page: Page, live_server):
    first = watch(page)
    second = watch(page.context.new_page())
    open_app(first, live_server.base_url)
    open_app(second, live_server.base_url)

    register(first, "ann@example.com")
    expect_signed_in(first, "ann@example.com")
    expect(second.locator("html")).to_have_attribute("data-view", "account", timeout=SOON_MS)
    expect(second.locator("#current-user-name")).to_have_text("ann@example.com", timeout=SOON_MS)

    # A second account added in the other tab becomes current in both.
    second.get_by_role("button", name="Add another account").click()
    register(second, "bob@example.com")
    expect_signed_in(second, "bob@example.com")
    expect(first.locator("#current-user-name")).to_have_text("bob@example.com", timeout=SOON_MS)

    # Switching in one tab switches the other.
    account_row(first, "ann@example.com").get_by_role(
        "button", name="Switch to ann@example.com").click()
    expect_signed_in(first, "ann@example.com")
    expect(second.locator("#current-user-name")).to_have_text("ann@example.com", timeout=SOON_MS)

    # Logging out in one tab shows in the other.
    account_menu(second, "ann@example.com", "Log out ann@example.com")
    expect(account_row(first, "ann@example.com")).to_contain_text("Signed out", timeout=SOON_MS)
    expect(first.locator("#current-user-name")).to_have_text("bob@example.com", timeout=SOON_MS)

    account_menu(first, "bob@example.com", "Log out bob@example.com")
    expect(second.locator("html")).to_have_attribute("data-view", "signin", timeout=SOON_MS)

    # A signed-out account offers to sign in again, with its email filled in.
    account_row(second, "ann@example.com").get_by_role(
        "button", name="Sign in again as ann@example.com").click()
    expect(second.locator("#login-email")).to_have_value("ann@example.com")
    expect(second.locator("#login-password")).to_be_focused()
    second.keyboard.type(PASSWORD)
    second.keyboard.press("Enter")
    expect_signed_in(second, "ann@example.com")
    expect(first.locator("#current-user-name")).to_have_text("ann@example.com", timeout=SOON_MS)
    assert violations(first) == [] and violations(second) == []
