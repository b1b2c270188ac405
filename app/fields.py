"""Checks of what people type, before any request: messages tied to their fields.

A form handler lists its fields with ``check(("login-email", email_problem(...)), ...)``; every
field with a problem gets ``aria-invalid="true"`` and its message in a ``<p class="field-error">``
right under it, named by the field's ``aria-describedby``; ``Invalid`` then carries the fields
and ``Page.act`` moves keyboard focus to the first one. Nothing is sent while a field is wrong.

Standard library and ``pyscript.document`` only; the checks themselves (``*_problem``) are pure
and also run under CPython (``tests/e2e/test_ui_messages.py``).
"""

from __future__ import annotations

from app.messages import ENTER_EMAIL, ENTER_PASSWORD, email_problem, password_problem

__all__ = ["ENTER_EMAIL", "ENTER_PASSWORD", "clear_all", "email_problem", "mark",
           "password_problem", "required_problem"]

def required_problem(value: str, message: str) -> str | None:
    """``message`` when ``value`` is empty (after trimming)."""
    return message if not value.strip() else None


def mark(problems: list[tuple[str, str]]) -> None:
    """Show each ``(field id, message)`` under its field and focus the first field."""
    from pyscript import document

    for field_id, message in problems:
        field = document.getElementById(field_id)
        if field is None or type(field).__name__ == "JsNull":
            continue
        note_id = f"{field_id}-problem"
        note = document.getElementById(note_id)
        if note is None or type(note).__name__ == "JsNull":
            note = document.createElement("p")
            note.id = note_id
            note.className = "field-error"
            field.insertAdjacentElement("afterend", note)
        note.textContent = message
        field.setAttribute("aria-invalid", "true")
        described = str(field.getAttribute("aria-describedby") or "").split()
        if note_id not in described:
            field.setAttribute("aria-describedby", " ".join([note_id, *described]))
    if problems:
        first = document.getElementById(problems[0][0])
        if first is not None and type(first).__name__ != "JsNull":
            first.focus()


def clear_all() -> None:
    """Remove every field's problem from the page (a new action or task starts afresh)."""
    from pyscript import document

    for field in document.querySelectorAll('[aria-invalid="true"]'):
        field.removeAttribute("aria-invalid")
    for note in document.querySelectorAll(".field-error"):
        note.textContent = ""
