"""The store side of issue 15's one-read refresh, on SQLite and PostgreSQL alike.

``get_session_for_refresh`` returns what three reads returned before (``get_session``,
``get_user``, ``get_document``), and nothing of a session that is gone.
"""

from __future__ import annotations

import pytest

from server.store import Store

from .test_store import ident, session, user

pytestmark = pytest.mark.anyio


async def test_the_refresh_read_is_the_three_reads_in_one(store: Store) -> None:
    await store.create_user(user("u1", plan="pro"), ident("anon-user", "a1"))
    await store.add_identity("u1", ident("custom-token", "c1", name="Ada"))
    await store.create_session(session("s1", "u1"))
    await store.put_document("custom", "u1", {"user_id": "u1", "n": 1})
    await store.put_document("other", "u1", {"user_id": "u1", "n": 2})

    found = await store.get_session_for_refresh("s1", "custom")
    assert found is not None
    assert found.session == await store.get_session("s1")
    assert found.user == await store.get_user("u1")
    assert found.document == await store.get_document("custom", "u1") == {"user_id": "u1", "n": 1}
    without = await store.get_session_for_refresh("s1", None)
    assert without is not None and without.document is None and without.user == found.user
    missing = await store.get_session_for_refresh("s1", "absent")
    assert missing is not None and missing.document is None


async def test_no_session_no_read_and_a_gone_user_reads_as_none(store: Store) -> None:
    await store.create_user(user("u1"), None)
    await store.create_session(session("s1", "u1"))
    assert await store.get_session_for_refresh("nope", "custom") is None
    assert await store.get_session_for_refresh("s1\x00", "custom") is None
    assert (await store.get_session_for_refresh("s1", "c\x00")) is not None
    await store.set_user_disabled("u1", True)  # Ends its sessions.
    assert await store.get_session_for_refresh("s1", None) is None
    await store.create_user(user("u2"), None)
    await store.create_session(session("s2", "u2"))
    await store.delete_user("u2")  # Takes its sessions along.
    assert await store.get_session_for_refresh("s2", None) is None
