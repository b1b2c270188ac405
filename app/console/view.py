"""The console's views: the users table, a user's page, the activity charts, messages.

Rule that must hold (as in ``app/ui.py``): every value from the server goes into the page as
text (``textContent``) or as an attribute set with ``setAttribute``, never as HTML; ``el`` is
how elements are made. The SVG of the charts is built from ``chart.Node`` trees the same way.
Nothing here calls the Admin API; ``main`` does and hands the answers over.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pyscript import document

from . import chart
from .listing import Listing, pending_email, providers_of, user_email

SVG_NS = "http://www.w3.org/2000/svg"
#: Audit events a user's page shows (the newest).
AUDIT_ROWS = 50
PROVIDERS = {
    "local-userpass": "Email and password", "anon-user": "Anonymous", "api-key": "API key",
    "custom-function": "Custom function", "custom-token": "Custom JWT",
    "oauth2-google": "Google", "oauth2-apple": "Apple", "oauth2-facebook": "Facebook",
}


def absent(value: Any) -> bool:
    """Whether a value from JS is ``null`` or ``undefined``."""
    return value is None or type(value).__name__ == "JsNull"


def by_id(element_id: str) -> Any:
    """The element with this id; ``LookupError`` when the page has none."""
    element = document.getElementById(element_id)
    if absent(element):
        raise LookupError(f"The page has no element #{element_id}.")
    return element


def el(tag: str, text: object = None, /, **attributes: str) -> Any:
    """A new element with ``text`` as its text and string attributes (``class_`` -> class,
    ``aria_label`` -> aria-label)."""
    element = document.createElement(tag)
    for name, value in attributes.items():
        element.setAttribute(name.rstrip("_").replace("_", "-"), value)
    if text is not None:
        element.textContent = str(text)
    return element


def svg(node: chart.Node) -> Any:
    """SVG elements for a ``chart.Node`` tree."""
    element = document.createElementNS(SVG_NS, node.tag)
    for name, value in node.attrs.items():
        element.setAttribute(name, value)
    if node.text:
        element.textContent = node.text
    for child in node.children:
        element.appendChild(svg(child))
    return element


def when(seconds: object) -> str:
    """``2026-11-26 03:48 UTC``; ``never`` for 0 or nothing."""
    if not isinstance(seconds, int | float) or seconds <= 0:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def provider_name(kind: str) -> str:
    """A provider type in words."""
    return PROVIDERS.get(kind, kind)


def user_label(user: dict[str, Any]) -> str:
    """The user's email, or what kind of user it is."""
    email = user_email(user)
    if email:
        return email
    kinds = providers_of(user)
    return f"{provider_name(kinds[0])} user" if kinds else "User"


# Page state and messages ----------------------------------------------------------------------


def set_view(name: str) -> None:
    """Show ``signin``, ``users`` or ``user`` (``<html data-view>``)."""
    document.documentElement.dataset.view = name


def announce(text: str) -> None:
    """Say ``text`` in the live region (emptied first, so the same words are said again)."""
    live = by_id("live")
    live.textContent = ""
    live.textContent = text


def show_error(target: str, message: str) -> None:
    """Show an error next to ``target`` (``#<target>-error``, role=alert)."""
    _set(f"{target}-error", message)
    _set(f"{target}-message", "")


def show_message(target: str, message: str) -> None:
    """Show good news next to ``target`` (``#<target>-message``, role=status)."""
    _set(f"{target}-error", "")
    _set(f"{target}-message", message)


def clear_messages(target: str) -> None:
    """Remove the error and message of ``target``."""
    _set(f"{target}-error", "")
    _set(f"{target}-message", "")


def _set(element_id: str, text: str) -> None:
    element = document.getElementById(element_id)
    if not absent(element):
        element.textContent = text


def set_busy(element_id: str, busy: bool) -> None:
    """``aria-busy`` on an element while its data loads or its action runs."""
    element = document.getElementById(element_id)
    if absent(element):
        return
    if busy:
        element.setAttribute("aria-busy", "true")
    else:
        element.removeAttribute("aria-busy")


def focus(element_id: str) -> None:
    """Move keyboard focus to an element (headings have ``tabindex=-1``)."""
    by_id(element_id).focus()


def show_signed_in(public_key: str, app_name: str) -> None:
    """The header's admin key and app, and its sign-out button."""
    by_id("who-key").textContent = public_key
    by_id("who-app").textContent = app_name
    by_id("who").hidden = False


def show_signed_out() -> None:
    """Hide the header's admin line; show the sign-in form."""
    by_id("who").hidden = True
    set_view("signin")


# The users table ------------------------------------------------------------------------------

USER_COLUMNS = ("Email or kind", "User id", "Providers", "Status", "Created", "Last sign-in")
PENDING_COLUMNS = ("Email", "Registration id", "Registered", "Actions")


def _head(columns: tuple[str, ...], sorted_by: str) -> Any:
    row = el("tr")
    for name in columns:
        cell = el("th", name, scope="col")
        if name == sorted_by:
            cell.setAttribute("aria-sort", "ascending")
        row.appendChild(cell)
    return row


