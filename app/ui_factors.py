"""The page's passkeys and second factors (issue 14): sign in or create an account with a
passkey (also from the email field's autofill), the code step after a password, and in the
account panel the list of passkeys and the authenticator app with its recovery codes.

``index.html`` has two empty slots, ``#passkey-slot`` (sign-in panel) and ``#factors-slot``
(account panel); ``wire_factors`` fills them once and registers the handlers. As everywhere on
the page (STYLE rule 11), a handler calls one SDK coroutine through ``Page.act``, and nothing
here touches a token or the wire. The QR code is the server's SVG (``qr_svg``); secrets and
recovery codes are shown once and dropped from the page when the user is done with them.
"""

from __future__ import annotations

from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, when, window

from app import ui
from app.actions import Invalid, current_user, on_submit, page, show_signed_in
from app.sdk import AppError, Credentials, ErrorCode, SecondFactorRequired
from app.sdk.adapters.browser import BrowserAuthenticator
from app.sdk.passkeys import PasskeyCeremonyError, PasskeyInfo

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

CANCELLED = ("The passkey request was cancelled or timed out. Try again, or use another way "
             "to sign in.")


class _State:
    authenticator = BrowserAuthenticator()
    challenge: SecondFactorRequired | None = None
    shown_for: str | None = None
    editing: str | None = None
    passkeys: list[PasskeyInfo] = []


state = _State()


def _el(element_id: str) -> Any:
    return document.getElementById(element_id)


def _show(element_id: str, shown: bool) -> None:
    _el(element_id).hidden = not shown


def _words(err: AppError) -> str | None:
    code = err.code
    if code is ErrorCode.PASSKEY_INVALID:
        return "This passkey was not accepted. Try again, or use another way to sign in."
    if code is ErrorCode.SECOND_FACTOR_INVALID:
        if "expired" in err.error:
            return "This sign-in took too long. Start again with your password."
        return "That code is wrong or was used already. Enter the newest code from your app."
    if code is ErrorCode.LAST_IDENTITY:
        return "This passkey is the only way into this account, so it cannot be deleted."
    if code is ErrorCode.IDENTITY_ALREADY_LINKED:
        return "This passkey is registered already."
    return None


async def _guard(work: Any) -> Any:
    """Run SDK work; put passkey and code failures into words for the form's error area."""
    try:
        return await work
    except PasskeyCeremonyError as err:
        if err.name == "InvalidStateError":
            raise Invalid("This device has a passkey for this account already.") from err
        raise Invalid(CANCELLED) from err
    except AppError as err:
        text = _words(err)
        if text is None:
            raise
        raise Invalid(text) from err


# The sign-in panel ---------------------------------------------------------------------------


def ask_second_factor(challenge: SecondFactorRequired) -> None:
    """A password login needs its second step: show the code form instead of the login form."""
    state.challenge = challenge
    enrolling = challenge.enrolment_required
    _show("login-form", False)
    _show("mfa-form", True)
    _show("mfa-enrol", enrolling)
    _show("mfa-hint", not enrolling)
    _show("mfa-passkey", "passkey" in challenge.factors)
    ui.set_value("mfa-code", "")
    if enrolling:
        page().spawn(_show_enrolment(challenge))
    ui.focus("mfa-title")


async def _show_enrolment(challenge: SecondFactorRequired) -> None:
    try:
        enrolment = await challenge.enrol_totp()
    except AppError as err:
        ui.show_error("mfa-form", _words(err) or err.error)
        return
    _el("mfa-qr").innerHTML = enrolment.qr_svg
    _el("mfa-secret").textContent = enrolment.secret


def _end_second_factor() -> None:
    state.challenge = None
    _show("mfa-form", False)
    _show("login-form", True)
    _el("mfa-qr").innerHTML = ""
    _el("mfa-secret").textContent = ""


def _code_kind(text: str) -> dict[str, str]:
    plain = text.replace(" ", "")
    return {"code": plain} if plain.isdigit() else {"recovery_code": text}


def wire_sign_in() -> None:
    """The passkey buttons and the code step of the sign-in panel."""
    slot = _el("passkey-slot")
    slot.innerHTML = SIGN_IN_HTML
    _show("passkey-form", BrowserAuthenticator.available())

    async def sign_in() -> None:
        await _guard(page().app.log_in(Credentials.passkey(state.authenticator)))
        show_signed_in()

    async def sign_up() -> None:
        name = f"Passkey on {_device_name()}"
        await _guard(page().app.log_in(Credentials.new_passkey(state.authenticator, name=name)))
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
            _, codes = await _guard(challenge.confirm_totp(text.replace(" ", "")))
            _end_second_factor()
            show_signed_in()
            _show_codes(codes)
            return
        await _guard(challenge.verify(**_code_kind(text)))
        _end_second_factor()
        show_signed_in()

    async def with_passkey() -> None:
        if state.challenge is None:
            raise Invalid("Start again with your email and password.")
        await _guard(state.challenge.verify(authenticator=state.authenticator))
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
    # in. It waits quietly, and any other passkey request cancels it (one at a time).
    if not await BrowserAuthenticator.conditional_available():
        return
    try:
        await page().app.log_in(Credentials.passkey(state.authenticator, conditional=True))
    except (PasskeyCeremonyError, AppError):
        return
    show_signed_in()


