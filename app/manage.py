"""The account panel's management sections: password, API keys, and where you're signed in.

- Password: for a user with an email/password identity, "Email me a link to change it" sends
  the reset email (the flow App Services has; the page never asks for the old password, which
  the server could not check, so it says plainly that a link is sent).
- API keys (``user.api_keys``): create (the secret shown once, with a copy button), list,
  enable, disable, delete. Shown when the server has the ``api-key`` provider enabled, for
  users who are not only anonymous.
- Sessions (``user.sessions``, issue 12's client API): the list and "Sign out everywhere else".
  Shown only when the SDK has ``user.sessions`` and the server answers; a 404 (a server without
  the route) hides it.

Each list is loaded once per account shown (``render`` notices the change of account), and
again after each change. Values from the server go in as text only (``ui.text_element``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pyscript import web

from app import ui
from app.messages import provider_name
from app.sdk import AppError, User

logger = logging.getLogger("app.manage")

ANONYMOUS = "anon-user"


class _Loaded:
    """Which account's lists are on screen, and whether the server has sessions."""

    user_id: str | None = None
    sessions_missing = False


loaded = _Loaded()


def has_password(user: User) -> bool:
    """Whether the user signs in with an email and password (so can change it)."""
    return bool(user.profile.email) and any(
        i.provider_type == "local-userpass" for i in user.identities)


def keys_offered(user: User, provider_types: set[str]) -> bool:
    """API keys are offered when the server has them, to users who are not only anonymous."""
    if "api-key" not in provider_types:
        return False
    return any(i.provider_type != ANONYMOUS for i in user.identities) or (
        user.provider_type != ANONYMOUS)


def sessions_offered(user: User) -> bool:
    """Whether the SDK can list this user's sessions (and the server has not said 404)."""
    return getattr(user, "sessions", None) is not None and not loaded.sessions_missing


def render(user: User | None, view: Any) -> None:
    """Show or hide the sections for ``user``; start loading its lists when it changed."""
    password = ui.by_id("password-section")
    keys = ui.by_id("apikeys-section")
    sessions = ui.by_id("sessions-section")
    if user is None:
        password.hidden = keys.hidden = sessions.hidden = True
        loaded.user_id = None
        return
    password.hidden = not has_password(user)
    if has_password(user):
        ui.by_id("password-email").textContent = user.profile.email or ""
    keys.hidden = not keys_offered(user, view.provider_types)
    sessions.hidden = not sessions_offered(user)
    if loaded.user_id != user.id:
        loaded.user_id = user.id
        hide_new_key()
        ui.by_id("apikeys-list").replaceChildren()
        ui.by_id("sessions-list").replaceChildren()
        from app.actions import page

        page().spawn(refresh(user, view))


async def refresh(user: User, view: Any) -> None:
    """Load the API keys and sessions of ``user``; errors show in their sections."""
    if keys_offered(user, view.provider_types):
        await refresh_keys(user)
    if sessions_offered(user):
        await refresh_sessions(user)


# API keys -------------------------------------------------------------------------------------


async def refresh_keys(user: User) -> None:
    """List the user's API keys (never their secrets: the server no longer has them)."""
    try:
        keys = await user.api_keys.fetch_all()
    except AppError as err:
        logger.info("Could not list the API keys: %s", err.message)
        from app.messages import friendly

        ui.show_error("apikeys", friendly(err, "keys"))
        return
    rows = []
    for key in sorted(keys, key=lambda k: k.name.lower()):
        row = ui.text_element(web.li, None, class_="item", data_key_id=key.id)
        words = ui.text_element(web.span, None, class_="item-words")
        words.append(ui.text_element(web.span, key.name, class_="item-name"))
        words.append(ui.text_element(web.span, "Disabled" if key.disabled else "Enabled",
                                     class_="item-meta"))
        row.append(words)
        buttons = ui.text_element(web.span, None, class_="actions")
        toggle = "enable" if key.disabled else "disable"
        buttons.append(ui.text_element(
            web.button, toggle.capitalize(), type="button", data_key_action=toggle,
            data_key_id=key.id, data_focus_key=f"key-{toggle}:{key.id}",
            aria_label=f"{toggle.capitalize()} the key {key.name}"))
        buttons.append(ui.text_element(
            web.button, "Delete", type="button", class_="danger", data_key_action="delete",
            data_key_id=key.id, data_focus_key=f"key-delete:{key.id}",
            aria_label=f"Delete the key {key.name}"))
        row.append(buttons)
        rows.append(row._dom_element)
    if not rows:
        rows.append(ui.text_element(web.li, "No API keys yet.", class_="hint")._dom_element)
    ui.by_id("apikeys-list").replaceChildren(*rows)


def show_new_key(secret: str) -> None:
    """Show a new key's secret, once, and put focus on it so it can be copied."""
    ui.by_id("apikey-new-value").textContent = secret
    ui.by_id("apikey-new").hidden = False
    ui.by_id("apikey-copy").focus()


def hide_new_key() -> None:
    """Forget the shown secret (it is never shown again)."""
    ui.by_id("apikey-new-value").textContent = ""
    ui.by_id("apikey-new").hidden = True
    ui.by_id("apikey-copy-message").textContent = ""


