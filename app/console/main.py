"""The admin console's entry point (``admin.html``): sign in with an admin key, the users table,
a user's page and its actions, the activity charts.

Rules that must hold (STYLE rule 11, as on ``index.html``):

1. A handler calls ``AdminClient`` and lets ``AppError`` reach ``Console.act``, which shows it in
   words next to the form or panel that started it, marks that region ``aria-busy`` meanwhile,
   and ignores a second click while the first runs.
2. Nothing here holds a token: ``AdminClient`` keeps the session in ``sessionStorage`` and ends
   it itself when a refresh is refused (``on_signed_out`` then shows the sign-in form).
3. Keyboard focus always lands somewhere sensible: the heading of the view that opens, the
   button that opened the delete dialog when it closes, the row of the user one came back from.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pyodide.ffi import create_proxy
from pyscript import document, when, window

try:
    import js

    from app.console import view
    from app.console.client import AdminClient, SessionEnded
    from app.console.listing import Filters, Listing, user_email
    from app.sdk import AppError, ErrorCode
    from app.sdk.adapters.browser import FetchTransport, LocalStorage
except Exception:
    document.getElementById("status").textContent = (
        "The console could not start. Reload the page to try again.")
    document.documentElement.dataset.ready = "failed"
    raise

logger = logging.getLogger("app.console")
Handler = Callable[[], Awaitable[object]]
SESSION_ENDED = "Your admin session has ended. Sign in again."


class Invalid(Exception):
    """Input refused before asking the server; its text is shown as is."""


def friendly(err: AppError, action: str) -> str:
    """An ``AppError`` in words for the console."""
    if err.code is ErrorCode.NETWORK_ERROR:
        return "The server could not be reached. Check the connection and try again."
    if action == "sign-in" and err.status == 401:
        return ("That admin key was refused. Check the public and the private key, and that "
                "the key is enabled (python serve.py admin-keys list).")
    if action == "sign-in" and err.status == 429:
        return "Too many attempts. Wait a minute, then try again."
    if err.code is ErrorCode.USER_NOT_FOUND:
        return "That user or registration no longer exists. The list has been refreshed."
    detail = err.error or err.code.value
    return f"The server refused: {detail} (HTTP {err.status})."


class Console:
    """The page's state: the Admin API client, the table, the user shown, running actions."""

    def __init__(self) -> None:
        storage = LocalStorage("latchkey-admin", backend=js.sessionStorage)
        self.client = AdminClient(str(window.location.origin), transport=FetchTransport(),
                                  storage=storage, on_signed_out=self.signed_out)
        self.listing = Listing()
        self.user: dict[str, Any] | None = None
        self._busy: set[str] = set()
        self._queued: dict[str, tuple[str, Handler, str]] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    def spawn(self, awaitable: Awaitable[None]) -> None:
        """Run a coroutine as a task and keep it referenced until it ends."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def act(self, target: str, action: str, handler: Handler, busy: str = "", *,
            queue: bool = False) -> None:
        """Run one action whose messages go next to ``target`` (``busy``: the element marked
        ``aria-busy``, ``target`` by default), unless one is running there already; with
        ``queue``, it runs when that one ends instead (the last one queued wins)."""
        if target in self._busy:
            if queue:
                self._queued[target] = (action, handler, busy)
            return
        self._busy.add(target)
        view.set_busy(busy or target, True)
        view.clear_messages(target)
        self.spawn(self._run(target, action, handler, busy or target))

    async def _run(self, target: str, action: str, handler: Handler, busy: str) -> None:
        try:
            await handler()
        except Invalid as err:
            view.show_error(target, str(err))
        except SessionEnded:
            pass  # signed_out() has shown the sign-in form and said why.
        except AppError as err:
            logger.info("%s failed: %s", action, err.message)
            view.show_error(target, friendly(err, action))
        except Exception:
            logger.exception("%s failed", action)
            view.show_error(target, "Something went wrong on this page. Reload it and try "
                                    "again.")
        finally:
            self._busy.discard(target)
            view.set_busy(busy, False)
            queued = self._queued.pop(target, None)
            if queued is not None:
                self.act(target, queued[0], queued[1], queued[2])

    def signed_out(self) -> None:
        """The session ended on the server: back to the sign-in form, saying so."""
        self.user = None
        view.show_signed_out()
        view.show_error("key-form", SESSION_ENDED)
        view.focus("signin-title")

    # Users --------------------------------------------------------------------------------

    async def load_users(self) -> None:
        """Fetch the listing's current page and show it."""
        view.set_busy("users-table", True)
        try:
            await self.listing.load(self.client)
        finally:
            view.set_busy("users-table", False)
        view.render_users(self.listing)
        view.announce(str(view.by_id("users-summary").textContent))

    async def load_activity(self) -> None:
        """The charts (hidden when the server keeps no audit log)."""
        try:
            view.render_activity(await self.client.audit_stats())
        except AppError as err:
            logger.info("The activity charts could not load: %s", err.message)
            view.by_id("activity-note").textContent = "The activity could not be loaded."

    def filters(self) -> Filters:
        """The filters as the form shows them."""
        return Filters(status=str(view.by_id("filter-status").value),
                       provider=str(view.by_id("filter-provider").value),
                       search=str(view.by_id("search-text").value).strip())

    def apply_filters(self) -> None:
        """Back to the first page with the form's filters and page size."""
        def start() -> Awaitable[None]:
            self.listing.restart(self.filters(), int(view.by_id("page-size").value))
            return self.load_users()

        # A filter changed while the table loads is applied when that load ends, not lost.
        self.act("users", "search", start, "users-table", queue=True)

    async def show_users(self) -> None:
        """The users view, signed in."""
        session = self.client.session
        if session is None:
            return
        view.show_signed_in(session.public_key, session.app_name)
        view.set_view("users")
        self.spawn(self.load_activity())
        await self.load_users()

    # A user's page ---------------------------------------------------------------------------

    async def open_user(self, user_id: str) -> None:
        """Show one user's page, then fill its sections as their answers arrive."""
        self.user = await self.client.user(user_id)
        view.render_user(self.user)
        for section in ("identities", "devices", "keys", "audit"):
            view.set_busy(f"user-{section}", True)
        view.render_devices([])
        view.render_keys([])
        view.render_custom_data({}, "")
        view.clear_messages("user")
        view.clear_messages("custom-form")
        view.set_view("user")
        view.focus("user-title")
        view.announce(f"Showing {view.user_label(self.user)}.")
        await asyncio.gather(self._devices(user_id), self._keys(user_id),
                             self._custom(user_id), self._audit(user_id))

    async def _section(self, name: str, load: Handler) -> None:
        try:
            await load()
        except SessionEnded:
            raise
        except AppError as err:
            view.show_error("user", friendly(err, name))
        finally:
            view.set_busy(f"user-{name}", False)

    async def _devices(self, user_id: str) -> None:
        async def go() -> None:
            view.render_devices(await self.client.devices(user_id))
        await self._section("devices", go)

    async def _keys(self, user_id: str) -> None:
        async def go() -> None:
            view.render_keys(await self.client.api_keys(user_id))
        await self._section("keys", go)

    async def _audit(self, user_id: str) -> None:
        async def go() -> None:
            view.render_audit(await self.client.audit_events(user_id=user_id))
        await self._section("audit", go)

    async def _custom(self, user_id: str) -> None:
        try:
            view.render_custom_data(await self.client.custom_data(user_id))
        except AppError as err:
            if err.status != 400:
                raise
            view.render_custom_data(None, "Custom user data is not enabled on this server.")

    def current(self) -> dict[str, Any]:
        """The user whose page is shown."""
        if self.user is None:
            raise Invalid("No user is open.")
        return self.user

    async def reload_user(self) -> None:
        """Fetch the open user again (after an action) and re-render its summary."""
        self.user = await self.client.user(str(self.current()["_id"]))
        view.render_user(self.user)


