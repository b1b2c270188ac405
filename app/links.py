"""The pages the emails link to: ``confirm.html`` and ``reset.html``.

Each reads ``token`` and ``tokenId`` from its address (the only URL handling of the pages), drops
them from the address bar so they stay out of the history, finishes the flow with one SDK call
and says what happened: done, expired, already used or not valid (``messages.token_outcome``).
Either page can also send a new link.
"""

from __future__ import annotations

from pyscript import window

from app import ui
from app.actions import Invalid, email_field, new_password, on_submit, page, start_page
from app.messages import LINK_TEXTS, friendly, token_outcome
from app.sdk import AppError, ErrorCode


def _link_tokens() -> tuple[str, str]:
    params = window.URLSearchParams.new(window.location.search)
    token, token_id = params.get("token"), params.get("tokenId")
    if not ui.absent(token) or not ui.absent(token_id):
        # Keep one-time tokens out of the history and of anything that reads the address bar.
        window.history.replaceState(None, "", window.location.pathname)
    return ("" if ui.absent(token) else str(token)), ("" if ui.absent(token_id) else str(token_id))


def _outcome(page_kind: str, outcome: str) -> None:
    good = outcome == "done"
    show = ("next",) if good or outcome == "used" else ("again",)
    ui.show_outcome(LINK_TEXTS[page_kind][outcome], "ok" if good else "bad", show=show,
                    hide=("work",))
    # The form that had focus is gone: keep focus on the page, at its heading.
    ui.focus("page-title")
    if page_kind == "confirm" and good:
        from app import pending

        pending.announce()


def start_confirm() -> None:
    """``confirm.html``: finish a confirmation from the emailed link, or send a new link."""
    current = start_page(renders=False)
    token, token_id = _link_tokens()
    _wire_resend("again-form", "resend")
    ui.go_live()
    ui.set_status("Ready.", ready="true")

    async def confirm() -> None:
        if not token or not token_id:
            _outcome("confirm", "missing")
            return
        try:
            await page().app.email_password_auth.confirm_user(token, token_id)
        except AppError as err:
            outcome = token_outcome(err)
            if outcome is None:
                ui.show_outcome(friendly(err, "confirm"), "bad", show=("again",), hide=("work",))
                return
            _outcome("confirm", outcome)
            return
        _outcome("confirm", "done")

    current.spawn(confirm())


def start_reset() -> None:
    """``reset.html``: choose a new password with the emailed link, or ask for a new link."""
    start_page(renders=False)
    token, token_id = _link_tokens()
    _wire_resend("again-form", "forgot")
    if not token or not token_id:
        _outcome("reset", "missing")

    @on_submit("reset-form", "reset")
    async def reset() -> None:
        password = new_password("reset-password")
        if password != ui.value("reset-repeat"):
            raise Invalid("The two passwords are not the same.")
        try:
            await page().app.email_password_auth.reset_password(token, token_id, password)
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
        email = email_field("again-email")
        auth = page().app.email_password_auth
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
