"""The account panel's passkeys and two-step verification (issue 14): the list of passkeys
(add, rename, delete) and the authenticator app with its recovery codes; and ``wire_factors``,
which fills both slots of ``index.html`` (``#passkey-slot``: ``app.ui_signin_factors``;
``#factors-slot``: here) and registers the handlers.

As everywhere on the page (STYLE rule 11), a handler calls one SDK coroutine through
``Page.act``, and nothing here touches a token or the wire. The QR code is the server's SVG
(``qr_svg``); secrets and recovery codes are shown once and dropped from the page when the user
is done with them.
"""

from __future__ import annotations

from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, when, window

from app import ui
from app.actions import Invalid, current_user, on_submit, page
from app.sdk import AppError
from app.sdk.adapters.browser import BrowserAuthenticator
from app.sdk.passkeys import PasskeyInfo
from app.ui_factor_common import code_kind, device_name, el, guard, show, show_codes, state
from app.ui_signin_factors import ask_second_factor, wire_sign_in

__all__ = ["ask_second_factor", "wire_factors"]

ACCOUNT_HTML = """
<section id="passkeys" class="sub" aria-labelledby="passkeys-title" hidden>
  <h2 id="passkeys-title" tabindex="-1">Passkeys</h2>
  <p class="field-hint">Sign in with your fingerprint, face or screen lock: no password.</p>
  <ul id="passkeys-list" class="passkeys" aria-label="Your passkeys"></ul>
  <p class="row"><button id="passkey-add" type="button">Add a passkey</button></p>
  <p id="passkeys-error" class="error" role="alert"></p>
  <p id="passkeys-message" class="notice" role="status"></p>
</section>
<section id="totp" class="sub" aria-labelledby="totp-title" hidden>
  <h2 id="totp-title" tabindex="-1">Two-step verification</h2>
  <p id="totp-status"></p>
  <p class="row"><button id="totp-start" type="button">Turn on two-step verification</button></p>
  <form id="totp-form" method="post" novalidate hidden>
    <p>Scan this QR code with an authenticator app, or type the key. It is shown only now.</p>
    <div id="totp-qr" class="qr"></div>
    <p>Key: <code id="totp-secret" class="secret"></code></p>
    <label for="totp-code">Code from the app</label>
    <input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
           aria-describedby="totp-form-error" required>
    <p id="totp-form-error" class="error" role="alert"></p>
    <button type="submit" class="primary">Turn on</button>
  </form>
  <form id="totp-off-form" method="post" novalidate hidden>
    <label for="totp-off-code">A code from your app, or a recovery code</label>
    <input id="totp-off-code" name="code" type="text" autocomplete="one-time-code"
           aria-describedby="totp-off-form-error" required>
    <p id="totp-off-form-error" class="error" role="alert"></p>
    <button type="submit">Turn off two-step verification</button>
  </form>
  <div id="recovery" hidden>
    <h3 id="recovery-title" tabindex="-1">Your recovery codes</h3>
    <p>Each code signs you in once if you lose your phone. Save them somewhere safe: they are
      shown only now.</p>
    <ol id="recovery-list" class="codes"></ol>
    <button id="recovery-done" type="button">I have saved them</button>
  </div>
  <p id="totp-error" class="error" role="alert"></p>
  <p id="totp-message" class="notice" role="status"></p>
</section>
"""


def wire_account() -> None:
    """The account panel's passkeys and two-step verification."""
    el("factors-slot").innerHTML = ACCOUNT_HTML

    @when("click", "#passkey-add")
    def add(event: Any) -> None:
        async def work() -> None:
            info = await guard(current_user().passkeys.register(
                state.authenticator, name=f"Passkey on {device_name()}"))
            await _load_passkeys()
            ui.show_message("passkeys", f"Passkey added: {info.name}.")
        page().act("passkeys", "passkey", work)

    @when("click", "#passkeys-list")
    def row_action(event: Any) -> None:
        button = event.target.closest("button[data-action]")
        if ui.absent(button):
            return
        action, key = str(button.dataset.action), str(button.dataset.key)
        page().act("passkeys", "passkey", lambda: _passkey_action(action, key))

    @when("submit", "#passkeys-list")
    def rename(event: Any) -> None:
        event.preventDefault()
        key = str(event.target.dataset.key)
        page().act("passkeys", "passkey", lambda: _passkey_action("save", key))

    @when("click", "#totp-start")
    def start(event: Any) -> None:
        async def work() -> None:
            enrolment = await guard(current_user().mfa.enrol_totp())
            el("totp-qr").innerHTML = enrolment.qr_svg
            el("totp-secret").textContent = enrolment.secret
            show("totp-form", True)
            show("totp-start", False)
            ui.focus("totp-code")
        page().act("totp", "mfa", work)

    @on_submit("totp-form", "mfa")
    async def confirm() -> None:
        text = ui.value("totp-code").replace(" ", "")
        if not text:
            raise Invalid("Enter the code your authenticator app shows.")
        codes = await guard(current_user().mfa.confirm_totp(text))
        ui.set_value("totp-code", "")
        el("totp-qr").innerHTML = ""
        el("totp-secret").textContent = ""
        show("totp-form", False)
        show_codes(codes)
        await _load_status()

    @on_submit("totp-off-form", "mfa")
    async def turn_off() -> None:
        text = ui.value("totp-off-code").strip()
        if not text:
            raise Invalid("Enter a code from your app or a recovery code.")
        await guard(current_user().mfa.disable_totp(**code_kind(text)))
        ui.set_value("totp-off-code", "")
        await _load_status()
        ui.show_message("totp", "Two-step verification is off.")

    @when("click", "#recovery-done")
    def done(event: Any) -> None:
        el("recovery-list").replaceChildren()
        show("recovery", False)
        ui.focus("totp-title")

    # Refresh the sections whenever another account shows.
    def changed(event: Any = None) -> None:
        if str(document.documentElement.dataset.view) == "account":
            user = page().app.current_user
            if user is not None and user.id != state.shown_for:
                state.shown_for = user.id
                page().spawn(_load_all())

    observer = window.MutationObserver.new(create_proxy(lambda records, _: changed()))
    observer.observe(el("account-summary"), _options(childList=True, subtree=True))
    changed()