def wire_signin(console: Console) -> None:
    """Sign in and out."""

    @when("submit", "#key-form")
    def submit(event: Any) -> None:
        event.preventDefault()

        async def go() -> None:
            public = str(view.by_id("key-public").value).strip()
            private = str(view.by_id("key-private").value).strip()
            if not public or not private:
                raise Invalid("Enter both the public key and the private key.")
            await console.client.log_in(public, private)
            view.by_id("key-private").value = ""
            await console.show_users()
            view.focus("users-title")

        console.act("key-form", "sign-in", go)

    @when("click", "#sign-out")
    def sign_out(event: Any) -> None:
        async def go() -> None:
            await console.client.log_out()
            console.user = None
            view.show_signed_out()
            view.show_message("key-form", "Signed out.")
            view.focus("signin-title")

        console.act("key-form", "sign-out", go)


def wire_users(console: Console) -> None:
    """The search form, filters, pager and the table's buttons."""

    @when("submit", "#search-form")
    def search(event: Any) -> None:
        event.preventDefault()
        console.apply_filters()

    for control in ("filter-status", "filter-provider", "page-size"):
        when("change", f"#{control}")(lambda event: console.apply_filters())

    @when("click", "#search-clear")
    def clear(event: Any) -> None:
        view.by_id("search-text").value = ""
        console.apply_filters()
        view.focus("search-text")

    def page(forward: bool) -> None:
        async def go() -> None:
            moved = console.listing.forward() if forward else console.listing.back()
            if moved:
                await console.load_users()
            # The button pressed may be disabled now (first or last page): keep focus in the pager.
            here, other = ("page-next", "page-prev") if forward else ("page-prev", "page-next")
            if view.by_id(here).disabled:
                view.focus(other if not view.by_id(other).disabled else "users-title")

        console.act("users", "page", go, "users-table")

    when("click", "#page-next")(lambda event: page(True))
    when("click", "#page-prev")(lambda event: page(False))

    @when("click", "#users-body")
    def table_click(event: Any) -> None:
        button = event.target.closest("button")
        if view.absent(button):
            return
        opened = button.getAttribute("data-open")
        if not view.absent(opened):
            console.act("users", "open", lambda: console.open_user(str(opened)), "users-table")
            return
        action, email = button.getAttribute("data-pending"), button.getAttribute("data-email")
        if not view.absent(action):
            console.act("users", str(action), lambda: pending(str(action), str(email)),
                        "users-table")

    async def pending(action: str, email: str) -> None:
        client = console.client
        if action == "confirm":
            await client.confirm_pending(email)
            done = f"{email} is confirmed and can sign in."
        elif action == "resend":
            await client.rerun_confirmation(email)
            done = f"The confirmation was sent to {email} again."
        else:
            await client.delete_pending(email)
            done = f"The registration of {email} was deleted."
        await console.load_users()
        view.show_message("users", done)
        view.focus("users-title")