def render_users(listing: Listing) -> None:
    """The table, its caption and the pager, from the listing's current page."""
    pending = listing.filters.kind == "pending"
    columns = PENDING_COLUMNS if pending else USER_COLUMNS
    by_id("users-head").replaceChildren(_head(columns, columns[1]))
    rows = [_pending_row(r) if pending else _user_row(r) for r in listing.rows]
    if not rows:
        empty = el("tr")
        empty.appendChild(el("td", "Nobody matches.", colspan=str(len(columns)), class_="empty"))
        rows = [empty]
    by_id("users-body").replaceChildren(*rows)
    what = "pending registrations" if pending else "users"
    if listing.filters.kind == "search":
        caption = f"{len(listing.rows)} {what} found for “{listing.filters.search}”"
    elif listing.rows:
        first = listing.first_row_number
        caption = f"{what.capitalize()} {first} to {first + len(listing.rows) - 1}, in id order"
        if listing.has_next:
            caption += "; more follow"
    else:
        caption = f"No {what} here"
    by_id("users-summary").textContent = caption + "."
    by_id("page-prev").disabled = listing.page_number < 2
    by_id("page-next").disabled = not listing.has_next
    by_id("page-info").textContent = ("" if listing.filters.kind == "search"
                                      else f"Page {listing.page_number}")


def _user_row(user: dict[str, Any]) -> Any:
    row = el("tr")
    label = user_label(user)
    user_id = str(user.get("_id", ""))
    first = el("td")
    first.appendChild(el("button", label, type="button", class_="open", data_open=user_id,
                         data_focus_key=f"open:{user_id}", aria_label=f"Open {label}"))
    row.appendChild(first)
    ident = el("td")
    ident.appendChild(el("code", user_id))
    row.appendChild(ident)
    row.appendChild(el("td", ", ".join(provider_name(p) for p in providers_of(user))))
    disabled = bool(user.get("disabled"))
    row.appendChild(el("td", "Disabled" if disabled else "Enabled",
                       class_="state-disabled" if disabled else ""))
    row.appendChild(el("td", when(user.get("creation_date"))))
    row.appendChild(el("td", when(user.get("last_authentication_date"))))
    return row


def _pending_row(item: dict[str, Any]) -> Any:
    email = pending_email(item)
    row = el("tr")
    row.appendChild(el("td", email))
    code = el("td")
    code.appendChild(el("code", str(item.get("_id", ""))))
    row.appendChild(code)
    row.appendChild(el("td", when(item.get("creation_date"))))
    cell = el("td")
    box = el("div", None, class_="actions")
    for text, action, spoken in (("Confirm", "confirm", "Confirm {}"),
                                 ("Send the confirmation again", "resend",
                                  "Send the confirmation to {} again"),
                                 ("Delete", "delete-pending", "Delete the registration of {}")):
        box.appendChild(el("button", text, type="button", data_pending=action, data_email=email,
                           aria_label=spoken.format(email),
                           class_="danger" if action == "delete-pending" else ""))
    cell.appendChild(box)
    row.appendChild(cell)
    return row


# A user's page --------------------------------------------------------------------------------


def _table(columns: tuple[str, ...], rows: list[list[str]], caption: str,
           empty: str) -> Any:
    if not rows:
        return el("p", empty, class_="hint")
    wrap = el("div", None, class_="table-wrap")
    table = el("table")
    table.appendChild(el("caption", caption, class_="visually-hidden"))
    head = el("thead")
    head.appendChild(_head(columns, ""))
    table.appendChild(head)
    body = el("tbody")
    for values in rows:
        row = el("tr")
        for value in values:
            row.appendChild(el("td", value))
        body.appendChild(row)
    table.appendChild(body)
    wrap.appendChild(table)
    return wrap


def render_user(user: dict[str, Any]) -> None:
    """The user's heading, facts, identities and the labels of its actions."""
    label = user_label(user)
    disabled = bool(user.get("disabled"))
    by_id("user-title").textContent = label
    facts = el("dl")
    for term, value in (("User id", str(user.get("_id", ""))),
                        ("Type", str(user.get("type", ""))),
                        ("Status", "Disabled" if disabled else "Enabled"),
                        ("Created", when(user.get("creation_date"))),
                        ("Last sign-in", when(user.get("last_authentication_date")))):
        facts.appendChild(el("dt", term))
        facts.appendChild(el("dd", value, id=f"user-fact-{term.lower().replace(' ', '-')}"))
    by_id("user-summary").replaceChildren(facts)
    toggle = by_id("user-toggle")
    toggle.textContent = "Enable" if disabled else "Disable"
    toggle.setAttribute("aria-label", f"{'Enable' if disabled else 'Disable'} {label}")
    by_id("user-reset").hidden = not user_email(user) or "local-userpass" not in providers_of(user)
    identities = [[provider_name(str(i.get("provider_type", ""))), str(i.get("id", "")),
                   json.dumps(i.get("provider_data") or {}, ensure_ascii=False)]
                  for i in user.get("identities") or []]
    by_id("user-identities").replaceChildren(_table(
        ("Provider", "Identity id", "Provider data"), identities, "Identities",
        "No identities."))


