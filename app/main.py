"""The pages' entry point, and ``index.html``: sign-in forms, account list, account panel.

PyScript runs this file on ``index.html``, ``confirm.html`` and ``reset.html``; ``<body
data-page>`` says which (``app.links`` has the other two; ``app.social`` the social login
buttons and the end of a social login that comes back to ``index.html``). ``pyscript.toml``
copies ``app/`` into Pyodide's file system, so the imports below are the same modules CPython
uses.

Rules that must hold (STYLE rule 11):

1. A handler calls one SDK coroutine (registering then signing in is the one two-step flow; a
   social login whose popup is blocked runs again as a full-page redirect) and
   lets ``AppError`` reach ``Page.act`` (``app.actions``), which shows ``messages.friendly(err)``
   next to its form; the page then re-renders from ``app.current_user`` / ``app.all_users``.
2. Nothing here touches a token, a URL or the wire.
3. Other tabs change ``localStorage``; its ``storage`` event rebuilds the ``App`` from storage
   (no request) and re-renders, after any action in progress has finished.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, when, window

try:
    from app import chooser, manage, pending, tasks, ui, ui_factors
    from app.actions import (
        STORAGE_PREFIX,
        Invalid,
        check,
        confirmation_pending,
        current_user,
        email_and_password,
        email_field,
        log_in_and_show,
        on_submit,
        page,
        start_page,
    )
    from app.links import start_confirm, start_reset
    from app.messages import ACCOUNT_EXISTS
    from app.sdk import AppError, Credentials, ErrorCode, SecondFactorRequired
    from app.social import arrive, finish_redirect, load_providers, wire_social
except Exception:
    # Without these modules nothing else can show the failure; say it here rather than leave
    # the page "starting" for ever (the traceback goes to the console).
    document.getElementById("status").textContent = (
        "This page could not start. Reload it to try again.")
    document.documentElement.dataset.ready = "failed"
    raise

logger = logging.getLogger("app.main")


# The sign-in panel --------------------------------------------------------------------------


def wire_signin() -> None:
    """Handlers of the sign-in tasks (``app.tasks``): one form each."""

    @on_submit("login-form", "login")
    async def log_in() -> None:
        email, password = email_and_password("login-email", "login-password", new=False)
        try:
            await log_in_and_show(Credentials.email_password(email, password))
        except SecondFactorRequired as challenge:  # Issue 14: the code step (app.ui_factors).
            ui.set_value("login-password", "")
            ui_factors.ask_second_factor(challenge)
            return
        ui.set_value("login-password", "")

    @on_submit("register-form", "register")
    async def register() -> None:
        email, password = email_and_password("register-email", "register-password", new=True)
        app = page().app
        try:
            await app.email_password_auth.register_user(email, password)
        except AppError as err:
            if err.code is not ErrorCode.ACCOUNT_NAME_IN_USE:
                raise
            # Registered before: if the password is the same, this is the person coming back
            # (signed in, or still to confirm); else the address belongs to someone.
            await _registered_before(email, password)
            return
        try:
            await log_in_and_show(Credentials.email_password(email, password))
        except AppError as err:
            if not confirmation_pending(err):
                raise
            _await_confirmation("register", email, password)
            ui.show_message("register-form", f"Check your email. We sent a link to {email}: "
                                             "open it to finish creating your account. This "
                                             "page signs you in once it is confirmed.")
            return
        ui.set_value("register-password", "")

    @on_submit("forgot-form", "forgot")
    async def forgot() -> None:
        email = email_field("forgot-email")
        try:
            await page().app.email_password_auth.send_reset_password_email(email)
        except AppError as err:
            # Say the same whether or not the account exists, so the form cannot be used to
            # find out who has an account here.
            if err.code is not ErrorCode.USER_NOT_FOUND:
                raise
        ui.show_message("forgot-form", f"If there is an account for {email}, we have sent it a "
                                       "link to choose a new password. The link works for a "
                                       "limited time.")

    @on_submit("resend-form", "resend")
    async def resend() -> None:
        email = email_field("resend-email")
        try:
            await page().app.email_password_auth.resend_confirmation_email(email)
        except AppError as err:
            if err.code is ErrorCode.USER_ALREADY_CONFIRMED:
                ui.show_message("resend-form", "This email address is already confirmed. You "
                                               "can sign in.")
                return
            if err.code is not ErrorCode.USER_NOT_FOUND:
                raise
        ui.show_message("resend-form", f"If {email} is waiting to be confirmed, a new link is "
                                       "on its way. Open it, then sign in.")

    @on_submit("apikey-form", "apikey")
    async def api_key() -> None:
        key = ui.value("apikey-key").strip()
        check(("apikey-key", None if key else "Paste your API key."))
        await log_in_and_show(Credentials.api_key(key))
        ui.set_value("apikey-key", "")

    @on_submit("custom-form", "custom")
    async def custom_function() -> None:
        text = ui.value("custom-payload").strip()
        check(("custom-payload", None if text else "Enter your login details."))
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        check(("custom-payload", None if isinstance(payload, dict) else
               'Write the details as a JSON object, e.g. {"username": "ada"}.'))
        await log_in_and_show(Credentials.function(payload))
        ui.set_value("custom-payload", "")

    @on_submit("jwt-form", "jwt")
    async def custom_jwt() -> None:
        token = "".join(ui.value("jwt-token").split())
        check(("jwt-token", None if token.count(".") == 2 else
               "Paste the whole token: three parts separated by dots."))
        await log_in_and_show(Credentials.jwt(token))
        ui.set_value("jwt-token", "")

    @on_submit("anon-form", "anon")
    async def anonymous() -> None:
        await log_in_and_show(Credentials.anonymous())

    @when("click", "#cancel-add")
    def cancel_add() -> None:
        _cancel_adding()

    @when("click", "#add-account")
    def add_account() -> None:
        current = page()
        current.view.adding = True
        current.view.task = "signin"
        current.view.menu = None
        # A new account starts from empty fields, not from the last one typed here.
        for field in ("login-email", "login-password", "register-email", "register-password"):
            ui.set_value(field, "")
        ui.clear_all_messages()
        current.render()
        ui.focus("signin-title")

    @when("click", "#signin")
    def goto(event: Any) -> None:
        button = event.target.closest("button[data-goto]")
        if ui.absent(button):
            return
        tasks.switch(page().view, str(button.dataset.goto))


def _cancel_adding() -> None:
    current = page()
    current.view.adding = False
    current.view.task = "signin"
    ui.clear_all_messages()
    current.render()
    ui.focus("account-title")


async def _registered_before(email: str, password: str) -> None:
    try:
        await log_in_and_show(Credentials.email_password(email, password))
    except AppError as err:
        if confirmation_pending(err):
            _await_confirmation("register", email, password)
            ui.set_value("resend-email", email)
            ui.show_message("register-form", f"You have already created this account, but "
                                             f"{email} is not confirmed yet. Open the link we "
                                             "sent you (this page then signs you in), or send "
                                             "the link again below.")
            return
        if err.code is ErrorCode.NETWORK_ERROR:
            raise
        # A different password, too many attempts, a disabled account: the address is
        # taken either way, and that is all this form can truthfully say.
        raise Invalid(ACCOUNT_EXISTS) from err
    ui.show_message("account", f"You already had an account as {email}: you are signed in.")


def _await_confirmation(kind: str, email: str, password: str, user_id: str | None = None) -> None:
    from app import pending

    pending.wait(kind, email, password, user_id)


def on_escape() -> None:
    """Escape closes what is open: a menu, the delete confirmation, a sign-in task, adding."""

    def pressed(event: Any) -> None:
        if str(event.key) != "Escape":
            return
        current = page()
        view = current.view
        if view.menu is not None:
            user_id, view.menu = view.menu, None
            current.render()
            ui.focus_selector(f'[data-focus-key="menu:{user_id}"]')
        elif view.confirm_delete is not None:
            user_id, view.confirm_delete = view.confirm_delete, None
            current.render()
            ui.focus_selector(f'[data-focus-key="menu:{user_id}"]')
        elif view.task != "signin" and ui.view_name(current.app, view) != "account":
            tasks.switch(view, "signin")
        elif view.adding:
            _cancel_adding()
        else:
            return
        event.preventDefault()

    document.addEventListener("keydown", create_proxy(pressed))


# The account panel ---------------------------------------------------------------------------


def wire_account() -> None:
    """Handlers of the current account's panel."""

    @on_submit("link-form", "link")
    async def link() -> None:
        user = current_user()
        email, password = email_and_password("link-email", "link-password", new=True)
        try:
            await page().app.email_password_auth.register_user(email, password)
        except AppError as err:
            # An account registered earlier but never used can still be linked; one that
            # belongs to another user is refused by the link below, with its own message.
            if err.code is not ErrorCode.ACCOUNT_NAME_IN_USE:
                raise
        try:
            await user.link_credentials(Credentials.email_password(email, password))
        except AppError as err:
            if not confirmation_pending(err):
                raise
            _await_confirmation("link", email, password, user.id)
            ui.show_message("link-form", f"Check your email. We sent a link to {email}: open "
                                         "it, and this account keeps the login at once.")
            return
        ui.set_value("link-password", "")
        # The link section hides once the user has a login, so the news goes above it.
        ui.show_message("account", f"Email and password added: you can now sign in as {email}.")

    @on_submit("translate-form", "function")
    async def translate() -> None:
        text = ui.value("translate-text").strip()
        check(("translate-text", None if text else "Enter a word to translate."))
        result = await current_user().functions.translate(text, ui.value("translate-pair"))
        ui.show_result("translate-form", f"Translation: {result}")

    @on_submit("color-form", "function")
    async def favorite_color() -> None:
        color = ui.value("color-input").strip()
        check(("color-input", None if color else "Enter a color."))
        await current_user().functions.set_favorite_color(color)
        ui.show_result("color-form", "Saved on the server. Refresh the custom data to see it.")

    async def refresh() -> None:
        await current_user().refresh_custom_data()
        ui.show_message("custom-data", "Custom data refreshed.")

    @when("click", "#refresh-custom-data")
    def refresh_custom_data() -> None:
        page().act("custom-data", "refresh", refresh)


