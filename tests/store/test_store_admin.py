"""The ``Store`` contract of the Admin API's methods, on SQLite and PostgreSQL alike: admin keys
and their sessions (uniqueness, cascades on disable and delete), pages of users in bytewise id
order with their filters, email prefix search, users' sessions, pending registrations."""

from __future__ import annotations

import pytest

from server.emails import email_key
from server.store import Conflict, Store
from server.store.base import (
    AdminKey,
    AdminSession,
    Identity,
    Session,
    UserpassAccount,
    UserpassToken,
    UserRecord,
)

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.5


def admin_key(kid: str, name: str, public: str) -> AdminKey:
    return AdminKey(kid, name, public, f"hash-{kid}", False, T0)


def admin_session(sid: str, kid: str) -> AdminSession:
    return AdminSession(sid, kid, f"hash-{sid}", "device", T0, T0 + 60)


async def test_admin_keys_and_their_sessions(store: Store) -> None:
    await store.create_admin_key(admin_key("k1", "ops", "pubone"))
    await store.create_admin_key(admin_key("k2", "ci", "pubtwo"))
    with pytest.raises(Conflict):
        await store.create_admin_key(admin_key("k3", "ops", "pubthree"))
    with pytest.raises(Conflict):
        await store.create_admin_key(admin_key("k3", "other", "pubone"))
    assert [k.id for k in await store.list_admin_keys()] == ["k1", "k2"]
    assert await store.find_admin_key("pubone") == admin_key("k1", "ops", "pubone")
    assert await store.find_admin_key("nobody") is None
    assert await store.find_admin_key("pub\x00one") is None

    for sid, kid in (("s1", "k1"), ("s2", "k1"), ("s3", "k2")):
        await store.create_admin_session(admin_session(sid, kid))
    assert await store.get_admin_session("s1") == admin_session("s1", "k1")
    assert (await store.get_admin_key_for_session("k1", "s1")) == admin_key("k1", "ops",
                                                                            "pubone")
    assert await store.get_admin_key_for_session("k2", "s1") is None  # not its session

    assert await store.delete_admin_session("s2") is True
    assert await store.delete_admin_session("s2") is False
    assert await store.get_admin_session("s2") is None

    assert await store.set_admin_key_disabled("k1", True) is True
    assert (await store.find_admin_key("pubone")).disabled is True  # type: ignore[union-attr]
    assert await store.get_admin_session("s1") is None  # disabling ended it
    assert await store.set_admin_key_disabled("k1", False) is True
    assert await store.set_admin_key_disabled("nope", True) is False

    assert await store.delete_admin_key("k2") is True
    assert await store.get_admin_session("s3") is None
    assert await store.delete_admin_key("k2") is False
    assert [k.id for k in await store.list_admin_keys()] == ["k1"]


def _user(uid: str, disabled: bool = False) -> UserRecord:
    return UserRecord(uid, "normal", disabled, T0)


async def test_pages_of_users_in_bytewise_id_order_with_filters(store: Store) -> None:
    # Upper case sorts before lower case bytewise, whatever the database's locale says.
    ids = ["b1", "B2", "a3", "c4", "A5"]
    for i, uid in enumerate(ids):
        provider = "anon-user" if i % 2 else "local-userpass"
        await store.create_user(_user(uid, disabled=uid == "c4"),
                                Identity(provider, f"id-{uid}", "p"))
    await store.add_identity("b1", Identity("oauth2-google", "g-b1", "p"))
    await store.create_user(_user("zz"), None)
    ordered = sorted([*ids, "zz"])
    assert ordered[:2] == ["A5", "B2"]
    assert [u.id for u in await store.list_users_page(None, 100)] == ordered
    assert [u.id for u in await store.list_users_page(None, 2)] == ordered[:2]
    assert [u.id for u in await store.list_users_page("B2", 2)] == ordered[2:4]
    assert await store.list_users_page("zz", 10) == []
    page = await store.list_users_page(None, 100)
    assert [i.provider_type for i in page[ordered.index("b1")].identities] == [
        "local-userpass", "oauth2-google"]
    assert [u.id for u in await store.list_users_page(None, 100, disabled=True)] == ["c4"]
    assert "c4" not in [u.id for u in await store.list_users_page(None, 100, disabled=False)]
    anon = await store.list_users_page(None, 100, provider_types=("anon-user",))
    assert [u.id for u in anon] == sorted(["B2", "c4"])
    several = await store.list_users_page("a3", 100, provider_types=("anon-user",
                                                                      "oauth2-google"))
    assert [u.id for u in several] == ["b1", "c4"]
    both = await store.list_users_page(None, 100, disabled=False,
                                       provider_types=("anon-user",))
    assert [u.id for u in both] == ["B2"]
    assert await store.list_users_page(None, 10, provider_types=("x\x00",)) == []


