"""Views of the pages, rendered from state: ``render(app, view)`` and a few message helpers.

The page shell (forms, headings, layout) is static HTML, so it shows before Python is ready;
this module fills in what depends on the users (the account list and the account panel) and
switches panels through ``<html data-view>``. It never calls the SDK's network methods, and holds
no token, URL or JSON of the wire (STYLE rule 11).

Rule that must hold: every value that comes from a user, a provider or the server goes into the
page as text (``textContent``), never as HTML. ``pyscript.web`` factories insert *string*
children as HTML, so strings are never passed to them as children here; ``_text`` is the only way
text gets in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pyscript import document, web

from app.messages import picture_url, provider_name, social_label, state_name, user_label
from app.sdk import App, User
from app.sdk.providers import AuthProviderInfo

ANONYMOUS = "anon-user"


@dataclass
class ViewState:
    """What the page shows beyond the SDK's state: the add-account form, a pending deletion,
    and the social providers the server has enabled (one "Sign in with …" button each)."""

    adding: bool = False
    confirm_delete: str | None = None
    social: list[AuthProviderInfo] = field(default_factory=list)
    #: The sign-in panel's task (``app.tasks``), the account whose menu is open, and the types
    #: of every provider the server has enabled.
    task: str = "signin"
    menu: str | None = None
    provider_types: set[str] = field(default_factory=set)


def _text(factory: Any, value: object = None, /, **attributes: str) -> Any:
    """An element with ``value`` as its text (never HTML) and plain string attributes."""
    element = factory()
    for name, attribute in attributes.items():
        element.setAttribute(name.rstrip("_").replace("_", "-"), attribute)
    if value is not None:
        element.textContent = str(value)
    return element


def absent(value: Any) -> bool:
    """Whether a value from JS is ``null`` or ``undefined`` (``None`` or Pyodide's ``jsnull``)."""
    return value is None or type(value).__name__ == "JsNull"


def _by_id(element_id: str) -> Any:
    element = document.getElementById(element_id)
    if absent(element):
        raise LookupError(f"The page has no element #{element_id}.")
    return element


def view_name(app: App, view: ViewState) -> str:
    """``account`` with a current user, ``adding`` when adding another one, else ``signin``."""
    if app.current_user is None:
        return "signin"
    return "adding" if view.adding else "account"


def render(app: App, view: ViewState) -> str:
    """Show the app's state: the panel, the account list and the current account. Returns the
    view name. Keyboard focus stays on the same control when it still exists."""
    from app import chooser, manage, tasks

    focused = document.activeElement
    focus_key = None if absent(focused) else focused.getAttribute("data-focus-key")
    name = view_name(app, view)
    if name == "account":
        view.task = "signin"
    document.documentElement.dataset.view = name
    chooser.render(app, view)
    _render_current(app.current_user)
    render_social(view.social)
    tasks.show(view.task, name == "adding")
    tasks.offer(view.provider_types)
    manage.render(app.current_user, view)
    if name == "account" and app.current_user is not None:
        set_title(user_label(app.current_user))
    else:
        set_title(tasks.title(view.task, name == "adding"))
    if not absent(focus_key):
        again = document.querySelector(f'[data-focus-key="{focus_key}"]')
        if not absent(again):
            again.focus()
    return name


def view_shown() -> str:
    """The view ``<html data-view>`` shows now."""
    return str(document.documentElement.dataset.view or "")


def set_title(text: str) -> None:
    """The tab's title: what the page shows now, then the product name."""
    document.title = f"{text} – Latchkey"


def text_element(factory: Any, value: object = None, /, **attributes: str) -> Any:
    """An element with ``value`` as its text (never HTML) and plain string attributes."""
    return _text(factory, value, **attributes)


def by_id(element_id: str) -> Any:
    """The element with this id; ``LookupError`` when the page has none."""
    return _by_id(element_id)


def _render_current(user: User | None) -> None:
    summary = _by_id("account-summary")
    custom = _by_id("custom-data")
    if user is None:
        summary.replaceChildren()
        custom.textContent = ""
        _by_id("link-section").hidden = True
        return
    summary.replaceChildren(_summary(user)._dom_element)
    custom.textContent = _pretty(_custom_data(user))
    _by_id("link-section").hidden = not link_offered(user)


def link_offered(user: User | None) -> bool:
    """Whether the account panel offers to link a login: to an anonymous user with no other."""
    if user is None or user.provider_type != ANONYMOUS:
        return False
    return all(i.provider_type == ANONYMOUS for i in user.identities)


def render_social(providers: list[AuthProviderInfo]) -> None:
    """A button per social provider, twice: to sign in, and (in the account panel, for an
    anonymous user) to link it. Both groups hide when the server has none enabled."""
    for box, verb, key in (("social", "Sign in with {}", "social"),
                           ("link-social", "Link your {} account", "link-social")):
        _by_id(box).hidden = not providers
        buttons = []
        for provider in providers:
            item = _text(web.li)
            item.append(_text(web.button, verb.format(social_label(provider)), type="button",
                              class_="social-button", data_provider=provider.name,
                              data_focus_key=f"{key}:{provider.name}"))
            buttons.append(item._dom_element)
        _by_id(f"{box}-list").replaceChildren(*buttons)


def _summary(user: User) -> Any:
    box = _text(web.div)
    label = user_label(user)
    who = _text(web.div, None, class_="who")
    picture = picture_url(user)
    if picture is not None:
        # Only an http(s) URL, set as an attribute; the CSP's img-src decides the hosts.
        who.append(_text(web.img, None, src=picture, alt=label, id="current-user-picture",
                         class_="avatar", width="56", height="56", referrerpolicy="no-referrer"))
    who.append(_text(web.p, label, class_="who-name", id="current-user-name"))
    box.append(who)
    facts = _text(web.dl)
    rows: list[tuple[str, Any]] = [
        ("Signed in with", _identities(user)),
        ("State", _text(web.span, state_name(user.state))),
        ("Profile", _profile(user)),
    ]
    _facts(facts, rows)
    box.append(facts)
    # Raw ids are for support and developers: out of the way, in a details view.
    more = _text(web.details, None, id="account-details", class_="tech")
    more.append(_text(web.summary, "Technical details"))
    ids = _text(web.dl, None, class_="details")
    tech: list[tuple[str, Any]] = [
        ("User id", _text(web.code, user.id, id="current-user-id")),
        ("Device id", _text(web.code, user.device_id or "–")),
        ("Logged in through", _text(web.code, user.provider_type)),
    ]
    for identity in user.identities:
        tech.append((f"{provider_name(identity.provider_type)} identity",
                     _text(web.code, identity.id)))
    _facts(ids, tech)
    more.append(ids)
    box.append(more)
    return box


def _facts(facts: Any, rows: list[tuple[str, Any]]) -> None:
    for term, value in rows:
        facts.append(_text(web.dt, term))
        definition = _text(web.dd)
        definition.append(value)
        facts.append(definition)


def _identities(user: User) -> Any:
    """Every way this account signs in (one entry per provider), not just this session's."""
    names: list[str] = []
    for identity in user.identities:
        name = provider_name(identity.provider_type)
        if name not in names:
            names.append(name)
    if not names:
        names.append(provider_name(user.provider_type))
    box = _text(web.div)
    items = _text(web.ul, None, id="current-identities", class_="inline-list")
    for name in names:
        items.append(_text(web.li, name))
    box.append(items)
    session = provider_name(user.provider_type)
    if session not in names:
        box.append(_text(web.p, f"This session: {session}", class_="hint session-kind"))
    return box


def _profile(user: User) -> Any:
    data = user.profile.data
    if not data:
        return _text(web.span, "No profile data", class_="hint")
    facts = _text(web.dl, None, class_="details", id="current-profile")
    for key in sorted(data):
        facts.append(_text(web.dt, key))
        facts.append(_text(web.dd, _plain(data[key])))
    return facts


def _custom_data(user: User) -> dict[str, Any]:
    try:
        return user.custom_data
    except ValueError:
        return {}


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _pretty(data: dict[str, Any]) -> str:
    if not data:
        return "(none yet)"
    return json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False)


