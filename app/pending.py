"""Finishing what waited for an email confirmation, without a second submit.

When creating an account, or adding an email and password to an anonymous account, answers
"confirm your email first", the page keeps the email and password in memory (never in storage)
and tries again when the confirmation may have happened: when ``confirm.html`` in another tab
of this origin says so (a ``BroadcastChannel`` message), and when this tab comes back into view.
A try that is still refused waits quietly for the next; a reload forgets the password, and the
person then signs in (or adds the login) as usual.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, window

from app import ui
from app.actions import confirmation_pending, page, show_signed_in
from app.sdk import AppError, Credentials, ErrorCode

logger = logging.getLogger("app.pending")

CHANNEL = "latchkey-confirmed"


@dataclass
class Waiting:
    """A registration (``kind="register"``) or link (``"link"``) waiting for confirmation."""

    kind: str
    email: str
    password: str
    user_id: str | None = None


_waiting: list[Waiting] = []
_trying = False
_last_try = 0.0
#: Seconds between two tries on focus or visibility (a login refused for "confirm first" is a
#: request like any other, and rate limits count them).
QUIET_SECONDS = 3.0


def wait(kind: str, email: str, password: str, user_id: str | None = None) -> None:
    """Remember a flow to finish once ``email`` is confirmed (the newest one only)."""
    _waiting[:] = [Waiting(kind, email, password, user_id)]


def _nudge(_: Any = None, *, now: bool = False) -> None:
    global _trying, _last_try
    if not _waiting or _trying:
        return
    moment = time.monotonic()
    if not now and moment - _last_try < QUIET_SECONDS:
        return
    _trying, _last_try = True, moment
    page().spawn(_try())


async def _try() -> None:
    global _trying
    try:
        item = _waiting[0]
        credentials = Credentials.email_password(item.email, item.password)
        app = page().app
        try:
            if item.kind == "link":
                user = page().find(item.user_id or "")
                if user is None:
                    _waiting.clear()
                    return
                await user.link_credentials(credentials)
            else:
                await app.log_in(credentials)
        except AppError as err:
            if not confirmation_pending(err) and err.code is not ErrorCode.TOO_MANY_REQUESTS:
                logger.info("Finishing after confirmation failed: %s", err.message)
                _waiting.clear()
            return
        _waiting.clear()
        ui.clear_all_messages()
        if item.kind == "link":
            page().render()
            ui.show_message("account", f"Your email is confirmed: you can now sign in as "
                                       f"{item.email}.")
            ui.focus("account-title")
        else:
            show_signed_in()
            ui.show_message("account", f"Your email is confirmed and you are signed in as "
                                       f"{item.email}.")
    finally:
        _trying = False


def watch() -> None:
    """Listen for confirmations in other tabs, and for this tab coming back into view."""
    try:
        channel = window.BroadcastChannel.new(CHANNEL)
        channel.addEventListener("message", create_proxy(lambda _: _nudge(now=True)))
    except Exception:
        logger.info("No BroadcastChannel here; only the tab's return finishes a confirmation.")

    def visible(_: Any = None) -> None:
        if str(document.visibilityState) == "visible":
            _nudge()

    document.addEventListener("visibilitychange", create_proxy(visible))
    window.addEventListener("focus", create_proxy(_nudge))


def announce() -> None:
    """``confirm.html``: tell this origin's other tabs that an address was just confirmed."""
    try:
        channel = window.BroadcastChannel.new(CHANNEL)
        channel.postMessage("confirmed")
        channel.close()
    except Exception:
        logger.info("No BroadcastChannel here; the other tab finishes when it comes back.")
