"""Passkeys and two-step verification on the page (issue 14), in Chromium with its virtual
authenticator (CDP ``WebAuthn.addVirtualAuthenticator``): an account with only a passkey that
comes back on reload and signs in again, a password account that adds, renames and deletes a
passkey, turns on TOTP (codes computed here) and is asked for a code at its next login.

WebAuthn needs a secure context and an RP id that is a domain, so the page is opened as
``http://localhost:<port>`` (the server still listens on 127.0.0.1) and the config names that
origin.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer, bind_loopback, make_settings, start_server

from .a11y import audit
from .ui_helpers import PASSWORD, account_menu, register, shot, violations, wait_ready, watch

pytestmark = pytest.mark.browser


@pytest.fixture
def factor_server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    sock = bind_loopback()
    origin = f"http://localhost:{sock.getsockname()[1]}"
    settings = make_settings(tmp_path / "data", {
        "cors": {"allowed_origins": [origin]},
        "providers": {"passkey": {"enabled": True, "rp_id": "localhost", "origins": [origin]}},
        "mfa": {"enabled": True}})
    live = start_server(settings, sock)
    yield live, origin
    live.stop()


def virtual_authenticator(page: Page) -> Any:
    """A platform authenticator with resident keys and user verification, always present."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp


def fresh_step() -> None:
    left = 30 - time.time() % 30
    if left < 4:
        time.sleep(left + 0.05)


