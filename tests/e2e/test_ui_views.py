"""The sign-in and account views of issue 11 in Chromium: one task at a time, checks before any
request, the account chooser, what the page manages, the bugs found when it was tried, and an
axe-core audit of every view.

One server per module and few page loads: a Pyodide start costs seconds, so each test walks
through many views.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from app.sdk.adapters.native import make_app
from tests.conftest import LiveServer, make_settings, start_server

from .a11y import audit
from .ui_helpers import (
    PASSWORD,
    account_menu,
    account_row,
    emailed_link,
    expect_signed_in,
    log_in,
    open_app,
    register,
    run_async,
    task,
    violations,
    watch,
)

pytestmark = pytest.mark.browser

API = "/api/client/v2.0/"
JWT_KEY = "a shared secret of 32 bytes, at least"


@pytest.fixture(scope="module")
def pending_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose new email/password users confirm by an emailed link."""
    live = start_server(make_settings(
        Path(tmp_path_factory.mktemp("views")) / "data",
        {"providers": {"local-userpass": {"confirmation": "email"},
                       "custom-token": {"enabled": True, "algorithm": "HS256",
                                        "signing_keys": [JWT_KEY]}}}))
    yield live
    live.stop()


def page_violations(page: Page) -> list[str]:
    """CSP violations of the page itself (axe-core adds a ``<style>`` while it audits)."""
    return [v for v in violations(page) if not v.startswith("style-src-elem inline")]


def focus_not_lost(page: Page) -> None:
    """Keyboard focus is on something, never back on ``<body>``."""
    assert page.evaluate("() => document.activeElement && document.activeElement.tagName") != "BODY"


def test_tasks_checks_and_finishing_after_confirmation(browser: Browser,
                                                       pending_server: LiveServer):
    context = browser.new_context()
    page = watch(context.new_page())
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url)
            if API in r.url and r.method == "POST" else None)
    # Expected refusals (a wrong password, a taken address) print no red console line.
    red: list[str] = []
    page.on("console", lambda m: red.append(m.text) if m.type == "error" else None)
    aborted: list[str] = []
    page.on("requestfailed", lambda r: aborted.append(r.url) if API in r.url else None)
    open_app(page, pending_server.base_url)
    expect(page).to_have_title("Sign in – Latchkey")
    found = audit(page, "sign in")

    # Checks before any request: both fields marked, messages tied to them, focus on the first.
    sent = len(requests)
    page.get_by_role("button", name="Sign in", exact=True).click()
    email = page.locator("#login-email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(page.locator("#login-email-problem")).to_have_text("Enter your email address.")
    expect(page.locator("#login-password-problem")).to_have_text("Enter your password.")
    assert "login-email-problem" in (email.get_attribute("aria-describedby") or "")
    email.fill("carol@")
    page.locator("#login-password").fill("x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#login-email-problem")).to_have_text(
        "That doesn't look like an email address.")
    expect(page.locator("#login-password")).not_to_have_attribute("aria-invalid", "true")
    assert len(requests) == sent, "a request went out before the fields were right"
    found += audit(page, "sign in with problems")

    # One task at a time; the typed email follows; Escape goes back; the title follows.
    email.fill("carol@example.com")
    task(page, "register")
    expect(page).to_have_title("Create an account – Latchkey")
    expect(page.locator("#register-email")).to_have_value("carol@example.com")
    expect(page.locator("#login-form")).to_be_hidden()
    assert page.locator("input[type=password]:visible").count() == 1
    found += audit(page, "create an account")
    page.keyboard.press("Escape")
    expect(page.locator("#signin")).to_have_attribute("data-task", "signin")
    expect(page.locator("#signin-title")).to_be_focused()
    for name in ("forgot", "resend"):
        task(page, name)
        found += audit(page, name)
    task(page, "signin")

    # A wrong password, then another action: the earlier message goes.
    log_in(page, "nobody@example.com", "wrong password")
    expect(page.locator("#login-form-error")).to_contain_text("don't match")
    page.get_by_role("button", name="Continue without an account").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#login-form-error")).to_be_empty()
    expect(page).to_have_title("Anonymous user – Latchkey")
    focus_not_lost(page)

    # An anonymous account linked to an email that needs confirming: confirming it (in another
    # tab) finishes the link here, without a second submit, and every identity is listed.
    page.locator("#link-email").fill("carol@example.com")
    page.locator("#link-password").fill(PASSWORD)
    page.get_by_role("button", name="Add email and password").click()
    expect(page.locator("#link-form-message")).to_contain_text("Check your email")
    other = context.new_page()
    open_app(other, pending_server.base_url + emailed_link(pending_server, "carol@example.com",
                                                           "confirm.html"))
    expect(other.locator("#outcome")).to_contain_text("confirmed")
    expect(other.locator("#page-title")).to_be_focused()
    other.close()
    page.bring_to_front()
    identities = page.locator("#current-identities")
    expect(identities).to_contain_text("Email and password", timeout=10_000)
    expect(identities).to_contain_text("Anonymous")
    expect(page.locator("#account-message")).to_contain_text("you can now sign in as carol")
    expect(page).to_have_title("carol@example.com – Latchkey")

    # "Add another account": empty fields, Escape closes it.
    page.get_by_role("button", name="Add another account").click()
    expect(page.locator("#login-email")).to_have_value("")
    expect(page).to_have_title("Add another account – Latchkey")
    found += audit(page, "add another account")
    page.keyboard.press("Escape")
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#account-title")).to_be_focused()

    # Signing in to the account already here says so.
    page.get_by_role("button", name="Add another account").click()
    log_in(page, "carol@example.com")
    expect(page.locator("#account-message")).to_have_text(
        "You were already signed in as carol@example.com on this device; it is now the active "
        "account.")
    expect(account_row(page, "carol@example.com")).to_have_count(1)

    # A pending registration: a truthful "not confirmed yet", a resend, and the sign-in at
    # confirmation without a second submit.
    page.get_by_role("button", name="Add another account").click()
    register(page, "dave@example.com")
    expect(page.locator("#register-form-message")).to_contain_text("Check your email")
    register(page, "dave@example.com")
    expect(page.locator("#register-form-message")).to_contain_text(
        "You have already created this account, but dave@example.com is not confirmed yet.")
    task(page, "resend")
    expect(page.locator("#resend-email")).to_have_value("dave@example.com")
    page.get_by_role("button", name="Send the link again").click()
    expect(page.locator("#resend-form-message")).to_contain_text("a new link is on its way")
    focus_not_lost(page)
    assert len([m for m in pending_server.outbox() if m["to"] == "dave@example.com"]) == 2
    other = context.new_page()
    open_app(other, pending_server.base_url + emailed_link(pending_server, "dave@example.com",
                                                           "confirm.html"))
    expect(other.locator("#outcome")).to_contain_text("confirmed")
    other.close()
    page.bring_to_front()
    expect_signed_in(page, "dave@example.com", timeout=10_000)
    expect(page.locator("#account-message")).to_contain_text("Your email is confirmed")
    assert [line for line in red if "status of 4" in line] == []
    assert aborted == [], "an API request shows as cancelled in the network panel"
    assert page_violations(page) == []
    assert found == []
    context.close()


