"""Events: what ``App`` and ``User`` listeners hear, and the emitter that calls them.

Listeners may be plain or async callables taking one ``Event``. A listener that raises is logged
and ignored, so one faulty listener never breaks a login. Async listeners run as tasks on the
running event loop; the SDK does not wait for them. Standard library only.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .user import User

logger = logging.getLogger("app.sdk")


class EventType(StrEnum):
    """The kinds of event. The first three reach ``App`` listeners, the rest ``User`` listeners."""

    CURRENT_USER_CHANGED = "currentUserChanged"
    USER_ADDED = "userAdded"
    USER_REMOVED = "userRemoved"
    TOKENS_REFRESHED = "tokensRefreshed"
    LOGGED_OUT = "loggedOut"
    PROFILE_CHANGED = "profileChanged"
    CUSTOM_DATA_CHANGED = "customDataChanged"


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its type and the user it is about (``None`` when the current user became none).

    ```python
    def on_change(event: Event) -> None:
        if event.type is EventType.CURRENT_USER_CHANGED:
            render(app)

    app.add_listener(on_change)
    ```
    """

    type: EventType
    user: User | None


Listener = Callable[[Event], object]

# Strong references to running async listeners: the event loop keeps only weak ones.
_pending: set[asyncio.Future[None]] = set()


class Emitter:
    """An ordered set of listeners."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        """Add a listener; adding the same one twice has no effect."""
        if not callable(listener):
            raise TypeError("A listener must be a callable that takes one Event.")
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        """Remove a listener; removing an unknown one has no effect."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, event_type: EventType, user: User | None) -> None:
        """Call every listener with one ``Event``."""
        event = Event(event_type, user)
        for listener in list(self._listeners):
            try:
                result = listener(event)
            except Exception:
                logger.exception("A listener for %s raised; it was ignored.", event_type.value)
                continue
            if inspect.isawaitable(result):
                _schedule(result, event_type)


def _schedule(awaitable: Awaitable[Any], event_type: EventType) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # Without a loop the coroutine could never run; close it so no warning leaks out.
        close = getattr(awaitable, "close", None)
        if callable(close):
            close()
        logger.warning("An async listener for %s was skipped: no event loop.", event_type.value)
        return
    task = asyncio.ensure_future(_guard(awaitable, event_type))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _guard(awaitable: Awaitable[Any], event_type: EventType) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("An async listener for %s raised; it was ignored.", event_type.value)
