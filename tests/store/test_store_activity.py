"""The ``Store`` contract for the audit log and users' session lists, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.store import Store
from server.store.base import AuditEvent, AuditQuery, Session, SessionInfo, UserRecord

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0
DAY = 86400.0


def event(n: int, kind: str = "login", at: float = T0, user_id: str | None = "u1",
          **more: object) -> AuditEvent:
    return AuditEvent(f"{int(at * 1e6):016x}{n:08x}", at, kind, user_id, **more)  # type: ignore[arg-type]


async def with_sessions(store: Store, *ids: str, user_id: str = "u1") -> None:
    if await store.get_user(user_id) is None:
        await store.create_user(UserRecord(user_id, "normal", False, T0), None)
    for i, sid in enumerate(ids):
        await store.create_session(Session(sid, user_id, "h" + sid, f"d{i}", T0 + i, T0 + DAY))


async def test_events_round_trip_with_every_field(store: Store) -> None:
    full = event(1, "login_error", user_id=None, provider="local-userpass", address="192.0.2.7",
                 device_id="d" * 24, reason="InvalidPassword", actor="key1",
                 detail={"email": "a@example.com", "new_user": False})
    await store.write_activity([full], [])
    assert await store.list_audit_events(AuditQuery()) == [full]


async def test_events_page_newest_first_and_filter(store: Store) -> None:
    events = [event(i, "login" if i % 2 else "logout", at=T0 + i, user_id=f"u{i % 3}")
              for i in range(10)]
    await store.write_activity(events, [])
    page = await store.list_audit_events(AuditQuery(limit=4))
    assert page == events[::-1][:4]
    rest = await store.list_audit_events(AuditQuery(before=page[-1].id, limit=100))
    assert rest == events[::-1][4:]
    assert await store.list_audit_events(AuditQuery(user_id="u1")) == \
        [e for e in events[::-1] if e.user_id == "u1"]
    assert await store.list_audit_events(AuditQuery(kinds=("logout",), since=T0 + 2,
                                                    until=T0 + 6)) == \
        [events[4], events[2]]
    assert await store.list_audit_events(AuditQuery(user_id="nobody\x00")) == []


async def test_writing_an_event_twice_keeps_one(store: Store) -> None:
    one = event(1)
    await store.write_activity([one], [])
    await store.write_activity([one], [])
    assert await store.list_audit_events(AuditQuery()) == [one]


async def test_counts_by_bucket_and_kind(store: Store) -> None:
    day0 = 19_700 * DAY
    events = [event(1, "login", day0 + 10), event(2, "login", day0 + 20),
              event(3, "user_created", day0 + 30), event(4, "login", day0 + DAY + 5),
              event(5, "logout", day0 + 40), event(6, "login", day0 - 1)]
    await store.write_activity(events, [])
    counts = await store.count_audit_events(["login", "user_created"], day0, day0 + 2 * DAY,
                                            86400)
    assert counts == [(day0, "login", 2), (day0, "user_created", 1), (day0 + DAY, "login", 1)]
    assert await store.count_audit_events([], day0, day0 + DAY, 3600) == []


async def test_prune_removes_old_events_and_orphan_session_info(store: Store) -> None:
    await with_sessions(store, "s1")
    await store.write_activity(
        [event(1, at=T0 - 10), event(2, at=T0 + 10)],
        [SessionInfo("s1", "anon-user", "192.0.2.0/24", T0),
         SessionInfo("gone", "anon-user", "192.0.2.0/24", T0)])
    assert await store.prune_audit_events(T0) == 1
    assert [e.id for e in await store.list_audit_events(AuditQuery())] == [event(2, at=T0 + 10).id]
    assert [s.provider for s in await store.list_session_views("u1", T0)] == ["anon-user"]


async def test_user_sessions_with_their_info(store: Store) -> None:
    await with_sessions(store, "s1", "s2", "s3")
    await with_sessions(store, "t1", user_id="u2")
    await store.write_activity([], [SessionInfo("s1", "local-userpass", "192.0.2.0/24", T0 + 5)])
    # A later touch without a provider keeps it, takes the new address, keeps the later time.
    await store.write_activity([], [SessionInfo("s1", None, "198.51.100.0/24", T0 + 50),
                                    SessionInfo("s1", None, "198.51.100.0/24", T0 + 20)])
    listed = await store.list_session_views("u1", T0)
    assert [s.id for s in listed] == ["s3", "s2", "s1"]
    s1 = listed[-1]
    assert (s1.provider, s1.address, s1.last_used_at, s1.device_id) == \
        ("local-userpass", "198.51.100.0/24", T0 + 50, "d0")
    assert (listed[0].provider, listed[0].address, listed[0].last_used_at) == \
        (None, "", listed[0].created_at)
    assert await store.list_session_views("u1", T0 + DAY) == []


async def test_ending_sessions_only_of_the_owner(store: Store) -> None:
    await with_sessions(store, "s1", "s2", "s3")
    await with_sessions(store, "t1", user_id="u2")
    assert not await store.delete_user_session("u2", "s1")
    assert await store.delete_user_session("u1", "s1")
    assert not await store.delete_user_session("u1", "s1")
    assert await store.count_live_sessions(T0) == 3
    assert await store.delete_other_sessions("u1", "s3") == 1
    assert [s.id for s in await store.list_session_views("u1", T0)] == ["s3"]
    assert await store.get_session("t1") is not None
    assert await store.count_live_sessions(T0) == 2
    assert await store.count_live_sessions(T0 + DAY) == 0