def wire_user(console: Console) -> None:
    """A user's page: back, its actions, the delete dialog and the custom data editor."""

    @when("click", "#back-to-users")
    def back(event: Any) -> None:
        async def go() -> None:
            user_id = str(console.current()["_id"]) if console.user else ""
            console.user = None
            view.set_view("users")
            await console.load_users()
            row = document.querySelector(f'[data-focus-key="open:{user_id}"]')
            if view.absent(row):
                view.focus("users-title")
            else:
                row.focus()

        console.act("users", "back", go, "users-table")

    def action(button_id: str, name: str, work: Callable[[dict[str, Any]], Awaitable[str]]
               ) -> None:
        def clicked(event: Any) -> None:
            async def go() -> None:
                done = await work(console.current())
                await console.reload_user()
                view.show_message("user", done)

            console.act("user", name, go, button_id)

        when("click", f"#{button_id}")(clicked)

    async def toggle(user: dict[str, Any]) -> str:
        disable = not user.get("disabled")
        await console.client.set_disabled(str(user["_id"]), disable)
        await console._devices(str(user["_id"]))
        label = view.user_label(user)
        return (f"{label} is disabled; their sessions have ended." if disable
                else f"{label} is enabled again.")

    async def revoke(user: dict[str, Any]) -> str:
        await console.client.revoke_sessions(str(user["_id"]))
        await console._devices(str(user["_id"]))
        return f"Every session of {view.user_label(user)} has ended."

    async def reset(user: dict[str, Any]) -> str:
        email = user_email(user)
        await console.client.send_reset(email)
        return f"A link to choose a new password was sent to {email}."

    async def reset_factors(user: dict[str, Any]) -> str:
        await console.client.reset_factors(str(user["_id"]))
        return (f"Two-step verification of {view.user_label(user)} is reset: their "
                "authenticator and recovery codes are removed (passkeys stay).")

    action("user-toggle", "toggle", toggle)
    action("user-revoke", "revoke", revoke)
    action("user-reset", "reset", reset)
    action("user-factors", "factors", reset_factors)
    wire_delete(console)
    wire_custom_data(console)


