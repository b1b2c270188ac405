"""What the page's passkey and second-factor views share (issue 14): their state, element
helpers, and failures put into words (``app.ui_signin_factors``, ``app.ui_factors``).
"""

from __future__ import annotations

from typing import Any

from pyscript import document, window

from app import ui
from app.actions import Invalid
from app.sdk import AppError, ErrorCode, SecondFactorRequired
from app.sdk.adapters.browser import BrowserAuthenticator
from app.sdk.passkeys import PasskeyCeremonyError, PasskeyInfo

CANCELLED = ("The passkey request was cancelled or timed out. Try again, or use another way "
             "to sign in.")


class FactorState:
    """What the views remember between events (one page, one of each)."""

    authenticator = BrowserAuthenticator()
    challenge: SecondFactorRequired | None = None
    shown_for: str | None = None
    editing: str | None = None
    passkeys: list[PasskeyInfo] = []


state = FactorState()


def el(element_id: str) -> Any:
    """The element with this id."""
    return document.getElementById(element_id)


def show(element_id: str, shown: bool) -> None:
    """Show or hide an element."""
    el(element_id).hidden = not shown


def words(err: AppError) -> str | None:
    """A sentence for the failures particular to passkeys and codes; ``None`` for others."""
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


async def guard(work: Any) -> Any:
    """Run SDK work; put passkey and code failures into words for the form's error area."""
    try:
        return await work
    except PasskeyCeremonyError as err:
        if err.name == "InvalidStateError":
            raise Invalid("This device has a passkey for this account already.") from err
        raise Invalid(CANCELLED) from err
    except AppError as err:
        text = words(err)
        if text is None:
            raise
        raise Invalid(text) from err


def code_kind(text: str) -> dict[str, str]:
    """What a typed code is: digits are a TOTP ``code``, anything else a ``recovery_code``."""
    plain = text.replace(" ", "")
    return {"code": plain} if plain.isdigit() else {"recovery_code": text}


def show_codes(codes: list[str]) -> None:
    """Show the recovery codes (once) in the account panel and move focus to them."""
    items = []
    for code in codes:
        item = document.createElement("li")
        item.textContent = code
        items.append(item)
    el("recovery-list").replaceChildren(*items)
    show("recovery", True)
    ui.focus("recovery-title")


def device_name() -> str:
    """A short name of this device for a new passkey's name ("Linux", "iPhone" ...)."""
    agent = str(window.navigator.userAgent)
    for name in ("Android", "iPhone", "iPad", "Mac OS", "Windows", "Linux", "CrOS"):
        if name in agent:
            return {"Mac OS": "Mac", "CrOS": "Chromebook"}.get(name, name)
    return "this device"
