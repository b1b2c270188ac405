"""The ``Store`` contract for passkeys, ceremonies and second factors (issue 14), on both stores.

Pinned here: a passkey and its identity come and go together (and a user's last way in cannot
be deleted), the counter only goes up, a challenge is taken once and never after it expires, a
TOTP time step is accepted once, recovery codes are single use, and a user's deletion takes all
of it along.
"""

from __future__ import annotations

import asyncio

import pytest

from server.store import Conflict, Store
from server.store.base import AuthChallenge, Identity, Passkey, TotpFactor, UserRecord

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.5


def passkey(pid: str, uid: str, count: int = 0, name: str = "Laptop") -> Passkey:
    return Passkey(pid, uid, f"pk-{pid}", count, name, T0, None, ("internal",), "aa", True)


def user(uid: str) -> UserRecord:
    return UserRecord(uid, "normal", False, T0)


async def test_a_passkey_creates_its_user_and_identity(store: Store) -> None:
    await store.add_passkey(passkey("cred-1", "u1", 3), "pid", new_user=user("u1"))
    record = await store.get_user("u1")
    assert record is not None
    assert [(i.provider_type, i.id, i.provider_id) for i in record.identities] == [
        ("passkey", "cred-1", "pid")]
    assert record.data == {}
    assert await store.find_user_by_identity("passkey", "cred-1") == "u1"
    got = await store.get_passkey("cred-1")
    assert got == passkey("cred-1", "u1", 3)
    with pytest.raises(Conflict):
        await store.add_passkey(passkey("cred-1", "u2"), "pid", new_user=user("u2"))
    assert await store.get_user("u2") is None


async def test_passkeys_are_appended_listed_renamed_and_deleted(store: Store) -> None:
    await store.create_user(user("u1"), Identity("anon-user", "a1", "p"))
    await store.add_passkey(passkey("c1", "u1"), "pid")
    await store.add_passkey(Passkey("c2", "u1", "pk", 0, "Phone", T0 + 1), "pid")
    with pytest.raises(Conflict):
        await store.add_passkey(passkey("c3", "nobody"), "pid")
    assert [p.id for p in await store.list_passkeys("u1")] == ["c1", "c2"]
    assert await store.rename_passkey("u1", "c1", "Work laptop")
    assert not await store.rename_passkey("u2", "c1", "Stolen")
    assert (await store.get_passkey("c1")).name == "Work laptop"  # type: ignore[union-attr]
    assert not await store.delete_passkey("u2", "c1")
    assert await store.delete_passkey("u1", "c1")
    record = await store.get_user("u1")
    assert [i.id for i in record.identities] == ["a1", "c2"]  # type: ignore[union-attr]
    assert await store.get_passkey("c1") is None


async def test_the_last_way_in_cannot_be_deleted(store: Store) -> None:
    await store.add_passkey(passkey("only", "u1"), "pid", new_user=user("u1"))
    with pytest.raises(Conflict):
        await store.delete_passkey("u1", "only")
    assert await store.get_passkey("only") is not None


async def test_the_counter_only_goes_up(store: Store) -> None:
    await store.add_passkey(passkey("c", "u1", 5), "pid", new_user=user("u1"))
    assert not await store.use_passkey("c", 5, T0 + 1)
    assert not await store.use_passkey("c", 4, T0 + 1)
    assert await store.use_passkey("c", 6, T0 + 2)
    got = await store.get_passkey("c")
    assert (got.sign_count, got.last_used_at) == (6, T0 + 2)  # type: ignore[union-attr]
    await store.add_passkey(passkey("z", "u2", 0), "pid", new_user=user("u2"))
    assert await store.use_passkey("z", 0, T0) and await store.use_passkey("z", 0, T0)
    results = await asyncio.gather(*(store.use_passkey("c", 7, T0) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]


async def test_a_challenge_is_taken_once_and_never_late(store: Store) -> None:
    ch = AuthChallenge("h1", "passkey-login", None, "abc", T0 + 60, {"x": [1]})
    await store.put_challenge(ch)
    assert await store.get_challenge("h1", T0) == ch
    assert await store.get_challenge("h1", T0 + 61) is None
    assert await store.take_challenge("h1", T0) == ch
    assert await store.take_challenge("h1", T0) is None
    await store.put_challenge(AuthChallenge("h2", "mfa", "u1", "", T0 + 60))
    assert await store.take_challenge("h2", T0 + 60) is None
    assert await store.take_challenge("h2", T0) is None  # Gone, though it was late.
    await store.put_challenge(AuthChallenge("h3", "mfa", "u1", "", T0 + 60))
    results = await asyncio.gather(*(store.take_challenge("h3", T0) for _ in range(5)))
    assert sum(r is not None for r in results) == 1


async def test_totp_enrolment_steps_and_recovery_codes(store: Store) -> None:
    await store.create_user(user("u1"), Identity("anon-user", "a1", "p"))
    await store.put_totp(TotpFactor("u1", "SECRET1", False, 0, T0))
    await store.put_totp(TotpFactor("u1", "SECRET2", False, 0, T0))  # Replaces, unconfirmed.
    assert await store.get_totp("u1") == TotpFactor("u1", "SECRET2", False, 0, T0, 0)
    assert not await store.use_totp_step("u1", 10)  # Not confirmed yet.
    assert not await store.set_recovery_codes("u1", ["x"])
    assert await store.confirm_totp("u1", 100, ["h1", "h2", "h3"])
    assert not await store.confirm_totp("u1", 101, ["h9"])
    with pytest.raises(Conflict):
        await store.put_totp(TotpFactor("u1", "SECRET3", False, 0, T0))
    assert await store.get_totp("u1") == TotpFactor("u1", "SECRET2", True, 100, T0, 3)
    assert not await store.use_totp_step("u1", 100)
    assert await store.use_totp_step("u1", 101)
    results = await asyncio.gather(*(store.use_totp_step("u1", 102) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await store.use_recovery_code("u1", "h2")
    assert not await store.use_recovery_code("u1", "h2")
    assert not await store.use_recovery_code("u2", "h1")
    assert (await store.get_totp("u1")).recovery_codes_left == 2  # type: ignore[union-attr]
    assert await store.set_recovery_codes("u1", ["n1", "n2"])
    assert not await store.use_recovery_code("u1", "h1")
    assert await store.use_recovery_code("u1", "n1")
    assert await store.delete_factors("u1")
    assert not await store.delete_factors("u1")
    assert await store.get_totp("u1") is None
    assert not await store.use_recovery_code("u1", "n2")
    with pytest.raises(Conflict):
        await store.put_totp(TotpFactor("nobody", "S", False, 0, T0))


async def test_deleting_a_user_takes_its_factors(store: Store) -> None:
    await store.add_passkey(passkey("c", "u1"), "pid", new_user=user("u1"))
    await store.put_totp(TotpFactor("u1", "S", False, 0, T0))
    assert await store.confirm_totp("u1", 1, ["h"])
    assert await store.delete_user("u1")
    assert await store.get_passkey("c") is None
    assert await store.get_totp("u1") is None
    assert not await store.use_recovery_code("u1", "h")
    await store.add_passkey(passkey("c", "u2"), "pid", new_user=user("u2"))  # Free again.