# Messages next to forms. Each form #<id> has #<id>-error (role=alert) and may have
# #<id>-message (role=status) and #<id>-result (an <output>).


def show_error(form_id: str, message: str) -> None:
    """Show ``message`` as the form's error; screen readers announce it."""
    _set(f"{form_id}-error", message)
    _set(f"{form_id}-message", "")


def show_message(form_id: str, message: str) -> None:
    """Show ``message`` as the form's good news, replacing an earlier error."""
    _set(f"{form_id}-error", "")
    _set(f"{form_id}-message", message)


def show_result(form_id: str, value: str) -> None:
    """Show the result of the form's action."""
    _set(f"{form_id}-result", value)


def clear_messages(form_id: str) -> None:
    """Remove the form's error, message and result."""
    for suffix in ("error", "message", "result"):
        _set(f"{form_id}-{suffix}", "")


def _set(element_id: str, text: str) -> None:
    element = document.getElementById(element_id)
    if not absent(element):
        element.textContent = text


def clear_all_messages() -> None:
    """Remove every form's error and good news from the page (not results, not the status)."""
    for element in document.querySelectorAll("main .error, main .notice, main .inline-notice"):
        element.textContent = ""


def rescue_focus() -> None:
    """After an action: when keyboard focus fell to ``<body>`` (its control went away), put it
    on the heading of what the page shows now."""
    active = document.activeElement
    if (not absent(active) and str(active.tagName) != "BODY"
            and not absent(active.offsetParent)):
        return
    view = str(document.documentElement.dataset.view or "")
    heading = {"account": "account-title", "signin": "signin-title", "adding": "signin-title",
               "landing": "landing-title"}.get(view, "page-title")
    target = document.getElementById(heading)
    if not absent(target):
        target.focus()


