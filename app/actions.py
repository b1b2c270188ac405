"""What every page's Python shares: the ``Page`` state and running one action for a form.

``Page.act`` is the one place where an action's errors become words: it marks the form busy,
runs the handler (which calls one SDK coroutine), shows ``messages.friendly(err)`` for an
``AppError`` next to the form, and re-renders from the SDK's state (STYLE rule 11).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pyscript import document, when, window

from app import fields, ui
from app.messages import friendly
from app.sdk import App, AppError, Credentials, ErrorCode, User, UserState
from app.sdk.adapters.browser import FetchTransport, LocalStorage, PopupOpener, WebLocks
from app.sdk.oauth import WindowOpener
from app.sdk.providers import AuthProviderInfo

logger = logging.getLogger("app.pages")

APP_ID = str(document.documentElement.dataset.appId or "latchkey-demo")
STORAGE_PREFIX = f"realm-web:app({APP_ID}):"
Handler = Callable[[], Awaitable[object]]


class Invalid(Exception):
    """Input the page can refuse before asking the server; its text is shown as is.

    ``fields`` lists ``(field id, message)`` pairs: then each message goes under its field
    (``app.fields.mark``) instead of next to the form, and focus moves to the first field.
    """

    def __init__(self, message: str, fields: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


def check(*fields: tuple[str, str | None]) -> None:
    """Raise ``Invalid`` for every field whose problem is not ``None`` (``app.fields``)."""
    problems = [(field, problem) for field, problem in fields if problem is not None]
    if problems:
        raise Invalid(problems[0][1], problems)


def make_app(window_opener: WindowOpener | None = None) -> App:
    """The SDK app for this page, its users rebuilt from ``localStorage``.

    Social logins open a popup unless ``window_opener`` says otherwise (``PageRedirect()``
    when the browser blocks popups).
    """
    origin = str(window.location.origin)
    return App(APP_ID, base_url=origin, transport=FetchTransport(), storage=LocalStorage(),
               window_opener=window_opener or PopupOpener(), refresh_lock=WebLocks())


# The SDK's factory of redirect-flow credentials for each kind of social provider; any other
# (``oidc``, ``oidc-<name>``) is a generic OpenID Connect provider.
_SOCIAL_CREDENTIALS: dict[str, Callable[..., Credentials]] = {
    "oauth2-google": Credentials.google,
    "oauth2-apple": Credentials.apple,
    "oauth2-facebook": Credentials.facebook,
}


def social_credentials(provider: AuthProviderInfo) -> Credentials:
    """Credentials that log in with a social provider by the redirect flow, back to this page.

    The provider returns the browser to this very page (``index.html`` calls
    ``handle_auth_redirect()`` first thing), so the page's address must be on the server's
    ``[oauth] redirect_uris`` list.
    """
    here = str(window.location.origin) + str(window.location.pathname)
    factory = _SOCIAL_CREDENTIALS.get(provider.type)
    if factory is not None:
        return factory(redirect_url=here)
    return Credentials.oidc(provider.name, redirect_url=here)


class Page:
    """The page's state: the ``App``, what the view shows, and whether an action is running."""

    def __init__(self, *, renders: bool = True) -> None:
        self.renders = renders
        self.view = ui.ViewState()
        self.running = 0
        self.stale = False
        self._busy: set[str] = set()
        self.app = self._new_app()
        self._tasks: set[asyncio.Future[None]] = set()

    def _new_app(self) -> App:
        app = make_app()
        app.add_listener(lambda event: self.render())
        return app

    def render(self) -> str:
        """Re-render the page from the SDK's state (the link pages have nothing to render)."""
        if not self.renders:
            return ""
        if self.view.confirm_delete and self.find(self.view.confirm_delete) is None:
            self.view.confirm_delete = None
        return ui.render(self.app, self.view)

    def find(self, user_id: str) -> User | None:
        """The listed user with this id."""
        return next((u for u in self.app.all_users if u.id == user_id), None)

    def resync(self) -> None:
        """Another tab changed the sessions: rebuild from storage, now or after the action."""
        if self.running:
            self.stale = True
            return
        self.stale = False
        self.app = self._new_app()
        self.render()

    def spawn(self, awaitable: Awaitable[None]) -> None:
        """Run a coroutine as a task and keep it referenced until it ends."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def act(self, target: str, action: str, handler: Handler) -> None:
        """Start one action for the form (or region) ``target``, unless one is running there.

        Runs synchronously inside the browser event, so the busy marker and the cleared
        messages are in place before the event returns; the SDK call runs in a task.
        """
        if target in self._busy:
            return  # A second submit while the first is still running.
        self._busy.add(target)
        self.running += 1
        ui.set_busy(target, True)
        # Messages of earlier actions, anywhere on the page, would now mislead.
        ui.clear_all_messages()
        fields.clear_all()
        self.spawn(self._run(target, action, handler))

    async def _run(self, target: str, action: str, handler: Handler) -> None:
        try:
            await handler()
        except Invalid as err:
            if err.fields:
                fields.mark(err.fields)
            else:
                ui.show_error(target, str(err))
        except AppError as err:
            logger.info("%s failed: %s", action, err.message)
            ui.show_error(target, friendly(err, action))
        except Exception:
            logger.exception("%s failed", action)
            ui.show_error(target, "Something went wrong on this page. Reload it and try again.")
        finally:
            self._busy.discard(target)
            self.running -= 1
            ui.set_busy(target, False)
            if self.stale and not self.running:
                self.resync()
            else:
                self.render()
            ui.rescue_focus()


_page: Page | None = None


def start_page(*, renders: bool = True) -> Page:
    """Create the page's one ``Page``."""
    global _page
    _page = Page(renders=renders)
    return _page


