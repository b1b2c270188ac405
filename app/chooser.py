"""The account chooser, in the manner of Google's: the active account on top, the others one
click away, and log out / remove / delete in a small menu per account.

Each row is ``<li class="account">``: a main button (switch to the account, or sign in again
when it is signed out; the active row has none) and a "⋮" button that opens the row's menu (a
disclosure: ``aria-expanded``, Escape closes it and returns focus to its button). Deleting asks
first, in the row. Every button carries ``data-action`` and ``data-user-id``; ``app/main.py``
has one click handler for the whole list. Raw ids are never shown here (the account panel's
"Technical details" has them).
"""

from __future__ import annotations

from typing import Any

from pyscript import web, when

from app import ui
from app.actions import page
from app.messages import picture_url, provider_name, state_name, user_label
from app.sdk import App, User, UserState


def render(app: App, view: Any) -> None:
    """The list of accounts, the active one first; hidden when there is none."""
    users = app.all_users
    current = app.current_user
    ordered = ([current] if current in users else []) + [u for u in users if u is not current]
    ui.by_id("accounts").hidden = not users
    rows = [_row(u, u is current, view.menu == u.id, view.confirm_delete == u.id)
            for u in ordered if u is not None]
    ui.by_id("accounts-list").replaceChildren(*[row._dom_element for row in rows])
    # Adding an account needs someone signed in to come back to; otherwise the page is the
    # sign-in form already.
    ui.by_id("add-account").hidden = current is None or view.adding


def _button(text: str, action: str, user: User, spoken: str, *, css: str = "") -> Any:
    return ui.text_element(web.button, text, type="button", class_=css, data_action=action,
                           data_user_id=user.id, data_focus_key=f"{action}:{user.id}",
                           aria_label=spoken)


def _face(user: User, label: str) -> Any:
    picture = picture_url(user)
    if picture is not None:
        return ui.text_element(web.img, None, src=picture, alt="", class_="face",
                               width="36", height="36", referrerpolicy="no-referrer")
    return ui.text_element(web.span, (label[:1] or "?").upper(), class_="face",
                           aria_hidden="true")


def _row(user: User, active: bool, menu_open: bool, confirming: bool) -> Any:
    label = user_label(user)
    logged_in = user.state is UserState.LOGGED_IN
    row = ui.text_element(web.li, None, class_="account", data_user_id=user.id)
    if active:
        row.setAttribute("aria-current", "true")
    email = user.profile.email
    meta = [provider_name(user.provider_type), state_name(user.state)]
    if email and email != label:
        meta.insert(0, email)
    if active:
        main = ui.text_element(web.div, None, class_="account-main")
    else:
        # Named by its content (a hidden verb, then the name people see), so the accessible
        # name holds the visible text (WCAG 2.5.3).
        action = "switch" if logged_in else "sign-in-again"
        main = ui.text_element(web.button, None, type="button", class_="account-main",
                               data_action=action, data_user_id=user.id,
                               data_focus_key=f"{action}:{user.id}")
        main.append(ui.text_element(web.span, "Switch to " if logged_in else "Sign in again as ",
                                    class_="visually-hidden"))
    main.append(_face(user, label))
    words = ui.text_element(web.span, None, class_="account-words")
    name = ui.text_element(web.span, label, class_="account-name")
    if active:
        name.append(ui.text_element(web.span, "Active", class_="badge"))
    words.append(name)
    words.append(ui.text_element(web.span, " · ".join(meta), class_="account-meta"))
    main.append(words)
    head = ui.text_element(web.div, None, class_="account-head")
    head.append(main)
    toggle = _button("⋮", "menu", user, f"More for {label}", css="menu-toggle")
    toggle.setAttribute("aria-expanded", "true" if menu_open else "false")
    toggle.setAttribute("aria-controls", f"menu-{user.id}")
    head.append(toggle)
    row.append(head)
    menu = ui.text_element(web.div, None, class_="menu", id=f"menu-{user.id}")
    menu.hidden = not menu_open
    if logged_in:
        menu.append(_button("Log out", "log-out", user, f"Log out {label}"))
    menu.append(_button("Remove from this device", "remove", user,
                        f"Remove from this device: {label}"))
    if logged_in:
        menu.append(_button("Delete account", "delete", user, f"Delete account {label}",
                            css="danger"))
    row.append(menu)
    if confirming:
        row.append(_confirm_delete(user, label))
    return row


def _confirm_delete(user: User, label: str) -> Any:
    box = ui.text_element(web.div, None, class_="confirm", role="group",
                          aria_label=f"Confirm deleting {label}")
    box.append(ui.text_element(web.p, f"Delete the account {label} for good? Its data on the "
                                      "server is deleted too. This cannot be undone."))
    buttons = ui.text_element(web.div, None, class_="actions")
    buttons.append(_button("Delete for good", "confirm-delete", user,
                           f"Delete for good: {label}", css="danger solid"))
    buttons.append(_button("Cancel", "cancel-delete", user, f"Cancel, keep {label}"))
    box.append(buttons)
    return box


# Handlers -----------------------------------------------------------------------------


async def _account_action(action: str, user: User) -> None:
    current = page()
    app = current.app
    if action != "menu":
        current.view.menu = None
    if action == "menu":
        current.view.menu = None if current.view.menu == user.id else user.id
        current.render()
        if current.view.menu:
            ui.focus_selector(f'#menu-{user.id} button')
    elif action == "switch":
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
        ui.focus_selector(f'[data-focus-key="menu:{user.id}"]')
    elif action == "confirm-delete":
        current.view.confirm_delete = None
        await app.delete_user(user)
        _after_leaving()
    elif action == "sign-in-again":
        current.view.adding = app.current_user is not None
        current.view.task = "signin"
        current.render()
        ui.set_value("login-email", user.profile.email or "")
        ui.focus("login-password" if user.profile.email else "login-email")


def _after_leaving() -> None:
    current = page()
    if current.render() == "account":
        ui.focus("account-title")
    else:
        ui.focus("accounts-title" if current.app.all_users else "signin-title")


def wire() -> None:
    """One click handler for every button of the account list (they are re-rendered)."""

    @when("click", "#accounts-list")
    def clicked(event: Any) -> None:
        button = event.target.closest("button[data-action]")
        if ui.absent(button):
            return
        current = page()
        user = current.find(str(button.dataset.userId))
        if user is None:
            return
        action = str(button.dataset.action)
        if action in ("menu", "switch", "delete", "cancel-delete", "sign-in-again"):
            # No request: run at once, so focus moves within the same keypress.
            current.spawn(_account_action(action, user))
            return
        verb = "logout" if action == "log-out" else action.removeprefix("confirm-")
        current.act("accounts", verb, lambda: _account_action(action, user))