def test_passkeys_and_two_step_verification_on_the_page(page: Page, factor_server: Any) -> None:
    live, origin = factor_server
    watch(page)
    page.goto(origin)
    wait_ready(page)
    virtual_authenticator(page)

    # An account with only a passkey.
    page.get_by_role("button", name="Create an account with a passkey").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#passkeys-list li")).to_have_count(1)
    expect(page.locator("#passkeys-list")).to_contain_text("Passkey on Linux")
    expect(page.locator("#totp")).to_be_hidden()  # No password: nothing to add a code to.
    shot(page, "passkey-account")

    # It comes back on reload, and signs in again with the passkey after logging out.
    page.reload()
    wait_ready(page)
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#passkeys-list li")).to_have_count(1)
    account_menu(page, "Passkey user", "Log out Passkey user")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#passkeys-list li")).to_have_count(1)
    # Its only passkey cannot be deleted.
    page.get_by_role("button", name="Delete Passkey on Linux").click()
    expect(page.locator("#passkeys-error")).to_contain_text("only way into this account")
    account_menu(page, "Passkey user", "Remove from this device: Passkey user")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")

    # A password account adds a passkey, renames it and deletes it.
    register(page, "ada@example.com")
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#passkeys-list li")).to_have_count(0)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkeys-list li")).to_have_count(1)
    expect(page.locator("#passkeys-message")).to_contain_text("Passkey added")
    page.get_by_role("button", name="Rename Passkey on Linux").click()
    expect(page.get_by_label("Passkey name")).to_be_focused()
    page.get_by_label("Passkey name").fill("Work laptop")
    page.keyboard.press("Enter")
    expect(page.locator("#passkeys-list")).to_contain_text("Work laptop")
    page.get_by_role("button", name="Delete Work laptop").click()
    expect(page.locator("#passkeys-list li")).to_have_count(0)

    # Two-step verification: QR and key once, a code, recovery codes once.
    fresh_step()
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").text_content() or ""
    page.fill("#totp-code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on", exact=True).click()
    expect(page.locator("#recovery-list li")).to_have_count(10)
    expect(page.locator("#recovery-title")).to_be_focused()
    expect(page.locator("#totp-secret")).to_have_text("")
    shot(page, "recovery-codes")
    recovery = page.locator("#recovery-list li").first.text_content() or ""
    page.get_by_role("button", name="I have saved them").click()
    expect(page.locator("#totp-status")).to_contain_text("10 recovery codes left")

    # The next password login asks for a code; a wrong one is refused, the next step's works.
    account_menu(page, "ada@example.com", "Log out ada@example.com")
    page.fill("#login-email", "ada@example.com")
    page.fill("#login-password", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#mfa-title")).to_be_focused()
    expect(page.locator("#login-form")).to_be_hidden()
    shot(page, "code-step")
    page.fill("#mfa-code", "000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#mfa-form-error")).to_contain_text("wrong or was used")
    page.fill("#mfa-code", pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    expect(page.locator("#totp-status")).to_contain_text("On:")

    # A recovery code turns it off.
    page.fill("#totp-off-code", recovery)
    page.get_by_role("button", name="Turn off two-step verification").click()
    expect(page.locator("#totp-message")).to_contain_text("is off")
    assert violations(page) == []


def log_out_in_widget(widget: Any) -> None:
    """Log the active account out through its menu in the account chooser."""
    widget.locator('.lk-row[aria-current="true"] .lk-toggle').click()
    widget.get_by_role("button", name="Log out", exact=False).first.click()
    expect(widget.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def test_passkeys_and_the_code_step_in_the_embed(page: Page, tmp_path: Path) -> None:
    from .test_ui_embed import HostPage, ready

    host = HostPage()
    shop = host.origin.replace("127.0.0.1", "localhost")
    sock = bind_loopback()
    latchkey = f"http://localhost:{sock.getsockname()[1]}"
    live = start_server(make_settings(tmp_path / "embed", {
        "cors": {"allowed_origins": [shop]},
        "providers": {"passkey": {"enabled": True, "rp_id": "localhost", "origins": [shop]}},
        "mfa": {"enabled": True}}), sock)
    try:
        host.serve(latchkey)
        watch(page)
        page.goto(shop + "/")
        ready(page)
        virtual_authenticator(page)
        widget = page.locator("#login")
        heading = widget.get_by_role("heading", level=2)
        found = audit(page, "widget sign in with passkeys", "#login")
        shot(page, "embed-signin-passkeys")

        # An account with only a passkey, in the widget; it comes back on reload. Its security
        # view lists the passkey and, with no password, offers no code to add.
        widget.get_by_role("button", name="Create an account with a passkey").click()
        expect(widget.locator(".lk-who")).to_contain_text("Signed in as")
        page.reload()
        ready(page)
        expect(widget.locator(".lk-who")).to_contain_text("Signed in as")
        security = widget.get_by_role("button", name="Security: passkeys and two-step verification")
        security.click()
        expect(heading).to_have_text("Security")
        expect(heading).to_be_focused()
        expect(widget.get_by_role("button", name="Delete Passkey")).to_be_visible()
        expect(widget.get_by_role("button", name="Turn on two-step verification")).to_be_hidden()
        # Its only passkey cannot be deleted; Escape goes back to the account.
        widget.get_by_role("button", name="Delete Passkey").click()
        expect(widget.locator(".lk-error")).to_contain_text("only way into this account")
        page.keyboard.press("Escape")
        expect(heading).to_have_text("Your account")
        expect(security).to_be_focused()
        log_out_in_widget(widget)
        widget.get_by_role("button", name="Sign in with a passkey").click()
        expect(widget.locator(".lk-who")).to_be_visible()
        expect(widget.locator(".lk")).not_to_have_attribute("aria-busy", "true")
        passkey_user = page.evaluate("() => Latchkey.currentUser()")
        assert [i["providerType"] for i in passkey_user["identities"]] == ["passkey"]
        page.evaluate("async () => Latchkey.removeUser((await Latchkey.currentUser()).id)")
        expect(heading).to_have_text("Sign in")

        # A password account adds a passkey, renames it (Escape cancels, Enter saves) and
        # deletes it; then turns on two-step verification.
        page.evaluate(f"() => Latchkey.register('ada@example.com', '{PASSWORD}')")
        page.evaluate(f"() => Latchkey.logIn('emailPassword', 'ada@example.com', '{PASSWORD}')")
        security.click()
        expect(widget.get_by_text("No passkeys yet")).to_be_visible()
        widget.get_by_role("button", name="Add a passkey").click()
        expect(widget.get_by_role("button", name="Delete Passkey")).to_be_visible()
        expect(widget.locator(".lk-notice")).to_contain_text("Passkey added")
        assert len(page.evaluate("() => Latchkey.passkeys()")) == 1
        widget.get_by_role("button", name="Rename Passkey").click()
        name = widget.get_by_label("Passkey name")
        expect(name).to_be_focused()
        name.fill("")
        page.keyboard.press("Enter")
        expect(widget.locator("#lk-passkey-name-problem")).to_have_text(
            "Enter a name for this passkey.")
        expect(name).to_be_focused()
        found += audit(page, "widget security, renaming a passkey", "#login")
        page.keyboard.press("Escape")
        expect(widget.get_by_role("button", name="Rename Passkey")).to_be_focused()
        widget.get_by_role("button", name="Rename Passkey").click()
        name.fill("Work laptop")
        page.keyboard.press("Enter")
        expect(widget.get_by_role("button", name="Rename Work laptop")).to_be_focused()
        widget.get_by_role("button", name="Delete Work laptop").click()
        expect(widget.get_by_role("button", name="Delete Work laptop")).to_have_count(0)
        expect(widget.get_by_role("button", name="Add a passkey")).to_be_focused()

        fresh_step()
        widget.get_by_role("button", name="Turn on two-step verification").click()
        expect(widget.locator(".lk-qr svg")).to_be_visible()
        drawn = widget.locator(".lk-qr svg path").evaluate(
            "(p) => [p.namespaceURI, p.getBoundingClientRect().width > 100]")
        assert drawn == ["http://www.w3.org/2000/svg", True]  # A QR code, drawn as SVG.
        expect(widget.get_by_label("Code from the app")).to_be_focused()
        found += audit(page, "widget security, two-step enrolment", "#login")
        shot(page, "embed-two-step-enrolment")
        secret = widget.locator(".lk-secret").text_content() or ""
        widget.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        widget.get_by_role("button", name="Turn on", exact=True).click()
        expect(widget.locator(".lk-recovery li")).to_have_count(10)
        expect(widget.locator(".lk-recovery")).to_be_focused()
        expect(widget.locator(".lk-secret")).to_have_text("")
        expect(widget.locator(".lk-qr svg")).to_have_count(0)
        found += audit(page, "widget security, recovery codes", "#login")
        shot(page, "embed-recovery-codes")
        widget.get_by_role("button", name="I have saved them").click()
        expect(widget.locator(".lk-recovery")).to_be_hidden()
        expect(widget.get_by_text("10 recovery codes left")).to_be_visible()
        assert page.evaluate("() => Latchkey.secondFactorStatus()")["totp"] is True
        page.emulate_media(color_scheme="dark")
        found += audit(page, "widget security, two-step on, dark", "#login")
        page.emulate_media(color_scheme="light")
        widget.get_by_role("button", name="Add a passkey").click()  # A second factor too.
        expect(widget.get_by_role("button", name="Delete Passkey", exact=True)).to_be_visible()
        widget.get_by_role("button", name="Back to your account").click()

        # The next password login asks for a code in a step of its own: an empty or wrong code
        # is refused at the field, Back returns to the sign-in, the next step's code works.
        log_out_in_widget(widget)
        widget.get_by_label("Email").fill("ada@example.com")
        widget.get_by_label("Password").fill(PASSWORD)
        widget.get_by_role("button", name="Sign in", exact=True).click()
        expect(heading).to_have_text("Two-step verification")
        code = widget.get_by_label("Code from your authenticator app, or a recovery code")
        expect(code).to_be_focused()
        expect(widget.get_by_label("Password")).to_be_hidden()
        widget.get_by_role("button", name="Verify").click()
        expect(code).to_have_attribute("aria-invalid", "true")
        expect(code).to_be_focused()
        code.fill("000000")
        widget.get_by_role("button", name="Verify").click()
        expect(widget.locator("#lk-code-problem")).to_contain_text("wrong or was used")
        found += audit(page, "widget code step, wrong code", "#login")
        shot(page, "embed-code-step")
        widget.get_by_role("button", name="Back to sign in").click()
        expect(heading).to_have_text("Sign in")
        expect(heading).to_be_focused()
        widget.get_by_label("Password").fill(PASSWORD)
        widget.get_by_role("button", name="Sign in", exact=True).click()
        widget.get_by_role("button", name="Use a passkey instead").click()
        expect(widget.locator(".lk-who")).to_have_text("Signed in as ada@example.com")
        log_out_in_widget(widget)
        widget.get_by_label("Password").fill(PASSWORD)
        widget.get_by_role("button", name="Sign in", exact=True).click()
        expect(code).to_be_focused()
        code.fill(pyotp.TOTP(secret).at(time.time() + 30))
        widget.get_by_role("button", name="Verify").click()
        expect(widget.locator(".lk-who")).to_have_text("Signed in as ada@example.com")
        expect(heading).to_be_focused()
        assert found == []
        # axe-core adds <style> elements of its own, which the host page's CSP refuses.
        assert [v for v in violations(page) if not v.startswith("style-src-elem inline")] == []
    finally:
        live.stop()
        host.close()


def test_the_widget_sets_up_a_required_second_factor(page: Page, tmp_path: Path) -> None:
    """With a second factor required, a password login in the widget sets one up in the code
    step, and lands in the security view with the recovery codes."""
    from .test_ui_embed import HostPage, ready

    host = HostPage()
    live = start_server(make_settings(tmp_path / "required", {
        "cors": {"allowed_origins": [host.origin]}, "providers": {"passkey": {"enabled": False}},
        "mfa": {"enabled": True, "required": True}}))
    try:
        host.serve(live.base_url)
        watch(page)
        page.goto(host.origin + "/")
        ready(page)
        widget = page.locator("#login")
        heading = widget.get_by_role("heading", level=2)
        page.evaluate(f"() => Latchkey.register('bo@example.com', '{PASSWORD}')")
        widget.get_by_label("Email").fill("bo@example.com")
        widget.get_by_label("Password").fill(PASSWORD)
        widget.get_by_role("button", name="Sign in", exact=True).click()
        expect(heading).to_have_text("Two-step verification")
        setup = widget.get_by_role("button", name="Set up two-step verification")
        expect(setup).to_be_focused()
        expect(widget.get_by_role("button", name="Verify")).to_be_hidden()
        setup.click()
        expect(widget.get_by_label("Code from the app")).to_be_focused()
        page.keyboard.press("Escape")  # Cancels the set-up, not the sign-in.
        expect(setup).to_be_focused()
        fresh_step()
        setup.click()
        expect(widget.get_by_label("Code from the app")).to_be_focused()
        secret = widget.locator(".lk-secret").text_content() or ""
        widget.get_by_label("Code from the app").fill("12")
        page.keyboard.press("Enter")
        expect(widget.locator("#lk-totp-code-problem")).to_have_text(
            "Enter the 6-digit code your authenticator app shows.")
        widget.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        page.keyboard.press("Enter")
        expect(heading).to_have_text("Security")
        expect(widget.locator(".lk-recovery li")).to_have_count(10)
        expect(widget.locator(".lk-recovery")).to_be_focused()
        found = audit(page, "widget required set-up, recovery codes", "#login")
        widget.get_by_role("button", name="I have saved them").click()
        expect(widget.get_by_role("heading", name="Two-step verification")).to_be_focused()
        # The server has passkeys off: nothing offers one.
        expect(widget.get_by_role("heading", name="Passkeys")).to_be_hidden()
        user = page.evaluate("() => Latchkey.currentUser()")
        assert user["email"] == "bo@example.com"
        assert found == []
        assert [v for v in violations(page) if not v.startswith("style-src-elem inline")] == []
    finally:
        live.stop()
        host.close()
