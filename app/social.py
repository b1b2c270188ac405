"""The page's social login: "Sign in with …" buttons, linking, and the page the provider returns to.

The server says which social providers it has enabled (``app.fetch_auth_providers()``); each gets
a button in the sign-in panel, and one in the account panel's "Keep this account" section to link
it to an anonymous user. A click runs the SDK's redirect flow in a popup (``make_app`` gives the
``App`` a ``PopupOpener``); when the browser blocks the popup, the same flow runs again with a
``PageRedirect``, which sends this page itself to the provider.

Either way the provider returns the browser to this page, which calls ``handle_auth_redirect()``
before anything else (``arrive``):

1. inside the popup (``window.opener`` is set), the page only says "You can close this window"
   and stops: the page that opened it finds the result in ``localStorage`` and closes it;
2. after a full-page redirect, the page starts as usual and ``finish_redirect`` finishes the
   login (or link) with ``app.complete_redirect_log_in()``.

Failures (the window closed, the provider refused or could not be reached) are shown in the
error area next to the buttons, in words from ``app.messages.social_text``. As everywhere on the
page (STYLE rule 11), this module touches no token and reads no URL: the SDK's browser adapter
reads and clears the address bar's fragment.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pyscript import when, window

from app import ui
from app.actions import Invalid, make_app, page, show_signed_in, social_credentials
from app.messages import (
    SOME_PROVIDER,
    popup_blocked,
    provider_name,
    social_label,
    social_text,
)
from app.sdk import App, AppError, User
from app.sdk.adapters.browser import PageRedirect, handle_auth_redirect
from app.sdk.providers import AuthProviderInfo

logger = logging.getLogger("app.social")

POPUP_DONE = "You can close this window. You are signed in on the page that opened it."
POPUP_FAILED = "You can close this window. The page that opened it says what went wrong."
FINISHING = "Finishing signing in…"

Flow = Callable[[App], Awaitable[Any]]


def arrive() -> str | None:
    """Take a social login's result from the address, first thing on the page.

    Returns ``"popup"`` when this page is the login's popup (it then shows only a note), or
    ``"page"`` when a full-page login has come back here, else ``None``.
    """
    try:
        result = handle_auth_redirect()
    except ValueError as exc:
        logger.warning("Ignored a sign-in result without its state: %s", exc)
        return None
    if result is None:
        return None
    if ui.absent(window.opener):
        return "page"
    ui.show_landing(POPUP_FAILED if result.error else POPUP_DONE)
    ui.set_status("Done. You can close this window.", ready="true")
    return "popup"


async def load_providers() -> None:
    """Ask the server for its social providers and show a button for each (none: no buttons)."""
    current = page()
    try:
        providers = await current.app.fetch_auth_providers()
    except AppError as err:
        logger.info("Could not list the sign-in providers: %s", err.message)
        return
    current.view.social = [p for p in providers if p.is_social]
    current.view.provider_types = {p.type for p in providers}
    if ui.view_shown() == "landing":
        # A full-page social login is finishing: its end renders the page.
        ui.render_social(current.view.social)
    else:
        current.render()


def _clicked(event: Any) -> AuthProviderInfo | None:
    button = event.target.closest("button[data-provider]")
    if ui.absent(button):
        return None
    name = str(button.dataset.provider)
    return next((p for p in page().view.social if p.name == name), None)


async def _run_flow(flow: Flow, label: str) -> Any:
    """Run ``flow`` on the page's ``App`` (a popup); when the browser blocks the popup, on an
    ``App`` that sends this page to the provider instead (it never comes back from that)."""
    try:
        try:
            return await flow(page().app)
        except AppError as err:
            if not popup_blocked(err):
                raise
            logger.info("The popup was blocked; signing in with %s in this page.", label)
            return await flow(make_app(PageRedirect()))
    except AppError as err:
        logger.info("Signing in with %s failed: %s", label, err.message)
        raise Invalid(social_text(err, label)) from err


async def _log_in(provider: AuthProviderInfo) -> None:
    credentials = social_credentials(provider)
    await _run_flow(lambda app: app.log_in(credentials), social_label(provider))
    show_signed_in()


async def _link(provider: AuthProviderInfo, user_id: str) -> None:
    credentials = social_credentials(provider)

    async def link(app: App) -> None:
        # The same user, as the given App knows it (a second App for a full-page redirect).
        user = next((u for u in app.all_users if u.id == user_id), None)
        if user is None:
            raise Invalid("Nobody is signed in on this page any more.")
        await user.link_credentials(credentials)

    label = social_label(provider)
    await _run_flow(link, label)
    _say_linked(label)


def _say_linked(label: str) -> None:
    # The link section hides once the user has a login, so the news goes above it.
    ui.show_message("account", f"{label} linked: sign in with {label} to come back to this "
                               "account, here or on another device.")


def wire_social() -> None:
    """Handlers of the "Sign in with …" and "Link your … account" buttons."""

    @when("click", "#social")
    def sign_in_with(event: Any) -> None:
        provider = _clicked(event)
        if provider is not None:
            page().act("social", "social", lambda: _log_in(provider))

    @when("click", "#link-social")
    def link_with(event: Any) -> None:
        provider = _clicked(event)
        user = page().app.current_user
        if provider is not None and user is not None:
            page().act("link-social", "link", lambda: _link(provider, user.id))


def _linked_label(user: User) -> str:
    social = [i.provider_type for i in user.identities if i.provider_type != ui.ANONYMOUS]
    return provider_name(social[-1]) if social else SOME_PROVIDER


async def _finish() -> None:
    try:
        user = await page().app.complete_redirect_log_in()
    except AppError as err:
        logger.info("The sign-in that came back failed: %s", err.message)
        raise Invalid(social_text(err)) from err
    if user is None:
        return
    if user.provider_type == ui.ANONYMOUS:
        _say_linked(_linked_label(user))
    else:
        show_signed_in()


def finish_redirect() -> None:
    """After a full-page redirect: finish the login or link, showing "Finishing signing in…"
    until it is done, and any error where the flow was started."""
    current = page()
    user = current.app.current_user
    if user is None:
        target = "social"
    elif ui.link_offered(user):
        target = "link-social"
    else:
        target = "account"
    ui.show_landing(FINISHING)
    current.act(target, "social", _finish)