def render_devices(devices: list[dict[str, Any]]) -> None:
    """The user's devices with their live sessions."""
    rows = [[str(d.get("_id", "")), str(d.get("sessions", 0)), when(d.get("first_session_date")),
             when(d.get("last_session_date"))] for d in devices]
    by_id("user-devices").replaceChildren(_table(
        ("Device id", "Live sessions", "First session", "Latest session"), rows,
        "Devices and sessions", "No live sessions."))


def render_keys(keys: list[dict[str, Any]]) -> None:
    """The user's API keys (names and states)."""
    rows = [[str(k.get("name", "")), str(k.get("_id", "")),
             "Disabled" if k.get("disabled") else "Enabled"] for k in keys]
    by_id("user-keys").replaceChildren(_table(("Name", "Key id", "State"), rows, "API keys",
                                              "No API keys."))


def render_custom_data(document_: dict[str, Any] | None, note: str = "") -> None:
    """The custom data editor; ``None`` with a ``note`` when the server has none to edit."""
    area = by_id("custom-json")
    area.removeAttribute("aria-invalid")
    area.disabled = document_ is None
    area.value = "" if document_ is None else json.dumps(document_, indent=2, sort_keys=True,
                                                         ensure_ascii=False)
    by_id("custom-form").querySelector("button").disabled = document_ is None
    _set("custom-form-message", note)


def render_audit(events: list[dict[str, Any]] | None) -> None:
    """The user's audit trail, newest first; hidden when the server has no audit log."""
    by_id("user-audit-section").hidden = events is None
    rows = [[when(e.get("time")), str(e.get("kind", "")), str(e.get("provider") or ""),
             str(e.get("address") or ""), str(e.get("reason") or e.get("actor") or "")]
            for e in events or []]
    table = _table(("Time", "Event", "Provider", "Address", "Reason or admin key"), rows,
                   "Audit trail", "No events recorded for this user.")
    if len(rows) >= AUDIT_ROWS:
        by_id("user-audit").replaceChildren(table, el(
            "p", f"The latest {AUDIT_ROWS} events; the Admin API's audit_log route pages "
                 "through older ones.", class_="hint"))
    else:
        by_id("user-audit").replaceChildren(table)


# Activity charts ------------------------------------------------------------------------------


def _full_hour(start: int) -> str:
    return time.strftime("%d %b %H:00", time.gmtime(start))


def _figure(title: str, node: chart.Node, legend: list[tuple[str, str]],
            columns: tuple[str, ...], rows: list[list[str]], figure_id: str) -> Any:
    figure = el("figure", None, id=figure_id)
    figure.appendChild(el("figcaption", title))
    figure.appendChild(svg(node))
    keys = el("ul", None, class_="legend", aria_hidden="true")
    for name, css in legend:
        item = el("li")
        item.appendChild(el("span", None, class_=f"swatch {css}"))
        item.appendChild(document.createTextNode(name))
        keys.appendChild(item)
    figure.appendChild(keys)
    more = el("details")
    more.appendChild(el("summary", "Show the numbers as a table"))
    more.appendChild(_table(columns, rows, title, "No data."))
    figure.appendChild(more)
    return figure


def render_activity(stats: dict[str, Any] | None) -> None:
    """Sign-ins and sign-ups per day and failed logins per hour; the section hides when the
    server has no audit log."""
    by_id("activity").hidden = stats is None
    if stats is None:
        return
    days, sign_ins = chart.series_of(stats["sign_ins_per_day"], "sign-ins")
    _, sign_ups = chart.series_of(stats["sign_ups_per_day"], "sign-ups")
    hours, failed = chart.series_of(stats["failed_logins_per_hour"], "failed logins")
    day_span, hour_span = f"{len(days)} days", f"{len(hours)} hours"
    daily_name = " ".join((chart.summary(sign_ins, days, day_span),
                           chart.summary(sign_ups, days, day_span)))
    hourly_name = chart.summary(failed, hours, hour_span, _full_hour)
    daily = chart.bar_chart(days, [sign_ins, sign_ups], daily_name, max(1, len(days) // 6))
    hourly = chart.bar_chart(hours, [failed], hourly_name, max(1, len(hours) // 8),
                             chart.hour_label)
    hourly.attrs["class"] += " failed"
    box = el("div", None, class_="charts")
    box.appendChild(_figure(f"Sign-ins and sign-ups per day (last {day_span}, UTC)", daily,
                            [("Sign-ins", "series-0"), ("Sign-ups", "series-1")],
                            ("Day", "Sign-ins", "Sign-ups"),
                            chart.table_rows(days, [sign_ins, sign_ups]), "chart-daily"))
    box.appendChild(_figure(f"Failed logins per hour (last {hour_span}, UTC)", hourly,
                            [("Failed logins", "failed")], ("Hour", "Failed logins"),
                            chart.table_rows(hours, [failed], _full_hour), "chart-hourly"))
    by_id("activity-charts").replaceChildren(box)
    by_id("activity-note").textContent = "From the audit log; times in UTC."