def _device_name() -> str:
    agent = str(window.navigator.userAgent)
    for name in ("Android", "iPhone", "iPad", "Mac OS", "Windows", "Linux", "CrOS"):
        if name in agent:
            return {"Mac OS": "Mac", "CrOS": "Chromebook"}.get(name, name)
    return "this device"


# The account panel ---------------------------------------------------------------------------


def wire_account() -> None:
    """The account panel's passkeys and two-step verification."""
    _el("factors-slot").innerHTML = ACCOUNT_HTML

    @when("click", "#passkey-add")
    def add(event: Any) -> None:
        async def work() -> None:
            info = await _guard(current_user().passkeys.register(
                state.authenticator, name=f"Passkey on {_device_name()}"))
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
            enrolment = await _guard(current_user().mfa.enrol_totp())
            _el("totp-qr").innerHTML = enrolment.qr_svg
            _el("totp-secret").textContent = enrolment.secret
            _show("totp-form", True)
            _show("totp-start", False)
            ui.focus("totp-code")
        page().act("totp", "mfa", work)

    @on_submit("totp-form", "mfa")
    async def confirm() -> None:
        text = ui.value("totp-code").replace(" ", "")
        if not text:
            raise Invalid("Enter the code your authenticator app shows.")
        codes = await _guard(current_user().mfa.confirm_totp(text))
        ui.set_value("totp-code", "")
        _el("totp-qr").innerHTML = ""
        _el("totp-secret").textContent = ""
        _show("totp-form", False)
        _show_codes(codes)
        await _load_status()

    @on_submit("totp-off-form", "mfa")
    async def turn_off() -> None:
        text = ui.value("totp-off-code").strip()
        if not text:
            raise Invalid("Enter a code from your app or a recovery code.")
        await _guard(current_user().mfa.disable_totp(**_code_kind(text)))
        ui.set_value("totp-off-code", "")
        await _load_status()
        ui.show_message("totp", "Two-step verification is off.")

    @when("click", "#recovery-done")
    def done(event: Any) -> None:
        _el("recovery-list").replaceChildren()
        _show("recovery", False)
        ui.focus("totp-title")

    # Refresh the sections whenever another account shows.
    def changed(event: Any = None) -> None:
        if str(document.documentElement.dataset.view) == "account":
            user = page().app.current_user
            if user is not None and user.id != state.shown_for:
                state.shown_for = user.id
                page().spawn(_load_all())

    observer = window.MutationObserver.new(create_proxy(lambda records, _: changed()))
    observer.observe(_el("account-summary"), _options(childList=True, subtree=True))
    changed()


def _options(**values: Any) -> Any:
    options = window.Object.new()
    for name, value in values.items():
        setattr(options, name, value)
    return options


def _show_codes(codes: list[str]) -> None:
    items = []
    for code in codes:
        item = document.createElement("li")
        item.textContent = code
        items.append(item)
    _el("recovery-list").replaceChildren(*items)
    _show("recovery", True)
    ui.focus("recovery-title")


async def _load_all() -> None:
    _show("recovery", False)
    _show("totp-form", False)
    try:
        await _load_passkeys()
        await _load_status()
    except AppError:
        return  # The account panel shows the session's state; these stay hidden.


async def _load_passkeys() -> None:
    user = current_user()
    state.passkeys = await user.passkeys.fetch_all()
    _render_passkeys()
    _show("passkeys", BrowserAuthenticator.available() or bool(state.passkeys))


async def _load_status() -> None:
    status = await current_user().mfa.status()
    has_password = any(i.provider_type == "local-userpass" for i in current_user().identities)
    _show("totp", status.totp or has_password)
    _show("totp-start", not status.totp)
    _show("totp-off-form", status.totp)
    _el("totp-status").textContent = (
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
    _el("passkeys-list").replaceChildren(*rows)


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
        await _guard(user.passkeys.rename(key, name))
        state.editing = None
        await _load_passkeys()
        ui.show_message("passkeys", f"Renamed to {name}.")
    elif action == "delete":
        await _guard(user.passkeys.delete(key))
        await _load_passkeys()
        ui.show_message("passkeys", "Passkey deleted.")
        ui.focus("passkeys-title")


def wire_factors() -> None:
    """Fill both slots and register every handler (``app.main.start_main``)."""
    wire_sign_in()
    wire_account()
