"""Tier (a): the listener emitter: sync and async listeners, faulty ones logged and ignored."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.sdk.events import Emitter, Event, EventType

from .runner import in_clean_thread, run


def test_sync_listeners_in_order_once_each() -> None:
    emitter, seen = Emitter(), list[Event]()

    def listener(event: Event) -> None:
        seen.append(event)

    emitter.add(listener)
    emitter.add(listener)
    emitter.emit(EventType.USER_ADDED, None)
    assert seen == [Event(EventType.USER_ADDED, None)]
    emitter.remove(listener)
    emitter.remove(listener)
    emitter.emit(EventType.USER_ADDED, None)
    assert len(seen) == 1


def test_raising_listeners_are_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emitter, seen = Emitter(), list[Event]()

    def boom(event: Event) -> None:
        raise RuntimeError("boom")

    emitter.add(boom)
    emitter.add(seen.append)
    with caplog.at_level(logging.ERROR, logger="app.sdk"):
        emitter.emit(EventType.LOGGED_OUT, None)
    assert len(seen) == 1 and "A listener for loggedOut raised" in caplog.text


def test_async_listeners_run_as_tasks(caplog: pytest.LogCaptureFixture) -> None:
    emitter, seen = Emitter(), list[str]()

    async def listener(event: Event) -> None:
        seen.append(event.type)

    async def faulty(event: Event) -> None:
        raise RuntimeError("async boom")

    emitter.add(listener)
    emitter.add(faulty)

    async def main() -> None:
        emitter.emit(EventType.TOKENS_REFRESHED, None)
        assert seen == []
        await asyncio.sleep(0.01)

    with caplog.at_level(logging.ERROR, logger="app.sdk"):
        run(main())
    assert seen == ["tokensRefreshed"]
    assert "An async listener for tokensRefreshed raised" in caplog.text


def test_async_listeners_without_a_loop_are_skipped_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emitter = Emitter()

    async def listener(event: Event) -> None:
        raise AssertionError("never runs")

    emitter.add(listener)
    with caplog.at_level(logging.WARNING, logger="app.sdk"):
        # No "never awaited" warning may escape (pytest turns warnings into errors).
        in_clean_thread(emitter.emit, EventType.CURRENT_USER_CHANGED, None)
    assert "skipped: no event loop" in caplog.text


def test_listeners_must_be_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        Emitter().add("nope")  # type: ignore[arg-type]
