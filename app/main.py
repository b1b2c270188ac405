"""The pages' wiring: build the ``App``, connect each form to one SDK call, keep tabs in step.

PyScript runs this file on ``index.html``, ``confirm.html`` and ``reset.html``; ``<body
data-page>`` says which. ``pyscript.toml`` copies ``app/`` into Pyodide's file system, so the
imports below are the same modules CPython uses.

Rules that must hold (STYLE rule 11):

1. A handler calls one SDK coroutine (registering then signing in is the one two-step flow),
   lets ``AppError`` reach ``Page.act``, which shows ``messages.friendly(err)`` next to its form,
   and then the page re-renders from ``app.current_user`` / ``app.all_users``.
2. Nothing here touches a token or the wire. The only URL handling is reading ``token`` and
   ``tokenId`` from the confirmation and reset links, which are then dropped from the address
   bar so they do not stay in the history.
3. Other tabs change ``localStorage``; its ``storage`` event rebuilds the ``App`` from storage
   (no request) and re-renders, after any action in progress has finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, when, window

from app import ui
from app.messages import (
    BAD_EMAIL,
    PASSWORD_LENGTH,
    friendly,
    token_outcome,
)
from app.sdk import App, AppError, Credentials, ErrorCode, User
from app.sdk.adapters.browser import FetchTransport, LocalStorage

logger = logging.getLogger("app.main")

APP_ID = str(document.documentElement.dataset.appId or "latchkey-demo")
STORAGE_PREFIX = f"realm-web:app({APP_ID}):"
Handler = Callable[[], Awaitable[object]]


class Invalid(Exception):
    """Input the page can refuse before asking the server; its text is shown as is."""


def make_app() -> App:
    """The SDK app for this page, its users rebuilt from ``localStorage``."""
    origin = str(window.location.origin)
    return App(APP_ID, base_url=origin, transport=FetchTransport(), storage=LocalStorage())


class Page:
    """The page's state: the ``App``, what the view shows, and whether an action is running."""

    def __init__(self, *, renders: bool = True) -> None:
        self.renders = renders
        self.view = ui.ViewState()
        self.running = 0
        self.stale = False
        self._busy: set[str] = set()
        self.app = self._new_app()
        self._tasks: set[asyncio.Future[None]] = set()

    def _new_app(self) -> App:
        app = make_app()
        app.add_listener(lambda event: self.render())
        return app

    def render(self) -> str:
        """Re-render the page from the SDK's state (the link pages have nothing to render)."""
        if not self.renders:
            return ""
        if self.view.confirm_delete and self.find(self.view.confirm_delete) is None:
            self.view.confirm_delete = None
        return ui.render(self.app, self.view)

    def find(self, user_id: str) -> User | None:
        """The listed user with this id."""
        return next((u for u in self.app.all_users if u.id == user_id), None)

    def resync(self) -> None:
        """Another tab changed the sessions: rebuild from storage, now or after the action."""
        if self.running:
            self.stale = True
            return
        self.stale = False
        self.app = self._new_app()
        self.render()

    def spawn(self, awaitable: Awaitable[None]) -> None:
        """Run a coroutine as a task and keep it referenced until it ends."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def act(self, target: str, action: str, handler: Handler) -> None:
        """Start one action for the form (or region) ``target``, unless one is running there.

        Runs synchronously inside the browser event, so the busy marker and the cleared
        messages are in place before the event returns; the SDK call runs in a task.
        """
        if target in self._busy:
            return  # A second submit while the first is still running.
        self._busy.add(target)
        self.running += 1
        ui.set_busy(target, True)
        ui.clear_messages(target)
        ui.clear_messages("account")
        self.spawn(self._run(target, action, handler))

    async def _run(self, target: str, action: str, handler: Handler) -> None:
        try:
            await handler()
        except Invalid as err:
            ui.show_error(target, str(err))
        except AppError as err:
            logger.info("%s failed: %s", action, err.message)
            ui.show_error(target, friendly(err, action))
        except Exception:
            logger.exception("%s failed", action)
            ui.show_error(target, "Something went wrong on this page. Reload it and try again.")
        finally:
            self._busy.discard(target)
            self.running -= 1
            ui.set_busy(target, False)
            if self.stale and not self.running:
                self.resync()
            else:
                self.render()


page: Page | None = None


def _page() -> Page:
    if page is None:
        raise RuntimeError("The page is not started yet.")
    return page


def on_submit(form_id: str, action: str) -> Callable[[Handler], Handler]:
    """Run the decorated coroutine when the form is submitted, through ``Page.act``."""

    def decorate(handler: Handler) -> Handler:
        def listener(event: Any) -> None:
            # Synchronously, before any await: the browser must not submit the form itself.
            event.preventDefault()
            _page().act(form_id, action, handler)

        when("submit", f"#{form_id}")(listener)
        return handler

    return decorate


def _email(field: str) -> str:
    email = ui.value(field).strip()
    if not email:
        raise Invalid("Enter your email address.")
    if "@" not in email:
        raise Invalid(BAD_EMAIL)
    return email


def _new_password(field: str) -> str:
    password = ui.value(field)
    if not 6 <= len(password) <= 128:
        raise Invalid(PASSWORD_LENGTH)
    return password


def _current() -> User:
    user = _page().app.current_user
    if user is None:
        raise Invalid("Nobody is signed in on this page any more.")
    return user


def _confirmation_pending(err: AppError) -> bool:
    return err.code is ErrorCode.AUTH_ERROR and "confirmation required" in err.error


# The sign-in panel --------------------------------------------------------------------------


def _signed_in() -> None:
    current = _page()
    current.view.adding = False
    current.render()
    ui.focus("account-title")


def wire_signin() -> None:
    """Handlers of the sign-in forms."""

    @on_submit("login-form", "login")
    async def log_in() -> None:
        email, password = _email("login-email"), ui.value("login-password")
        if not password:
            raise Invalid("Enter your password.")
        await _page().app.log_in(Credentials.email_password(email, password))
        ui.set_value("login-password", "")
        _signed_in()

    @on_submit("register-form", "register")
    async def register() -> None:
        email, password = _email("register-email"), _new_password("register-password")
        app = _page().app
        await app.email_password_auth.register_user(email, password)
        try:
            await app.log_in(Credentials.email_password(email, password))
        except AppError as err:
            if not _confirmation_pending(err):
                raise
            ui.set_value("register-password", "")
            ui.set_value("login-email", email)
            ui.show_message("register-form", f"Check your email. We sent a link to {email}: "
                                             "open it to finish creating your account, then "
                                             "sign in here.")
            return
        ui.set_value("register-password", "")
        _signed_in()

    @on_submit("forgot-form", "forgot")
    async def forgot() -> None:
        email = _email("forgot-email")
        try:
            await _page().app.email_password_auth.send_reset_password_email(email)
        except AppError as err:
            # Say the same whether or not the account exists, so the form cannot be used to
            # find out who has an account here.
            if err.code is not ErrorCode.USER_NOT_FOUND:
                raise
        ui.show_message("forgot-form", f"If there is an account for {email}, we have sent it a "
                                       "link to choose a new password. The link works for a "
                                       "limited time.")

    @on_submit("apikey-form", "apikey")
    async def api_key() -> None:
        key = ui.value("apikey-key").strip()
        if not key:
            raise Invalid("Paste your API key.")
        await _page().app.log_in(Credentials.api_key(key))
        ui.set_value("apikey-key", "")
        _signed_in()

    @on_submit("anon-form", "anon")
    async def anonymous() -> None:
        await _page().app.log_in(Credentials.anonymous())
        _signed_in()

    @when("click", "#cancel-add")
    def cancel_add() -> None:
        current = _page()
        current.view.adding = False
        current.render()
        ui.focus("account-title")

    @when("click", "#add-account")
    def add_account() -> None:
        current = _page()
        current.view.adding = True
        current.render()
        ui.focus("signin-title")


# The account panel ---------------------------------------------------------------------------


def wire_account() -> None:
    """Handlers of the current account's panel."""

    @on_submit("link-form", "link")
    async def link() -> None:
        user = _current()
        email, password = _email("link-email"), _new_password("link-password")
        try:
            await _page().app.email_password_auth.register_user(email, password)
        except AppError as err:
            # An account registered earlier but never used can still be linked; one that
            # belongs to another user is refused by the link below, with its own message.
            if err.code is not ErrorCode.ACCOUNT_NAME_IN_USE:
                raise
        try:
            await user.link_credentials(Credentials.email_password(email, password))
        except AppError as err:
            if not _confirmation_pending(err):
                raise
            ui.show_message("link-form", f"Check your email. We sent a link to {email}: open "
                                         "it, then come back and add the login again.")
            return
        ui.set_value("link-password", "")
        # The link section hides once the user has a login, so the news goes above it.
        ui.show_message("account", f"Email and password added: you can now sign in as {email}.")

    @on_submit("translate-form", "function")
    async def translate() -> None:
        text = ui.value("translate-text").strip()
        if not text:
            raise Invalid("Enter a word to translate.")
        result = await _current().functions.translate(text, ui.value("translate-pair"))
        ui.show_result("translate-form", f"Translation: {result}")

    @on_submit("color-form", "function")
    async def favorite_color() -> None:
        color = ui.value("color-input").strip()
        if not color:
            raise Invalid("Enter a color.")
        await _current().functions.set_favorite_color(color)
        ui.show_result("color-form", "Saved on the server. Refresh the custom data to see it.")

    async def refresh() -> None:
        await _current().refresh_custom_data()
        ui.show_message("custom-data", "Custom data refreshed.")

    @when("click", "#refresh-custom-data")
    def refresh_custom_data() -> None:
        _page().act("custom-data", "refresh", refresh)