# Keeping tabs in step ------------------------------------------------------------------------


def watch_other_tabs() -> None:
    """Re-render when another tab of this origin changes this app's stored sessions."""

    def changed(event: Any) -> None:
        key = event.key
        # A null key means another tab cleared all of localStorage.
        if ui.absent(key) or str(key).startswith(STORAGE_PREFIX):
            page().resync()

    window.addEventListener("storage", create_proxy(changed))


async def _refresh_profile_quietly() -> None:
    # The stored profile is shown at once; this catches changes made elsewhere, and a session
    # the server has ended turns into "signed out" through the SDK's own event.
    user = page().app.current_user
    if user is None:
        return
    try:
        await user.refresh_profile()
    except AppError as err:
        logger.info("Could not refresh the profile: %s", err.message)


def start_main() -> None:
    """``index.html``: the sign-in forms, the account list and the account panel; or, when a
    social login comes back here, its popup's note or the end of its full-page flow."""
    landing = arrive()
    if landing == "popup":
        return
    current = start_page()
    wire_signin()
    wire_social()
    wire_account()
    chooser.wire()
    manage.wire()
    on_escape()
    pending.watch()
    ui_factors.wire_factors()
    watch_other_tabs()
    if landing != "page":
        current.render()
    ui.go_live()
    ui.set_status("Ready.", ready="true")
    current.spawn(load_providers())
    if landing == "page":
        finish_redirect()
    else:
        current.spawn(_refresh_profile_quietly())


STARTERS = {"main": start_main, "confirm": start_confirm, "reset": start_reset}


def start() -> None:
    """Start the page named by ``<body data-page>``; say so on the page if that fails."""
    try:
        STARTERS[str(document.body.dataset.page or "main")]()
    except Exception:
        logger.exception("The page could not start")
        ui.set_status("This page could not start. Reload it to try again.", ready="failed")


start()
