"""``Store.import_user`` (issue 13), on every store: a user made elsewhere arrives whole, with its
own ids, or not at all, and importing it again changes nothing."""

from __future__ import annotations

import pytest

from server.store import Conflict, Store
from server.store.base import Identity, UserpassAccount, UserRecord

pytestmark = pytest.mark.anyio

T0 = 1_600_000_000.0


def exported(uid: str, *identities: Identity, disabled: bool = False) -> UserRecord:
    return UserRecord(uid, "normal", disabled, T0, identities, {"plan": "pro"}, T0 + 60)


def account(email: str, iid: str) -> UserpassAccount:
    return UserpassAccount(email, iid, "imported-hash", True, T0)


EMAIL = Identity("local-userpass", "60a1b2c3d4e5f60718293a4b", "5f00000000000000000000aa",
                 {"email": "ada@example.com"})
GOOGLE = Identity("oauth2-google", "1234567890", "5f00000000000000000000bb",
                  {"name": "Ada", "email": "ada@example.com"})


async def test_a_user_arrives_with_its_ids_identities_dates_and_account(store: Store) -> None:
    uid = "60a1b2c3d4e5f60718293a00"
    assert await store.import_user(exported(uid, EMAIL, GOOGLE, disabled=True),
                                   (account("ada@example.com", EMAIL.id),))
    got = await store.get_user(uid)
    assert got is not None
    assert (got.type, got.disabled, got.created_at, got.last_login_at, got.data) == \
        ("normal", True, T0, T0 + 60, {"plan": "pro"})
    assert got.identities == (EMAIL, GOOGLE)  # In order, each with its own provider id.
    assert await store.find_user_by_identity("oauth2-google", "1234567890") == uid
    kept = await store.get_userpass("ADA@example.com")
    assert kept == account("ada@example.com", EMAIL.id)


async def test_importing_again_changes_nothing(store: Store) -> None:
    uid = "60a1b2c3d4e5f60718293a01"
    assert await store.import_user(exported(uid, GOOGLE))
    before = await store.get_user(uid)
    changed = UserRecord(uid, "server", False, T0 + 5, (EMAIL,), {}, None)
    assert not await store.import_user(changed, (account("ada@example.com", EMAIL.id),))
    assert await store.get_user(uid) == before
    assert await store.get_userpass("ada@example.com") is None


@pytest.mark.parametrize("taken", ["identity", "email"])
async def test_a_user_whose_identity_or_address_is_taken_is_not_half_written(
        store: Store, taken: str) -> None:
    await store.import_user(exported("owner000000000000000000a", EMAIL),
                            (account("ada@example.com", EMAIL.id),))
    other_email = Identity("local-userpass", "70a1b2c3d4e5f60718293a4b", "p",
                           {"email": "ada@example.com"})
    clash = (GOOGLE, EMAIL) if taken == "identity" else (GOOGLE, other_email)
    with pytest.raises(Conflict):
        await store.import_user(exported("second00000000000000000b", *clash),
                                (account("ada@example.com", clash[1].id),))
    assert await store.get_user("second00000000000000000b") is None
    assert await store.find_user_by_identity("oauth2-google", GOOGLE.id) is None
    assert len(await store.list_users()) == 1