def _options(**values: Any) -> Any:
    options = window.Object.new()
    for name, value in values.items():
        setattr(options, name, value)
    return options




async def _load_all() -> None:
    show("recovery", False)
    show("totp-form", False)
    try:
        await _load_passkeys()
        await _load_status()
    except AppError:
        return  # The account panel shows the session's state; these stay hidden.


async def _load_passkeys() -> None:
    user = current_user()
    state.passkeys = await user.passkeys.fetch_all()
    _render_passkeys()
    show("passkeys", BrowserAuthenticator.available() or bool(state.passkeys))


async def _load_status() -> None:
    status = await current_user().mfa.status()
    has_password = any(i.provider_type == "local-userpass" for i in current_user().identities)
    show("totp", status.totp or has_password)
    show("totp-start", not status.totp)
    show("totp-off-form", status.totp)
    el("totp-status").textContent = (
        f"On: signing in with your password also asks for a code. "
        f"{status.recovery_codes_left} recovery codes left." if status.totp
        else "Off: add a code from an authenticator app to signing in with your password.")


def _when_text(seconds: float | None) -> str:
    if seconds is None:
        return "never used"
    return "used " + str(window.Date.new(seconds * 1000).toLocaleDateString())


def _render_passkeys() -> None:
    rows = []
    for info in state.passkeys:
        row = document.createElement("li")
        if info.id == state.editing:
            form = document.createElement("form")
            form.dataset.key = info.id
            label = document.createElement("label")
            label.textContent = "Passkey name"
            label.htmlFor = f"rename-{info.id}"
            field = document.createElement("input")
            field.id = f"rename-{info.id}"
            field.value = info.name
            field.maxLength = 64
            form.append(label, field, _row_button("Save", "save", info, submit=True),
                        _row_button("Cancel", "cancel", info))
            row.append(form)
        else:
            name = document.createElement("span")
            name.className = "passkey-name"
            name.textContent = info.name
            detail = document.createElement("span")
            detail.className = "field-hint"
            created = str(window.Date.new(info.created_at * 1000).toLocaleDateString())
            detail.textContent = f" added {created}, {_when_text(info.last_used_at)}"
            row.append(name, detail, _row_button("Rename", "rename", info),
                       _row_button("Delete", "delete", info))
        rows.append(row)
    el("passkeys-list").replaceChildren(*rows)


def _row_button(text: str, action: str, info: PasskeyInfo, *, submit: bool = False) -> Any:
    button = document.createElement("button")
    button.type = "submit" if submit else "button"
    button.textContent = text
    if not submit:  # The form's submit event saves; a click on Save only submits.
        button.dataset.action = action
    button.dataset.key = info.id
    if not submit:
        button.setAttribute("aria-label", f"{text} {info.name}")
    return button


async def _passkey_action(action: str, key: str) -> None:
    user = current_user()
    if action == "rename":
        state.editing = key
        _render_passkeys()
        ui.focus(f"rename-{key}")
    elif action == "cancel":
        state.editing = None
        _render_passkeys()
        ui.focus_selector(f'button[data-action="rename"][data-key="{key}"]')
    elif action == "save":
        name = ui.value(f"rename-{key}").strip()
        if not name:
            raise Invalid("Give the passkey a name.")
        await guard(user.passkeys.rename(key, name))
        state.editing = None
        await _load_passkeys()
        ui.show_message("passkeys", f"Renamed to {name}.")
    elif action == "delete":
        await guard(user.passkeys.delete(key))
        await _load_passkeys()
        ui.show_message("passkeys", "Passkey deleted.")
        ui.focus("passkeys-title")


def wire_factors() -> None:
    """Fill both slots and register every handler (``app.main.start_main``)."""
    wire_sign_in()
    wire_account()