# The account list -----------------------------------------------------------------------------


async def _account_action(action: str, user: User) -> None:
    current = _page()
    app = current.app
    if action == "switch":
        app.switch_user(user)
        current.view.adding = False
        current.render()
        ui.focus("account-title")
    elif action == "log-out":
        await user.log_out()
        _after_leaving()
    elif action == "remove":
        await app.remove_user(user)
        _after_leaving()
    elif action == "delete":
        current.view.confirm_delete = user.id
        current.render()
        ui.focus_selector(f'[data-focus-key="cancel-delete:{user.id}"]')
    elif action == "cancel-delete":
        current.view.confirm_delete = None
        current.render()
        ui.focus_selector(f'[data-focus-key="delete:{user.id}"]')
    elif action == "confirm-delete":
        current.view.confirm_delete = None
        await app.delete_user(user)
        _after_leaving()
    elif action == "sign-in-again":
        current.view.adding = app.current_user is not None
        current.render()
        ui.set_value("login-email", user.profile.email or "")
        ui.focus("login-password" if user.profile.email else "login-email")


def _after_leaving() -> None:
    current = _page()
    if current.render() == "account":
        ui.focus("account-title")
    else:
        ui.focus("accounts-title" if current.app.all_users else "signin-title")


def wire_accounts() -> None:
    """One click handler for every button of the account list (they are re-rendered)."""

    @when("click", "#accounts-list")
    def clicked(event: Any) -> None:
        button = event.target.closest("button[data-action]")
        if ui.absent(button):
            return
        current = _page()
        user = current.find(str(button.dataset.userId))
        if user is None:
            return
        action = str(button.dataset.action)
        verb = "logout" if action == "log-out" else action.removeprefix("confirm-")
        current.act("accounts", verb, lambda: _account_action(action, user))