def test_chooser_management_and_other_ways_to_sign_in(page: Page, pending_server: LiveServer):
    watch(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    async def confirmed_user() -> None:
        # Through the SDK under CPython: quicker than the page, and confirmed by its link.
        app = make_app("latchkey-demo", pending_server.base_url)
        await app.email_password_auth.register_user("erin@example.com", PASSWORD)

    run_async(confirmed_user())
    link = emailed_link(pending_server, "erin@example.com", "confirm.html")
    token = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    run_async(make_app("latchkey-demo", pending_server.base_url).email_password_auth
              .confirm_user(token["token"], token["tokenId"]))
    open_app(page, pending_server.base_url)
    log_in(page, "erin@example.com")
    expect_signed_in(page, "erin@example.com")
    found = audit(page, "account")

    # API keys: a name is needed; the key shows once, with a copy button.
    keys = page.locator("#apikeys-section")
    keys.get_by_role("button", name="Create key").click()
    expect(page.locator("#apikey-name-problem")).to_have_text("Enter a name for the key.")
    expect(page.locator("#apikey-name")).to_be_focused()
    page.locator("#apikey-name").fill("backup script")
    keys.get_by_role("button", name="Create key").click()
    secret_box = page.locator("#apikey-new-value")
    expect(secret_box).not_to_be_empty()
    secret = secret_box.text_content() or ""
    expect(page.locator("#apikey-copy")).to_be_focused()
    found += audit(page, "new API key")
    page.locator("#apikey-copy").click()
    expect(page.locator("#apikey-copy-message")).to_have_text("Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    page.get_by_role("button", name="I have saved it").click()
    expect(secret_box).to_be_empty()
    row = page.locator("#apikeys-list > li", has_text="backup script")
    expect(row).to_contain_text("Enabled")
    row.get_by_role("button", name="Disable the key backup script").click()
    expect(row).to_contain_text("Disabled")
    row.get_by_role("button", name="Enable the key backup script").click()
    expect(row).to_contain_text("Enabled")
    page.locator("#apikeys-list").get_by_role(
        "button", name="Delete the key backup script").click()
    expect(page.locator("#apikeys-list")).to_have_text("No API keys yet.")
    expect(page.locator("#apikeys-title")).to_be_focused()

    # A deleted key no longer signs in.
    page.get_by_role("button", name="Add another account").click()
    page.get_by_role("button", name="API key", exact=True).click()
    page.locator("#apikey-key").fill(secret)
    page.get_by_role("button", name="Sign in with key").click()
    expect(page.locator("#apikey-form-error")).to_contain_text("That API key isn't valid")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.locator("html")).to_have_attribute("data-view", "account")

    # Password change through the reset mail.
    page.get_by_role("button", name="Email me a link to change it").click()
    expect(page.locator("#password-form-message")).to_contain_text("We sent a link to erin")
    emailed_link(pending_server, "erin@example.com", "reset.html")

    # Where you're signed in (user.sessions): this device is listed; the others can be ended.
    expect(page.locator("#sessions-section")).to_be_visible()
    expect(page.locator("#sessions-list")).to_contain_text("This device")
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.locator("#sessions-message")).to_contain_text("Signed out everywhere else")
    expect(page.locator("#sessions-list li")).to_have_count(1)

    # The app's own login function (enabled in the demo config).
    page.get_by_role("button", name="Add another account").click()
    page.get_by_role("button", name="Your app's login").click()
    expect(page).to_have_title("Sign in with your app's login – Latchkey")
    found += audit(page, "custom function sign-in")
    page.locator("#custom-payload").fill("username: zed")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#custom-payload-problem")).to_contain_text("JSON object")
    page.locator("#custom-payload").fill('{"username": "zed", "secret": "v3ry-s3cret"}')
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_signed_in(page, "zed")

    # Custom JWT, where the app enables it: a malformed token is refused before any request.
    page.get_by_role("button", name="Add another account").click()
    page.get_by_role("button", name="Single sign-on token (JWT)").click()
    page.locator("#jwt-token").fill("not a token")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#jwt-token-problem")).to_contain_text("three parts")
    token = jwt.encode({"sub": "sso-42", "exp": int(time.time()) + 600}, JWT_KEY,
                       algorithm="HS256")
    page.locator("#jwt-token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#account-summary")).to_contain_text("Single sign-on (JWT)")
    account_menu(page, "Single sign-on (JWT) user", "Log out Single sign-on (JWT) user")

    # The chooser: the active account on top, the others one click away, the rest in a menu.
    rows = page.locator("#accounts-list > li")
    expect(rows.first).to_have_attribute("aria-current", "true")
    expect(rows.first).to_contain_text("zed")
    account_row(page, "erin@example.com").get_by_role(
        "button", name="Switch to erin@example.com").click()
    expect_signed_in(page, "erin@example.com")
    expect(rows.first).to_contain_text("erin@example.com")
    toggle = page.get_by_role("button", name="More for zed")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    found += audit(page, "account menu")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    account_menu(page, "zed", "Delete account zed")
    expect(page.get_by_role("group", name="Confirm deleting zed")).to_be_visible()
    found += audit(page, "delete confirmation")
    page.keyboard.press("Escape")
    expect(page.get_by_role("group", name="Confirm deleting zed")).to_have_count(0)
    expect(toggle).to_be_focused()
    account_menu(page, "zed", "Delete account zed")
    page.get_by_role("button", name="Delete for good: zed").click()
    expect(account_row(page, "zed")).to_have_count(0)
    focus_not_lost(page)

    # Raw ids only in the details view.
    expect(page.locator("#current-user-id")).to_be_hidden()
    page.get_by_text("Technical details").click()
    expect(page.locator("#current-user-id")).to_be_visible()

    # On a phone, switching and signing out are at the top; dark mode passes the audit too.
    page.set_viewport_size({"width": 375, "height": 740})
    chooser = page.locator("#accounts").bounding_box()
    panel = page.locator("#account").bounding_box()
    assert chooser and panel and chooser["y"] < panel["y"]
    page.emulate_media(color_scheme="dark")
    found += audit(page, "account, dark, 375 px")
    account_menu(page, "erin@example.com", "Log out erin@example.com")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    focus_not_lost(page)
    # Signed-out accounts stay listed, but nobody is signed in: no "Add another account".
    expect(page.locator("#accounts")).to_be_visible()
    expect(page.locator("#add-account")).to_be_hidden()
    found += audit(page, "sign in, dark, 375 px")
    assert re.search(r"Latchkey$", page.title())
    assert page_violations(page) == []
    assert found == []