# Sessions -------------------------------------------------------------------------------------


def _field(item: Any, *names: str) -> Any:
    for name in names:
        found = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if found is not None:
            return found
    return None


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        return "–"
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


async def refresh_sessions(user: User) -> None:
    """List the user's sessions; a server without the route hides the section."""
    try:
        items = await user.sessions.list()  # type: ignore[attr-defined]
    except AppError as err:
        if err.status == 404:
            loaded.sessions_missing = True
            ui.by_id("sessions-section").hidden = True
            return
        from app.messages import friendly

        ui.show_error("sessions", friendly(err, "sessions"))
        return
    rows = []
    for item in items:
        session_id = str(_field(item, "id", "session_id") or "")
        current = bool(_field(item, "current", "is_current"))
        provider = _field(item, "provider_type", "provider")
        row = ui.text_element(web.li, None, class_="item", data_session_id=session_id)
        words = ui.text_element(web.span, None, class_="item-words")
        title = provider_name(str(provider)) if provider else "Session"
        name = ui.text_element(web.span, title, class_="item-name")
        if current:
            name.append(ui.text_element(web.span, "This device", class_="badge"))
        words.append(name)
        address = _field(item, "masked_address", "address", "client_address")
        details = [f"Signed in {_when(_field(item, 'created', 'created_at', 'creation_date'))}",
                   f"last used {_when(_field(item, 'last_used', 'last_used_at'))}"]
        if address:
            details.append(f"from {address}")
        words.append(ui.text_element(web.span, ", ".join(details), class_="item-meta"))
        row.append(words)
        if not current and session_id:
            row.append(ui.text_element(
                web.button, "Sign out", type="button", data_session_action="revoke",
                data_session_id=session_id, data_focus_key=f"session:{session_id}",
                aria_label=f"Sign out the session {title}, {details[0]}"))
        rows.append(row._dom_element)
    ui.by_id("sessions-list").replaceChildren(*rows)


# Handlers ---------------------------------------------------------------------------------------


def wire() -> None:
    """Handlers of the password, API key and session sections."""
    from pyscript import when, window

    from app.actions import Invalid, current_user, on_submit, page

    @on_submit("password-form", "forgot")
    async def change_password() -> None:
        user = current_user()
        email = user.profile.email or ""
        await page().app.email_password_auth.send_reset_password_email(email)
        ui.show_message("password-form", f"We sent a link to {email}. Open it to choose your "
                                         "new password; this session stays signed in.")

    @on_submit("apikeys-form", "keys")
    async def create_key() -> None:
        name = ui.value("apikey-name").strip()
        if not name:
            raise Invalid("Enter a name for the key.", [("apikey-name", "Enter a name for the "
                                                                        "key.")])
        user = current_user()
        created = await user.api_keys.create(name)
        ui.set_value("apikey-name", "")
        await refresh_keys(user)
        show_new_key(created.key or "")

    @when("click", "#apikey-copy")
    def copy_key() -> None:
        secret = str(ui.by_id("apikey-new-value").textContent)

        def copied(_: Any = None) -> None:
            ui.by_id("apikey-copy-message").textContent = "Copied."

        def refused(_: Any = None) -> None:
            ui.by_id("apikey-copy-message").textContent = (
                "Your browser did not allow copying: select the key and copy it yourself.")

        try:
            window.navigator.clipboard.writeText(secret).then(copied, refused)
        except Exception:
            refused()

    @when("click", "#apikey-new-done")
    def key_saved() -> None:
        hide_new_key()
        ui.focus("apikey-name")

    async def key_action(action: str, key_id: str) -> None:
        user = current_user()
        keys = user.api_keys
        if action == "enable":
            await keys.enable(key_id)
        elif action == "disable":
            await keys.disable(key_id)
        elif action == "delete":
            await keys.delete(key_id)
        await refresh_keys(user)
        if action == "delete":
            ui.focus("apikeys-title")

    @when("click", "#apikeys-list")
    def key_clicked(event: Any) -> None:
        button = event.target.closest("button[data-key-action]")
        if ui.absent(button):
            return
        action, key_id = str(button.dataset.keyAction), str(button.dataset.keyId)
        page().act("apikeys", "keys", lambda: key_action(action, key_id))

    async def revoke(session_id: str | None) -> None:
        user = current_user()
        if session_id is None:
            await user.sessions.revoke_all_other()  # type: ignore[attr-defined]
            ui.show_message("sessions", "Signed out everywhere else. This device stays signed in.")
        else:
            await user.sessions.revoke(session_id)  # type: ignore[attr-defined]
            ui.show_message("sessions", "That session is signed out.")
        await refresh_sessions(user)
        ui.focus("sessions-title")

    @when("click", "#sessions-list")
    def session_clicked(event: Any) -> None:
        button = event.target.closest("button[data-session-action]")
        if ui.absent(button):
            return
        session_id = str(button.dataset.sessionId)
        page().act("sessions", "sessions", lambda: revoke(session_id))

    @when("click", "#sessions-revoke-others")
    def revoke_others() -> None:
        page().act("sessions", "sessions", lambda: revoke(None))