def set_busy(element_id: str, busy: bool) -> None:
    """Mark a form or button as working (``aria-busy``) without moving keyboard focus."""
    element = document.getElementById(element_id)
    if absent(element):
        return
    if busy:
        element.setAttribute("aria-busy", "true")
    else:
        element.removeAttribute("aria-busy")


def value(element_id: str) -> str:
    """The text of an input or select."""
    return str(_by_id(element_id).value)


def set_value(element_id: str, text: str) -> None:
    """Set the text of an input."""
    _by_id(element_id).value = text


def focus(element_id: str) -> None:
    """Move keyboard focus to an element (headings have ``tabindex=-1``)."""
    _by_id(element_id).focus()


def focus_selector(selector: str) -> None:
    """Move keyboard focus to the first element matching ``selector``, if there is one."""
    element = document.querySelector(selector)
    if not absent(element):
        element.focus()


def set_status(text: str, *, ready: str | None = None) -> None:
    """The status line at the top; ``ready`` sets ``<html data-ready>`` (``true``/``failed``)."""
    _set("status", text)
    if ready is not None:
        document.documentElement.dataset.ready = ready


def go_live() -> None:
    """Enable every control that waited for Python (``.live`` fieldsets and buttons)."""
    for element in document.querySelectorAll(".live"):
        element.disabled = False


def show_landing(text: str) -> None:
    """Show only the landing panel (``<html data-view="landing">``) with ``text``: the popup
    of a social login, or the page while it finishes one."""
    document.documentElement.dataset.view = "landing"
    _set("landing-message", text)


def show_outcome(text: str, tone: str, *, show: tuple[str, ...] = (),
                 hide: tuple[str, ...] = ()) -> None:
    """The confirmation and reset pages: say what happened and show the next steps."""
    outcome = _by_id("outcome")
    outcome.textContent = text
    outcome.dataset.tone = tone
    for element_id in show:
        _by_id(element_id).hidden = False
    for element_id in hide:
        _by_id(element_id).hidden = True
