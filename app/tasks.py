"""The sign-in panel's tasks: one at a time, with clear switches between them.

``#signin`` holds one ``<div class="task" data-task-for="…">`` per task: ``signin`` (social
buttons, email and password, anonymous), ``register``, ``forgot``, ``resend`` (the confirmation
email), ``apikey``, ``custom`` (the app's custom-function login) and ``jwt`` (custom JWT); only
the current one shows, so there is never a second email/password pair on screen. Buttons with
``data-goto`` switch tasks; Escape goes back to ``signin``. The heading and the tab title follow
the task. The email typed in one task follows to the next.
"""

from __future__ import annotations

from typing import Any

from pyscript import document

from app import fields, ui

TITLES = {
    "signin": "Sign in",
    "register": "Create an account",
    "forgot": "Reset your password",
    "resend": "Confirm your email",
    "apikey": "Sign in with an API key",
    "custom": "Sign in with your app's login",
    "jwt": "Sign in with a token",
}
#: The email field of each task that has one.
EMAIL_FIELDS = {"signin": "login-email", "register": "register-email",
                "forgot": "forgot-email", "resend": "resend-email"}
#: Tasks offered only when the server has their provider enabled.
PROVIDER_OF = {"apikey": "api-key", "custom": "custom-function", "jwt": "custom-token"}


def title(task: str, adding: bool) -> str:
    """The heading of the sign-in panel for ``task``."""
    if task == "signin" and adding:
        return "Add another account"
    return TITLES.get(task, TITLES["signin"])


def show(task: str, adding: bool) -> None:
    """Show only ``task``'s block, with its heading (no focus move: see ``switch``)."""
    section = ui.by_id("signin")
    section.dataset.task = task
    for block in document.querySelectorAll("#signin .task"):
        block.hidden = str(block.dataset.taskFor) != task
    document.querySelector("#signin .task-back").hidden = task == "signin"
    ui.by_id("signin-title").textContent = title(task, adding)


def switch(view: Any, task: str) -> None:
    """Go to ``task`` from a click: carry the typed email over, clear old messages, and put
    keyboard focus on the task's first field."""
    if task not in TITLES:
        return
    typed = ""
    old = EMAIL_FIELDS.get(view.task)
    if old:
        typed = ui.value(old).strip()
    view.task = task
    ui.clear_all_messages()
    fields.clear_all()
    new = EMAIL_FIELDS.get(task)
    if new and typed and not ui.value(new).strip():
        ui.set_value(new, typed)
    show(task, view.adding)
    ui.set_title(title(task, view.adding))
    first = document.querySelector(f'#signin .task[data-task-for="{task}"] input, '
                                   f'#signin .task[data-task-for="{task}"] textarea')
    if task == "signin" or ui.absent(first):
        ui.focus("signin-title")
    else:
        first.focus()


def offer(provider_types: set[str]) -> None:
    """Show the "Other ways to sign in" switches of the providers the server has enabled."""
    any_shown = False
    for button in document.querySelectorAll("#other-ways [data-provider-type]"):
        shown = str(button.dataset.providerType) in provider_types
        button.hidden = not shown
        any_shown = any_shown or shown
    ui.by_id("other-ways").hidden = not any_shown