def page() -> Page:
    """The page's ``Page``."""
    if _page is None:
        raise RuntimeError("The page is not started yet.")
    return _page


def show_signed_in() -> None:
    """After a login: show the new current account and move keyboard focus to it."""
    current = page()
    current.view.adding = False
    current.render()
    ui.focus("account-title")


def on_submit(form_id: str, action: str) -> Callable[[Handler], Handler]:
    """Run the decorated coroutine when the form is submitted, through ``Page.act``."""

    def decorate(handler: Handler) -> Handler:
        def listener(event: Any) -> None:
            # Synchronously, before any await: the browser must not submit the form itself.
            event.preventDefault()
            page().act(form_id, action, handler)

        when("submit", f"#{form_id}")(listener)
        return handler

    return decorate


def email_field(field: str) -> str:
    """The trimmed email address typed in ``field``; ``Invalid`` when it cannot be one."""
    email = ui.value(field).strip()
    check((field, fields.email_problem(email)))
    return email


def new_password(field: str) -> str:
    """The new password typed in ``field``; ``Invalid`` when its length is not allowed."""
    password = ui.value(field)
    check((field, fields.password_problem(password, new=True)))
    return password


def email_and_password(email_id: str, password_id: str, *, new: bool) -> tuple[str, str]:
    """Both fields checked at once (each problem under its field), or ``Invalid``."""
    email, password = ui.value(email_id).strip(), ui.value(password_id)
    check((email_id, fields.email_problem(email)),
          (password_id, fields.password_problem(password, new=new)))
    return email, password


async def log_in_and_show(credentials: Credentials) -> User:
    """Log in and show the account; says so when that account was already signed in here."""
    app = page().app
    before = {u.id for u in app.all_users if u.state is UserState.LOGGED_IN}
    user = await app.log_in(credentials)
    show_signed_in()
    if user.id in before:
        from app.messages import user_label

        ui.show_message("account", f"You were already signed in as {user_label(user)} on this "
                                   "device; it is now the active account.")
    return user


def current_user() -> User:
    """The signed-in user the account panel shows; ``Invalid`` when there is none any more."""
    user = page().app.current_user
    if user is None:
        raise Invalid("Nobody is signed in on this page any more.")
    return user


def confirmation_pending(err: AppError) -> bool:
    """Whether a login failed only because the email address is not confirmed yet."""
    return err.code is ErrorCode.AUTH_ERROR and "confirmation required" in err.error