# Keeping tabs in step ------------------------------------------------------------------------


def watch_other_tabs() -> None:
    """Re-render when another tab of this origin changes this app's stored sessions."""

    def changed(event: Any) -> None:
        key = event.key
        # A null key means another tab cleared all of localStorage.
        if ui.absent(key) or str(key).startswith(STORAGE_PREFIX):
            _page().resync()

    window.addEventListener("storage", create_proxy(changed))


async def _refresh_profile_quietly() -> None:
    # The stored profile is shown at once; this catches changes made elsewhere, and a session
    # the server has ended turns into "signed out" through the SDK's own event.
    user = _page().app.current_user
    if user is None:
        return
    try:
        await user.refresh_profile()
    except AppError as err:
        logger.info("Could not refresh the profile: %s", err.message)


def start_main() -> None:
    """``index.html``: the sign-in forms, the account list and the account panel."""
    global page
    page = Page()
    wire_signin()
    wire_account()
    wire_accounts()
    watch_other_tabs()
    page.render()
    ui.go_live()
    ui.set_status("Ready.", ready="true")
    page.spawn(_refresh_profile_quietly())


# The pages the emails link to ------------------------------------------------------------------


def _link_tokens() -> tuple[str, str]:
    params = window.URLSearchParams.new(window.location.search)
    token, token_id = params.get("token"), params.get("tokenId")
    if not ui.absent(token) or not ui.absent(token_id):
        # Keep one-time tokens out of the history and of anything that reads the address bar.
        window.history.replaceState(None, "", window.location.pathname)
    return ("" if ui.absent(token) else str(token)), ("" if ui.absent(token_id) else str(token_id))


