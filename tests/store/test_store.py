"""The ``Store`` contract: one suite that every implementation passes (SQLite and PostgreSQL).

Each test runs once per store (``[sqlite]``, ``[postgres]``) through the ``store`` fixture, so a
behaviour that services rely on is pinned for both: uniqueness as ``Conflict``, all-or-nothing
writes, identity order, cascades, single-use tokens, value types, rate limit windows, and races.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from bson import Int64, ObjectId

from server.store import Conflict, Store, open_store_for
from server.store.base import (
    RATE_PURGE_SECONDS,
    ApiKey,
    Identity,
    Session,
    UserpassAccount,
    UserpassToken,
    UserRecord,
)

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.123456
PROCESSES = 5
OpenStores = Callable[[int], Awaitable[list[Store]]]


def user(uid: str, created_at: float = T0, **data: object) -> UserRecord:
    return UserRecord(uid, "normal", False, created_at, data=dict(data))


def ident(provider: str, iid: str, **data: object) -> Identity:
    return Identity(provider, iid, f"{provider}-config", dict(data))


def session(sid: str, uid: str, api_key_id: str | None = None) -> Session:
    return Session(sid, uid, f"hash-{sid}", "device-1", T0, T0 + 3600, api_key_id)


def key(kid: str, uid: str, name: str) -> ApiKey:
    return ApiKey(kid, uid, name, f"hash-{kid}", False, T0)


def token(tid: str, kind: str = "confirm", expires_at: float = T0 + 1800) -> UserpassToken:
    return UserpassToken(tid, f"hash-{tid}", "a@example.com", kind, expires_at, False)


# Meta.


async def test_meta_keeps_the_first_value(store: Store) -> None:
    assert await store.get_meta("signing_key") is None
    assert await store.set_meta_if_absent("signing_key", "first") == "first"
    assert await store.set_meta_if_absent("signing_key", "second") == "first"
    assert await store.get_meta("signing_key") == "first"
    assert await store.get_meta("schema_version") == "1"


async def test_concurrent_set_meta_if_absent_agree(open_stores: OpenStores) -> None:
    stores = await open_stores(PROCESSES)
    values = await asyncio.gather(*(stores[i % PROCESSES].set_meta_if_absent("k", f"v{i}")
                                    for i in range(50)))
    assert len(set(values)) == 1 and values[0].startswith("v")


# Users and identities.


async def test_create_and_get_user_keeps_every_value(store: Store) -> None:
    now = time.time()
    record = UserRecord("u1", "server", True, now, (ident("anon-user", "a1", n=1),),
                        {"name": "Ada", "tags": ["x"]}, now + 0.5)
    await store.create_user(record, record.identities[0])
    got = await store.get_user("u1")
    assert got == record
    assert isinstance(got.disabled, bool) and isinstance(got.created_at, float)
    assert await store.get_user("nobody") is None


async def test_user_without_identity(store: Store) -> None:
    await store.create_user(user("u1"), None)
    got = await store.get_user("u1")
    assert got is not None and got.identities == () and got.last_login_at is None


async def test_a_taken_identity_is_a_conflict_and_creates_nothing(store: Store) -> None:
    await store.create_user(user("u1"), ident("local-userpass", "e1"))
    with pytest.raises(Conflict):
        await store.create_user(user("u2"), ident("local-userpass", "e1"))
    # One transaction: the user row of the failed create is not left behind.
    assert await store.get_user("u2") is None
    assert [u.id for u in await store.list_users()] == ["u1"]
    with pytest.raises(Conflict):
        await store.create_user(user("u1"), None)


async def test_add_identity_appends_in_order(store: Store) -> None:
    await store.create_user(user("u1"), ident("anon-user", "a1"))
    await store.add_identity("u1", ident("local-userpass", "e1", email="a@example.com"))
    await store.add_identity("u1", ident("api-key", "k1"))
    got = await store.get_user("u1")
    assert got is not None
    assert [(i.provider_type, i.id) for i in got.identities] == [
        ("anon-user", "a1"), ("local-userpass", "e1"), ("api-key", "k1")]
    assert got.identities[1].data == {"email": "a@example.com"}
    assert got.identities[1].provider_id == "local-userpass-config"


async def test_add_identity_conflicts(store: Store) -> None:
    await store.create_user(user("u1"), ident("anon-user", "a1"))
    await store.create_user(user("u2"), None)
    with pytest.raises(Conflict):
        await store.add_identity("u2", ident("anon-user", "a1"))
    with pytest.raises(Conflict):
        await store.add_identity("nobody", ident("anon-user", "a2"))
    assert await store.find_user_by_identity("anon-user", "a2") is None


async def test_concurrent_add_identity_keeps_them_all(open_stores: OpenStores) -> None:
    stores = await open_stores(PROCESSES)
    await stores[0].create_user(user("u1"), ident("anon-user", "a0"))
    await asyncio.gather(*(stores[i % PROCESSES].add_identity("u1", ident("anon-user", f"a{i}"))
                           for i in range(1, 21)))
    got = await stores[0].get_user("u1")
    assert got is not None and got.identities[0].id == "a0"
    assert sorted(i.id for i in got.identities) == sorted(f"a{i}" for i in range(21))


async def test_find_and_update_identity(store: Store) -> None:
    await store.create_user(user("u1"), ident("custom-token", "sub-1", name="old"))
    assert await store.find_user_by_identity("custom-token", "sub-1") == "u1"
    assert await store.find_user_by_identity("anon-user", "sub-1") is None
    await store.update_identity_data("custom-token", "sub-1", {"name": "new", "n": [1, 2]})
    got = await store.get_user("u1")
    assert got is not None and got.identities[0].data == {"name": "new", "n": [1, 2]}


async def test_list_users_by_creation_time_then_id(store: Store) -> None:
    await store.create_user(user("b", T0 + 1), None)
    await store.create_user(user("a", T0 + 1), None)
    await store.create_user(user("Z", T0 + 1), None)
    await store.create_user(user("c", T0), None)
    # Ids compare bytewise ("Z" before "a"), as SQLite does, whatever the database locale.
    assert [u.id for u in await store.list_users()] == ["c", "Z", "a", "b"]


async def test_disable_and_touch_login(store: Store) -> None:
    await store.create_user(user("u1"), None)
    assert await store.set_user_disabled("u1", True) is True
    assert await store.set_user_disabled("nobody", True) is False
    when = time.time()
    await store.touch_login("u1", when)
    got = await store.get_user("u1")
    assert got is not None and got.disabled is True and got.last_login_at == when
    await store.set_user_disabled("u1", False)
    got = await store.get_user("u1")
    assert got is not None and got.disabled is False


async def test_delete_user_takes_everything_of_that_user_only(store: Store) -> None:
    for uid in ("u1", "u2"):
        await store.create_user(user(uid), ident("anon-user", f"anon-{uid}"))
        await store.create_userpass(UserpassAccount(f"{uid}@example.com", f"up-{uid}", "h",
                                                    True, T0))
        await store.add_identity(uid, ident("local-userpass", f"up-{uid}"))
        await store.create_api_key(key(f"k-{uid}", uid, "main"))
        await store.create_session(session(f"s-{uid}", uid, f"k-{uid}"))
    assert await store.delete_user("u1") is True
    assert await store.get_user("u1") is None
    assert await store.find_user_by_identity("anon-user", "anon-u1") is None
    assert await store.find_user_by_identity("local-userpass", "up-u1") is None
    assert await store.get_userpass("u1@example.com") is None
    assert await store.get_session("s-u1") is None
    assert await store.get_api_key("k-u1") is None and await store.list_api_keys("u1") == []
    # The email is free again, and the other user kept everything.
    await store.create_userpass(UserpassAccount("u1@example.com", "up-new", "h", False, T0))
    assert await store.get_user("u2") is not None
    assert await store.get_userpass("u2@example.com") is not None
    assert await store.get_session("s-u2") is not None
    assert await store.get_api_key("k-u2") is not None
    assert await store.delete_user("u1") is False


# Email/password accounts and tokens.


async def test_userpass_account(store: Store) -> None:
    account = UserpassAccount("a@example.com", "id1", "hash1", False, T0)
    await store.create_userpass(account)
    assert await store.get_userpass("a@example.com") == account
    assert await store.get_userpass("A@Example.com") == account  # One address, any case.
    with pytest.raises(Conflict):
        await store.create_userpass(UserpassAccount("a@example.com", "id2", "h", False, T0))
    with pytest.raises(Conflict):
        await store.create_userpass(UserpassAccount("b@example.com", "id1", "h", False, T0))
    await store.confirm_userpass("a@example.com")
    await store.set_userpass_password("a@example.com", "hash2")
    got = await store.get_userpass("a@example.com")
    assert got == UserpassAccount("a@example.com", "id1", "hash2", True, T0)
    assert got is not None and got.confirmed is True


async def test_fifty_concurrent_registrations_of_one_email_one_wins(store: Store) -> None:
    async def register(i: int) -> bool:
        try:
            await store.create_userpass(
                UserpassAccount("race@example.com", f"id{i}", f"hash{i}", False, T0))
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(register(i) for i in range(50)))
    assert results.count(True) == 1
    got = await store.get_userpass("race@example.com")
    assert got is not None and got.id == f"id{results.index(True)}"


async def test_concurrent_registrations_from_several_processes_one_wins(
    open_stores: OpenStores,
) -> None:
    stores = await open_stores(PROCESSES)

    async def register(i: int) -> bool:
        try:
            await stores[i % PROCESSES].create_userpass(
                UserpassAccount("race@example.com", f"id{i}", f"hash{i}", False, T0))
        except Conflict:
            return False
        return True

    assert (await asyncio.gather(*(register(i) for i in range(50)))).count(True) == 1


async def test_a_token_works_once(store: Store) -> None:
    await store.add_userpass_token(
        UserpassToken("t1", "hash-t1", "a@example.com", "reset", T0 + 60, False, "new-hash"))
    first = await store.use_userpass_token("t1", "reset", "hash-t1", T0)
    assert first == UserpassToken("t1", "hash-t1", "a@example.com", "reset", T0 + 60, False,
                                  "new-hash")
    again = await store.use_userpass_token("t1", "reset", "hash-t1", T0)
    assert again is not None and again.used is True


async def test_a_token_needs_its_hash_and_kind(store: Store) -> None:
    await store.add_userpass_token(token("t1"))
    assert await store.use_userpass_token("t1", "confirm", "hash-other", T0) is None
    assert await store.use_userpass_token("t1", "reset", "hash-t1", T0) is None
    assert await store.use_userpass_token("t9", "confirm", "hash-t1", T0) is None
    # The failed attempts did not spend it.
    got = await store.use_userpass_token("t1", "confirm", "hash-t1", T0)
    assert got is not None and got.used is False and got.password_hash is None


async def test_an_expired_token_is_returned_as_it_was_and_not_spent(store: Store) -> None:
    await store.add_userpass_token(token("t1", expires_at=T0))
    late = await store.use_userpass_token("t1", "confirm", "hash-t1", T0 + 1)
    assert late is not None and late.used is False and late.expires_at == T0
    late = await store.use_userpass_token("t1", "confirm", "hash-t1", T0 + 1)
    assert late is not None and late.used is False
    with pytest.raises(Conflict):
        await store.add_userpass_token(token("t1"))


async def test_concurrent_uses_of_one_token_one_wins(open_stores: OpenStores) -> None:
    stores = await open_stores(PROCESSES)
    for round_ in range(5):
        tid = f"t{round_}"
        await stores[0].add_userpass_token(token(tid))
        got = await asyncio.gather(*(s.use_userpass_token(tid, "confirm", f"hash-{tid}", T0)
                                     for s in stores * 4))
        assert [t is not None and not t.used for t in got].count(True) == 1


# Sessions.


async def test_sessions(store: Store) -> None:
    await store.create_user(user("u1"), None)
    s = session("s1", "u1")
    await store.create_session(s)
    assert await store.get_session("s1") == s
    with pytest.raises(Conflict):
        await store.create_session(s)
    with pytest.raises(Conflict):
        await store.create_session(session("s2", "nobody"))
    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.get_session("s1") is None


# API keys.


async def test_api_keys(store: Store) -> None:
    await store.create_user(user("u1"), None)
    await store.create_user(user("u2"), None)
    k1 = key("k1", "u1", "main")
    await store.create_api_key(k1)
    await store.create_api_key(ApiKey("k0", "u1", "second", "hash-k0", True, T0 + 1))
    await store.create_api_key(key("k3", "u2", "main"))  # The name is unique per user only.
    with pytest.raises(Conflict):
        await store.create_api_key(key("k4", "u1", "main"))
    with pytest.raises(Conflict):
        await store.create_api_key(ApiKey("k5", "u2", "other", "hash-k1", False, T0))
    assert [k.id for k in await store.list_api_keys("u1")] == ["k1", "k0"]
    assert await store.get_api_key("k1") == k1
    assert await store.find_api_key("hash-k1") == k1
    assert await store.find_api_key("hash-none") is None
    assert await store.set_api_key_disabled("k1", True) is True
    assert await store.set_api_key_disabled("none", True) is False
    got = await store.get_api_key("k1")
    assert got is not None and got.disabled is True


async def test_disabling_an_api_key_ends_its_sessions(store: Store) -> None:
    await store.create_user(user("u1"), None)
    await store.create_api_key(key("k1", "u1", "main"))
    await store.create_session(session("s1", "u1", "k1"))
    await store.create_session(session("s2", "u1"))
    assert await store.set_api_key_disabled("k1", True) is True
    assert await store.get_session("s1") is None
    assert await store.get_session("s2") is not None
    # Enabling it again restores the key, not the ended sessions.
    await store.create_session(session("s3", "u1", "k1"))
    assert await store.set_api_key_disabled("k1", False) is True
    assert await store.get_session("s3") is not None


async def test_deleting_an_api_key_ends_its_sessions(store: Store) -> None:
    await store.create_user(user("u1"), None)
    await store.create_api_key(key("k1", "u1", "main"))
    await store.create_session(session("s1", "u1", "k1"))
    await store.create_session(session("s2", "u1"))
    assert await store.delete_api_key("k1") is True
    assert await store.get_api_key("k1") is None
    assert await store.get_session("s1") is None
    assert await store.get_session("s2") is not None
    assert await store.delete_api_key("k1") is False
    await store.create_api_key(key("k2", "u1", "main"))  # The name is free again.


# Documents.


async def test_documents_round_trip_extended_json(store: Store) -> None:
    when = dt.datetime(2024, 5, 17, 12, 30, 45, 123000, tzinfo=dt.UTC)
    oid = ObjectId()
    doc = {"plan": "pro", "big": 2**53 + 1, "small": 7, "ratio": 0.1, "when": when,
           "_id": oid, "nested": {"list": [1, "two", None, True]}, "blob": b"\x00\x01"}
    await store.put_document("custom_user_data", "u1", doc)
    got = await store.get_document("custom_user_data", "u1")
    assert got == doc
    # Types round-trip exactly: a 64-bit integer stays an Int64 (``$numberLong``), a small one an
    # int, so what a function stored comes back as the same BSON type.
    assert got is not None and type(got["big"]) is Int64 and type(got["small"]) is int
    assert got["when"].tzinfo is not None
    await store.put_document("custom_user_data", "u1", {"plan": "free"})
    assert await store.get_document("custom_user_data", "u1") == {"plan": "free"}
    assert await store.get_document("other", "u1") is None
    assert await store.delete_document("custom_user_data", "u1") is True
    assert await store.delete_document("custom_user_data", "u1") is False
    assert await store.get_document("custom_user_data", "u1") is None


# Edges shared by every store.


async def test_keys_with_nul_characters_are_simply_absent(store: Store) -> None:
    # PostgreSQL text cannot hold NUL, so no such key can ever have been stored.
    assert await store.get_userpass("a\x00@example.com") is None
    assert await store.find_user_by_identity("local-userpass", "\x00") is None
    assert await store.use_userpass_token("t\x00", "confirm", "h", T0) is None
    assert await store.get_session("\x00") is None
    assert await store.delete_user("\x00") is False


async def test_data_survives_close_and_open(database_url: str, tmp_path: Path) -> None:
    first = open_store_for(database_url, tmp_path)
    await first.open()
    await first.create_user(user("u1"), ident("anon-user", "a1"))
    await first.close()
    again = open_store_for(database_url, tmp_path)
    await again.open()
    try:
        got = await again.get_user("u1")
        assert got is not None and got.identities[0].id == "a1"
    finally:
        await again.close()


async def test_stores_opening_together_on_an_empty_database(open_stores: OpenStores) -> None:
    # Server processes start at once on a fresh database: each creates the schema safely.
    stores = await open_stores(8)
    await stores[0].create_user(user("u1"), None)
    assert all([await s.get_user("u1") is not None for s in stores])


# Rate limits.


async def test_hit_rate_records_up_to_the_limit_per_key(store: Store) -> None:
    assert [await store.hit_rate("a", 10, T0 + i, 3) for i in range(4)] == [True] * 3 + [False]
    assert await store.rate_count("a", 10, T0 + 3) == 3  # The refused hit was not recorded.
    assert await store.hit_rate("b", 10, T0 + 3, 3) is True
    assert await store.rate_count("b", 10, T0 + 3) == 1
    assert await store.rate_count("nobody", 10, T0) == 0


async def test_rate_events_leave_the_window(store: Store) -> None:
    for i in range(3):
        await store.hit_rate("a", 10, T0 + i, 3)
    assert await store.rate_count("a", 10, T0 + 10) == 2  # (T0, T0 + 10]: the first one left.
    assert await store.hit_rate("a", 10, T0 + 10, 3) is True
    assert await store.rate_count("a", 10, T0 + 12.5) == 1


async def test_reset_rate_forgets_one_key(store: Store) -> None:
    for k in ("a", "b"):
        await store.hit_rate(k, 10, T0, 5)
    await store.reset_rate("a")
    await store.reset_rate("never-hit")
    assert await store.rate_count("a", 10, T0) == 0
    assert await store.rate_count("b", 10, T0) == 1


async def test_expired_rate_events_are_purged(store: Store) -> None:
    for i in range(50):
        await store.hit_rate(f"addr-{i}", 10, T0, 5)
    # A hit long after the window purges every expired event, whatever its key: even a count
    # over a much longer window no longer finds them, so rows stay bounded.
    later = T0 + 10 + RATE_PURGE_SECONDS
    await store.hit_rate("other", 10, later, 5)
    assert [await store.rate_count(f"addr-{i}", 1e9, later) for i in (0, 49)] == [0, 0]
    assert await store.rate_count("other", 10, later) == 1


async def test_concurrent_hits_from_several_processes_stop_at_the_limit(
    open_stores: OpenStores,
) -> None:
    stores = await open_stores(PROCESSES)
    got = await asyncio.gather(*(stores[i % PROCESSES].hit_rate("hot", 300, T0 + i / 1000, 7)
                                 for i in range(40)))
    assert got.count(True) == 7
    assert await stores[0].rate_count("hot", 300, T0 + 1) == 7