async def _account(store: Store, email: str, aid: str, *, confirmed: bool,
                   user: str | None = None) -> None:
    await store.create_userpass(UserpassAccount(email, aid, "hash", confirmed, T0))
    if user is not None:
        await store.create_user(_user(user), Identity("local-userpass", aid, "p"))


async def test_search_by_email_prefix(store: Store) -> None:
    await _account(store, "Ada@Example.com", "a1", confirmed=True, user="u1")
    await _account(store, "adam@example.com", "a2", confirmed=True, user="u2")
    await _account(store, "bob@example.com", "a3", confirmed=True, user="u3")
    await _account(store, "ada.pending@example.com", "a4", confirmed=False)  # no user yet
    found = await store.find_users_by_email_prefix(email_key("ADA"), 10)
    assert [u.id for u in found] == ["u1", "u2"]  # ordered by the address
    assert [u.id for u in await store.find_users_by_email_prefix("ada@", 10)] == ["u1"]
    assert [u.id for u in await store.find_users_by_email_prefix("ad", 1)] == ["u1"]
    assert await store.find_users_by_email_prefix("zed", 10) == []
    assert await store.find_users_by_email_prefix("a\x00", 10) == []
    # Social identities are found by the address their provider gave, merged in order, and a
    # user with both kinds is listed once.
    await store.create_user(_user("g1"), Identity("oauth2-google", "g-1", "p",
                                                  {"email": "adele@gmail.com"}))
    await store.add_identity("u2", Identity("oauth2-google", "g-2", "p",
                                            {"email": "adam@example.com"}))
    assert [u.id for u in await store.find_users_by_email_prefix("ad", 10)] == [
        "u1", "u2", "g1"]
    assert [u.id for u in await store.find_users_by_email_prefix("adele", 10)] == ["g1"]
    assert [u.id for u in await store.find_users_by_email_prefix("ad", 2)] == ["u1", "u2"]


async def test_a_users_sessions_listed_and_ended_at_once(store: Store) -> None:
    await store.create_user(_user("u1"), None)
    await store.create_user(_user("u2"), None)
    for sid, uid, at in (("s2", "u1", T0 + 1), ("s1", "u1", T0), ("s3", "u2", T0)):
        await store.create_session(Session(sid, uid, f"h-{sid}", f"d-{sid}", at, at + 60))
    assert [s.id for s in await store.list_user_sessions("u1")] == ["s1", "s2"]
    assert await store.delete_user_sessions("u1") == 2
    assert await store.list_user_sessions("u1") == []
    assert await store.get_session("s3") is not None
    assert await store.delete_user_sessions("nobody") == 0


async def test_pending_registrations(store: Store) -> None:
    await _account(store, "p2@example.com", "b2", confirmed=False)
    await _account(store, "p1@example.com", "b1", confirmed=False)
    await _account(store, "done@example.com", "b0", confirmed=True)
    await _account(store, "used@example.com", "b3", confirmed=True, user="u1")
    assert [a.id for a in await store.list_pending_userpass(None, 10)] == ["b1", "b2"]
    assert [a.id for a in await store.list_pending_userpass("b1", 10)] == ["b2"]
    assert [a.id for a in await store.list_pending_userpass(None, 1)] == ["b1"]
    await store.add_userpass_token(UserpassToken("t1", "h", "p1@example.com", "confirm",
                                                 T0 + 60, False))
    assert await store.delete_pending_userpass("p1@example.com") is True
    assert await store.get_userpass("p1@example.com") is None
    assert await store.use_userpass_token("t1", "confirm", "h", T0) is None
    assert await store.delete_pending_userpass("p1@example.com") is False
    # An account a user logged in with goes only with its user.
    assert await store.delete_pending_userpass("used@example.com") is False
    assert await store.get_userpass("used@example.com") is not None
    assert await store.delete_pending_userpass("done@example.com") is True


async def test_a_provider_page_walks_past_disabled_users(store: Store) -> None:
    # More disabled users in a row than one batch of candidates holds.
    for n in range(40):
        uid = f"u{n:03d}"
        await store.create_user(_user(uid, disabled=n < 30),
                                Identity("oauth2-google" if n % 2 else "anon-user", uid, "p"))
    enabled = await store.list_users_page(None, 3, disabled=False,
                                          provider_types=("oauth2-google",))
    assert [u.id for u in enabled] == ["u031", "u033", "u035"]
    merged = await store.list_users_page("u031", 4, disabled=False,
                                         provider_types=("anon-user", "oauth2-google"))
    assert [u.id for u in merged] == ["u032", "u033", "u034", "u035"]
    anything = await store.list_users_page("u005", 3, provider_types=("oauth2-google",
                                                                      "anon-user"))
    assert [u.id for u in anything] == ["u006", "u007", "u008"]
    assert await store.list_users_page("u039", 3, disabled=False,
                                       provider_types=("oauth2-google",)) == []
