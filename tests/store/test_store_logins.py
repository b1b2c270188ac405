"""``Store.create_user_session``: an anonymous login's writes in one transaction, on both stores.

The user, its identity and its session are written together or not at all; the rate limit hit
inside it counts and refuses as ``hit_rate`` does, also when processes race on one key.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable

import pytest

from server.store import Conflict, Store
from server.store.base import Identity, RateHit, Session, UserRecord

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.123456
OpenStores = Callable[[int], Awaitable[list[Store]]]


def login(n: int, at: float = T0) -> tuple[UserRecord, Identity, Session]:
    uid = f"{n:024x}"
    return (UserRecord(uid, "normal", False, at),
            Identity("anon-user", f"anon-{n}", "p" * 24, {}),
            Session(f"s{n:023x}", uid, f"hash-{n}", f"d{n:023x}", at + 1, at + 100))


async def test_writes_the_user_its_identity_and_its_session(store: Store) -> None:
    u, ident, session = login(1)
    assert await store.create_user_session(u, ident, session) is True
    found = await store.get_user(u.id)
    assert found is not None
    assert (found.type, found.disabled, found.created_at) == ("normal", False, T0)
    assert found.last_login_at == T0 + 1  # The session's creation: no touch_login needed.
    assert found.identities == (ident,)
    assert await store.find_user_by_identity("anon-user", "anon-1") == u.id
    assert await store.get_session(session.id) == session
    assert await store.get_user_for_session(u.id, session.id) == found


async def test_a_taken_id_writes_nothing(store: Store) -> None:
    u, ident, session = login(1)
    await store.create_user_session(u, ident, session)
    u2, ident2, session2 = login(2)
    for clash in [(u2, ident, session2), (u2, ident2, session), (u, ident2, session2)]:
        with pytest.raises(Conflict):
            await store.create_user_session(*clash)
    assert await store.get_user(u2.id) is None
    assert await store.find_user_by_identity("anon-user", "anon-2") is None
    assert await store.get_session(session2.id) is None


async def test_the_rate_limit_counts_and_refuses_with_nothing_written(store: Store) -> None:
    await store.hit_rate("addr", 10, T0, 3)
    results = []
    for n in range(3):
        rate = RateHit("addr", 10, T0 + 1 + n, 3)
        results.append(await store.create_user_session(*login(n), rate=rate))
    assert results == [True, True, False]
    assert await store.rate_count("addr", 10, T0 + 3) == 3
    assert await store.get_user(login(2)[0].id) is None
    assert await store.get_session(login(2)[2].id) is None
    # Once the first events leave the window, logins go through again.
    assert await store.create_user_session(*login(3), rate=RateHit("addr", 10, T0 + 11, 3))


async def test_racing_processes_stop_at_the_limit(open_stores: OpenStores) -> None:
    stores = await open_stores(4)
    got = await asyncio.gather(*(
        stores[n % 4].create_user_session(*login(n), rate=RateHit("hot", 300, T0 + n / 1000, 5))
        for n in range(24)))
    assert got.count(True) == 5
    assert await stores[0].rate_count("hot", 300, T0 + 1) == 5
    created = [await stores[0].get_user(login(n)[0].id) for n in range(24)]
    assert sum(u is not None for u in created) == 5


async def test_the_user_behind_a_session_reads_as_get_user_does(store: Store) -> None:
    # get_user_for_session reads the user and its identities in one statement on SQLite: the
    # same identities in the same order, the data as stored (big numbers, odd text and all).
    u, ident, session = login(1)
    await store.create_user_session(u, ident, session)
    odd = {"big": 2**70, "f": 0.1, "s": "é\"\\\n"}
    for n, data in enumerate([odd, {}, {"n": [1, {"a": None}]}]):
        await store.add_identity(u.id, Identity(f"custom-{3 - n}", f"x{n}", "p", data))
    found = await store.get_user_for_session(u.id, session.id)
    assert found == await store.get_user(u.id)
    assert found is not None
    assert [i.provider_type for i in found.identities] == [
        "anon-user", "custom-3", "custom-2", "custom-1"]
    assert found.identities[1].data == odd
    assert await store.get_user_for_session(u.id, "s-other") is None


async def test_a_busy_sqlite_file_sends_the_write_to_the_worker_thread(store: Store) -> None:
    # Rule 3 of the SQLite connection: the write runs inline only when the write lock is free at
    # once; held by another process here, the login waits on the worker thread, not the loop.
    path = getattr(store, "path", None)
    if not isinstance(path, str) or not path.endswith(".sqlite3"):
        pytest.skip("SQLite's inline writes only")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        pending = asyncio.ensure_future(store.create_user_session(*login(7)))
        await asyncio.sleep(0.2)
        assert not pending.done()  # Waiting for the lock, and the event loop still runs.
        other.execute("COMMIT")
        assert await asyncio.wait_for(pending, 10) is True
    finally:
        other.close()
    assert await store.get_user(login(7)[0].id) is not None


async def test_inline_writes_leave_the_wal_bounded(store: Store) -> None:
    # Rule 3: the inline connection never checkpoints, so one write in THREAD_EVERY goes through
    # the worker thread, whose commit checkpoints with the inline writes shut out (the WAL
    # starts over). Without it 1,200 logins left a WAL of about 55 MB here.
    path = getattr(store, "path", None)
    if not isinstance(path, str) or not path.endswith(".sqlite3"):
        pytest.skip("SQLite's inline writes only")
    for n in range(1200):
        await store.create_user_session(*login(100 + n))
    assert os.path.getsize(path + "-wal") < 20 * 2**20
