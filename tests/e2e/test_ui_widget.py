"""The embed's widget (static/embed.js) on a page of another origin with a strict CSP of its own:
the page's views and behaviour (tasks, checks, the account chooser, Escape, dark mode, the
region's label), a loading state from the first paint, and an axe-core audit of every view.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.conftest import LiveServer, make_settings, start_server

from .a11y import audit
from .test_ui_embed import HostPage
from .ui_helpers import PASSWORD, violations, watch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, HostPage]]:
    """A server with email confirmation on, and a page of another origin that embeds it."""
    host = HostPage()
    live = start_server(make_settings(
        Path(tmp_path_factory.mktemp("widget")) / "data",
        {"providers": {"local-userpass": {"confirmation": "email"}},
         "cors": {"allowed_origins": [host.origin]}}))
    host.serve(live.base_url)
    yield live, host
    live.stop()
    host.close()


def test_widget_views_on_another_origin(page: Page, embedded: tuple[LiveServer, HostPage]):
    live, host = embedded
    watch(page)
    held: list[Route] = []
    page.route("**/embed/bundle.json", lambda route: held.append(route))
    page.goto(host.origin + "/")
    widget = page.locator("#login")
    region = widget.get_by_role("region")

    # From the first paint: the sign-in view, disabled, saying it is getting ready.
    expect(region).to_have_accessible_name("Sign in")
    expect(widget.locator(".lk-status")).to_have_text("Getting sign-in ready…")
    expect(widget.get_by_role("button", name="Sign in", exact=True)).to_be_disabled()
    found = audit(page, "widget loading", "#login")
    page.wait_for_function("() => true")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    page.unroute("**/embed/bundle.json")
    page.evaluate("() => Latchkey.ready.then(() => true)")
    submit = widget.get_by_role("button", name="Sign in", exact=True)
    expect(submit).to_be_enabled()
    expect(widget.locator(".lk-status")).to_be_hidden()

    # An empty submit: the page's words under the fields, focus on the first, no request.
    submit.click()
    email = widget.locator("#lk-email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(widget.locator("#lk-email-problem")).to_have_text("Enter your email address.")
    expect(widget.locator("#lk-password-problem")).to_have_text("Enter your password.")
    found += audit(page, "widget sign in with problems", "#login")

    # Forgot password and back (Escape); resend the confirmation; cancel on every sub-view.
    widget.get_by_role("button", name="Forgot your password?").click()
    expect(region).to_have_accessible_name("Reset your password")
    expect(widget.locator("#lk-password")).to_be_hidden()
    found += audit(page, "widget forgot", "#login")
    email.fill("shopper@example.com")
    widget.get_by_role("button", name="Email me a link").click()
    expect(widget.locator(".lk-notice")).to_contain_text("If there is an account for shopper")
    page.keyboard.press("Escape")
    expect(region).to_have_accessible_name("Sign in")
    expect(widget.locator(".lk-notice")).to_be_empty()

    # Create an account: confirmation pending, a truthful second try, a resend.
    widget.get_by_role("button", name="Create an account", exact=True).click()
    expect(region).to_have_accessible_name("Create an account")
    expect(email).to_have_value("shopper@example.com")
    widget.get_by_label("Password (6 to 128 characters)").fill(PASSWORD)
    widget.get_by_role("button", name="Create account", exact=True).click()
    expect(widget.locator(".lk-notice")).to_contain_text("Check your email")
    widget.get_by_role("button", name="Create account", exact=True).click()
    expect(widget.locator(".lk-notice")).to_contain_text("is not confirmed yet")
    widget.get_by_role("button", name="Send it again").click()
    expect(region).to_have_accessible_name("Confirm your email")
    found += audit(page, "widget resend", "#login")
    widget.get_by_role("button", name="Send the link again").click()
    expect(widget.locator(".lk-notice")).to_contain_text("a new link is on its way")
    assert len([m for m in live.outbox() if m["to"] == "shopper@example.com"]) == 2
    widget.get_by_role("button", name="Back to sign in").click()

    # Two accounts: the chooser, with the active one on top and a menu for the rest.
    widget.get_by_role("button", name="Continue without an account").click()
    expect(region).to_have_accessible_name("Your account")
    expect(widget.locator(".lk-who")).to_have_text("Signed in as Anonymous user")
    widget.get_by_role("button", name="Add another account").click()
    expect(region).to_have_accessible_name("Add another account")
    expect(email).to_have_value("")
    page.keyboard.press("Escape")
    expect(region).to_have_accessible_name("Your account")
    page.evaluate("() => Latchkey.logIn('function', {username: 'Grace', secret: 'v3ry-s3cret'})")
    rows = widget.locator(".lk-row")
    expect(rows.first).to_contain_text("Grace")
    expect(rows.first).to_have_attribute("aria-current", "true")
    widget.get_by_role("button", name="Switch to Anonymous user").click()
    expect(widget.locator(".lk-who")).to_have_text("Signed in as Anonymous user")
    toggle = widget.get_by_role("button", name="More for Grace")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    found += audit(page, "widget account menu", "#login")
    widget.get_by_role("button", name="Delete account Grace").click()
    expect(widget.get_by_role("group", name="Confirm deleting Grace")).to_be_visible()
    expect(widget.get_by_role("button", name="Cancel, keep Grace")).to_be_focused()
    page.keyboard.press("Escape")
    expect(widget.get_by_role("group", name="Confirm deleting Grace")).to_have_count(0)
    toggle.click()
    widget.get_by_role("button", name="Delete account Grace").click()
    widget.get_by_role("button", name="Delete for good: Grace").click()
    expect(widget.get_by_role("button", name="More for Grace")).to_have_count(0)

    # Dark mode follows the system, and passes the audit too.
    page.emulate_media(color_scheme="dark")
    background = widget.locator(".lk").evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert background == "rgb(27, 31, 39)"
    found += audit(page, "widget account, dark", "#login")
    widget.get_by_role("button", name="More for Anonymous user").click()
    widget.get_by_role("button", name="Log out Anonymous user").click()
    expect(region).to_have_accessible_name("Sign in")
    found += audit(page, "widget sign in, dark", "#login")
    # axe-core adds a <style> while it audits; the widget itself never does.
    assert [v for v in violations(page) if not v.startswith("style-src-elem inline")] == []
    assert found == []