_TOKEN_TEXTS = {
    "confirm": {
        "done": "Your email address is confirmed. You can sign in now.",
        "expired": "This confirmation link has expired. Ask for a new one below.",
        "used": "This confirmation link has already been used, so your address is probably "
                "confirmed already. Try signing in.",
        "invalid": "This confirmation link isn't valid. Open the whole link from the email, or "
                   "ask for a new one below.",
        "missing": "Open this page from the link in your confirmation email.",
    },
    "reset": {
        "done": "Your password is changed. Sign in with your new password.",
        "expired": "This reset link has expired. Ask for a new one below.",
        "used": "This reset link has already been used. If you did not change your password, "
                "ask for a new link below.",
        "invalid": "This reset link isn't valid. Open the whole link from the email, or ask for "
                   "a new one below.",
        "missing": "Open this page from the link in your password reset email, or ask for a new "
                   "link below.",
    },
}


def _outcome(page_kind: str, outcome: str) -> None:
    good = outcome == "done"
    show = ("next",) if good or outcome == "used" else ("again",)
    ui.show_outcome(_TOKEN_TEXTS[page_kind][outcome], "ok" if good else "bad", show=show,
                    hide=("work",))


def start_confirm() -> None:
    """``confirm.html``: finish a confirmation from the emailed link, or send a new link."""
    global page
    page = Page(renders=False)
    token, token_id = _link_tokens()
    _wire_resend("again-form", "resend")
    ui.go_live()
    ui.set_status("Ready.", ready="true")

    async def confirm() -> None:
        if not token or not token_id:
            _outcome("confirm", "missing")
            return
        try:
            await _page().app.email_password_auth.confirm_user(token, token_id)
        except AppError as err:
            outcome = token_outcome(err)
            if outcome is None:
                ui.show_outcome(friendly(err, "confirm"), "bad", show=("again",), hide=("work",))
                return
            _outcome("confirm", outcome)
            return
        _outcome("confirm", "done")

    page.spawn(confirm())


def start_reset() -> None:
    """``reset.html``: choose a new password with the emailed link, or ask for a new link."""
    global page
    page = Page(renders=False)
    token, token_id = _link_tokens()
    _wire_resend("again-form", "forgot")
    if not token or not token_id:
        _outcome("reset", "missing")

    @on_submit("reset-form", "reset")
    async def reset() -> None:
        password = _new_password("reset-password")
        if password != ui.value("reset-repeat"):
            raise Invalid("The two passwords are not the same.")
        try:
            await _page().app.email_password_auth.reset_password(token, token_id, password)
        except AppError as err:
            outcome = token_outcome(err)
            if outcome is None:
                raise
            _outcome("reset", outcome)
            return
        _outcome("reset", "done")

    ui.go_live()
    ui.set_status("Ready.", ready="true")


def _wire_resend(form_id: str, action: str) -> None:
    @on_submit(form_id, action)
    async def again() -> None:
        email = _email("again-email")
        auth = _page().app.email_password_auth
        try:
            if action == "resend":
                await auth.resend_confirmation_email(email)
            else:
                await auth.send_reset_password_email(email)
        except AppError as err:
            if err.code is not ErrorCode.USER_NOT_FOUND:
                raise
        ui.show_message(form_id, f"If there is an account for {email} that needs it, a new link "
                                 "is on its way.")


STARTERS = {"main": start_main, "confirm": start_confirm, "reset": start_reset}


def start() -> None:
    """Start the page named by ``<body data-page>``; say so on the page if that fails."""
    try:
        STARTERS[str(document.body.dataset.page or "main")]()
    except Exception:
        logger.exception("The page could not start")
        ui.set_status("This page could not start. Reload it to try again.", ready="failed")


start()