def wire_delete(console: Console) -> None:
    """Delete with confirmation: a modal dialog (Escape or Cancel closes it, focus goes back)."""
    dialog = view.by_id("delete-dialog")

    @when("click", "#user-delete")
    def ask(event: Any) -> None:
        label = view.user_label(console.current())
        view.by_id("delete-title").textContent = f"Delete {label}?"
        view.by_id("delete-text").textContent = (
            f"{label} is deleted for good, with their identities, sessions, API keys and "
            "email/password account. This cannot be undone.")
        dialog.showModal()
        view.focus("delete-cancel")

    when("click", "#delete-cancel")(lambda event: dialog.close())

    def closed(event: Any) -> None:
        if document.documentElement.dataset.view == "user":
            view.focus("user-delete")

    dialog.addEventListener("close", create_proxy(closed))

    @when("click", "#delete-confirm")
    def confirm(event: Any) -> None:
        async def go() -> None:
            user = console.current()
            await console.client.delete_user(str(user["_id"]))
            console.user = None
            dialog.close()
            view.set_view("users")
            await console.load_users()
            view.show_message("users", f"{view.user_label(user)} was deleted.")
            view.focus("users-title")

        console.act("user", "delete", go, "delete-confirm")


def wire_custom_data(console: Console) -> None:
    """Save custom data typed as JSON, refused here unless it is a JSON object."""

    @when("submit", "#custom-form")
    def save(event: Any) -> None:
        event.preventDefault()

        async def go() -> None:
            area = view.by_id("custom-json")
            try:
                value = json.loads(str(area.value) or "{}")
            except ValueError as err:
                area.setAttribute("aria-invalid", "true")
                raise Invalid(f"This is not valid JSON: {err}.") from None
            if not isinstance(value, dict):
                area.setAttribute("aria-invalid", "true")
                raise Invalid('Custom data must be a JSON object, like {"plan": "pro"}.')
            area.removeAttribute("aria-invalid")
            await console.client.set_custom_data(str(console.current()["_id"]), value)
            view.render_custom_data(await console.client.custom_data(
                str(console.current()["_id"])))
            view.show_message("custom-form", "Custom data saved.")

        console.act("custom-form", "custom-data", go)


def start() -> None:
    """Wire the page; show the users at once when this tab is still signed in."""
    console = Console()
    wire_signin(console)
    wire_users(console)
    wire_user(console)
    for element in document.querySelectorAll(".live"):
        element.disabled = False
    view.by_id("page-prev").disabled = True
    view.by_id("page-next").disabled = True
    if console.client.session is not None:
        console.act("users", "start", console.show_users, "users-table")
    else:
        view.set_view("signin")
    view.by_id("status").textContent = "Ready."
    document.documentElement.dataset.ready = "true"


try:
    start()
except Exception:
    logger.exception("The console could not start")
    view.by_id("status").textContent = "The console could not start. Reload the page to try again."
    document.documentElement.dataset.ready = "failed"
