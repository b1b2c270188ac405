"""The sign-in panel's passkeys and code step (issue 14): "Sign in with a passkey", "Create an
account with a passkey", passkeys offered in the email field's autofill, and the code step a
password login may need (``ask_second_factor``). ``#passkey-slot`` in ``index.html`` holds it.
"""

from __future__ import annotations

import time
from typing import Any

from pyscript import when

from app import ui
from app.actions import Invalid, on_submit, page, show_signed_in
from app.sdk import AppError, Credentials, SecondFactorRequired
from app.sdk.adapters.browser import BrowserAuthenticator
from app.sdk.passkeys import PasskeyCeremonyError
from app.ui_factor_common import (
    code_kind,
    device_name,
    el,
    guard,
    show,
    show_codes,
    state,
    words,
)

SIGN_IN_HTML = """
<div id="passkey-form" class="passkey" hidden>
  <p class="row">
    <button id="passkey-signin" type="button" class="primary live" disabled>
      Sign in with a passkey</button>
    <button id="passkey-signup" type="button" class="live" disabled>
      Create an account with a passkey</button>
  </p>
  <p id="passkey-form-error" class="error" role="alert"></p>
  <p class="divider"><span>or use your email</span></p>
</div>
<form id="mfa-form" method="post" novalidate hidden aria-labelledby="mfa-title">
  <h2 id="mfa-title" tabindex="-1">Two-step verification</h2>
  <div id="mfa-enrol" hidden>
    <p>This app asks for a second step. Scan this QR code with an authenticator app
      (or type the key below), then enter the code it shows.</p>
    <div id="mfa-qr" class="qr"></div>
    <p>Key: <code id="mfa-secret" class="secret"></code></p>
  </div>
  <p id="mfa-hint">Enter the 6-digit code from your authenticator app, or one of your
    recovery codes.</p>
  <label for="mfa-code">Code</label>
  <input id="mfa-code" name="code" type="text" autocomplete="one-time-code" spellcheck="false"
         aria-describedby="mfa-form-error" required>
  <p id="mfa-form-error" class="error" role="alert"></p>
  <p class="row">
    <button type="submit" class="primary">Verify</button>
    <button id="mfa-passkey" type="button" hidden>Use a passkey instead</button>
    <button id="mfa-cancel" type="button" class="link">Cancel</button>
  </p>
</form>
"""


def ask_second_factor(challenge: SecondFactorRequired) -> None:
    """A password login needs its second step: show the code form instead of the login form."""
    state.challenge = challenge
    enrolling = challenge.enrolment_required
    show("login-form", False)
    show("mfa-form", True)
    show("mfa-enrol", enrolling)
    show("mfa-hint", not enrolling)
    show("mfa-passkey", "passkey" in challenge.factors)
    ui.set_value("mfa-code", "")
    if enrolling:
        page().spawn(_show_enrolment(challenge))
    ui.focus("mfa-title")


async def _show_enrolment(challenge: SecondFactorRequired) -> None:
    try:
        enrolment = await challenge.enrol_totp()
    except AppError as err:
        ui.show_error("mfa-form", words(err) or err.error)
        return
    el("mfa-qr").innerHTML = enrolment.qr_svg
    el("mfa-secret").textContent = enrolment.secret


def _end_second_factor() -> None:
    state.challenge = None
    show("mfa-form", False)
    show("login-form", True)
    el("mfa-qr").innerHTML = ""
    el("mfa-secret").textContent = ""




def wire_sign_in() -> None:
    """The passkey buttons and the code step of the sign-in panel."""
    slot = el("passkey-slot")
    slot.innerHTML = SIGN_IN_HTML
    show("passkey-form", BrowserAuthenticator.available())

    async def sign_in() -> None:
        await guard(page().app.log_in(Credentials.passkey(state.authenticator)))
        show_signed_in()

    async def sign_up() -> None:
        name = f"Passkey on {device_name()}"
        await guard(page().app.log_in(Credentials.new_passkey(state.authenticator, name=name)))
        show_signed_in()

    when("click", "#passkey-signin")(lambda event: page().act("passkey-form", "passkey", sign_in))
    when("click", "#passkey-signup")(lambda event: page().act("passkey-form", "passkey", sign_up))

    @on_submit("mfa-form", "login")
    async def verify() -> None:
        challenge = state.challenge
        text = ui.value("mfa-code").strip()
        if challenge is None:
            raise Invalid("Start again with your email and password.")
        if not text:
            raise Invalid("Enter the code from your authenticator app.")
        if challenge.enrolment_required:
            _, codes = await guard(challenge.confirm_totp(text.replace(" ", "")))
            _end_second_factor()
            show_signed_in()
            show_codes(codes)
            return
        await guard(challenge.verify(**code_kind(text)))
        _end_second_factor()
        show_signed_in()

    async def with_passkey() -> None:
        if state.challenge is None:
            raise Invalid("Start again with your email and password.")
        await guard(state.challenge.verify(authenticator=state.authenticator))
        _end_second_factor()
        show_signed_in()

    when("click", "#mfa-passkey")(lambda event: page().act("mfa-form", "login", with_passkey))

    @when("click", "#mfa-cancel")
    def cancel(event: Any) -> None:
        _end_second_factor()
        ui.focus("login-email")

    page().spawn(_autofill())


async def _autofill() -> None:
    # Conditional UI: the email field's autofill offers this site's passkeys; picking one signs
    # in. It waits quietly, and any other passkey request cancels it (one at a time). When its
    # ceremony times out unused (NotAllowedError after challenge_seconds) it starts again, but
    # never in a tight loop: only after a wait of at least a minute.
    if not await BrowserAuthenticator.conditional_available():
        return
    while True:
        started = time.monotonic()
        try:
            await page().app.log_in(Credentials.passkey(state.authenticator, conditional=True))
        except PasskeyCeremonyError as err:
            if err.name != "NotAllowedError" or time.monotonic() - started < 60:
                return
            continue
        except AppError:
            return
        show_signed_in()
        return
