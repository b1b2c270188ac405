"""Passkeys and second factors through the SDK under CPython (issue 14), against the real server
over loopback, with the software authenticator as the ``Authenticator``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from app.sdk import AppError, Credentials, ErrorCode, SecondFactorRequired
from app.sdk.adapters.native import FileStorage, make_app
from tests.soft_authenticator import SoftAuthenticator

from .runner import run

ORIGIN = "http://localhost:8000"  # The demo config's passkey origin.


@pytest.fixture(autouse=True)
def _fresh_step() -> None:
    left = 30 - time.time() % 30
    if left < 6:
        time.sleep(left + 0.05)


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset)


def test_a_passkey_account_signs_up_comes_back_and_manages_its_passkeys(
        live_server: Any, tmp_path: Path) -> None:
    device = SoftAuthenticator(ORIGIN)
    storage = tmp_path / "session.json"

    async def sign_up() -> str:
        app = make_app(live_server.app_id, live_server.base_url, FileStorage(storage))
        user = await app.log_in(Credentials.new_passkey(device, name="Laptop", user_name="ada"))
        assert [i.provider_type for i in user.identities] == ["passkey"]
        assert user.profile.data == {}
        return user.id

    async def come_back() -> None:
        app = make_app(live_server.app_id, live_server.base_url, FileStorage(storage))
        assert app.current_user is not None and app.current_user.id == user_id  # Reload.
        await app.current_user.log_out()
        user = await app.log_in(Credentials.passkey(device))
        assert user.id == user_id and app.current_user is user
        phone = SoftAuthenticator(ORIGIN)
        added = await user.passkeys.register(phone, name="Phone")
        assert added.name == "Phone"
        assert [i.provider_type for i in user.identities] == ["passkey", "passkey"]
        listed = await user.passkeys.fetch_all()
        assert [p.name for p in listed] == ["Laptop", "Phone"]
        renamed = await user.passkeys.rename(listed[0].id, "Old laptop")
        assert renamed.name == "Old laptop" and renamed.id == listed[0].id
        await user.passkeys.delete(listed[0].id)
        with pytest.raises(AppError) as last:
            await user.passkeys.delete(added.id)
        assert last.value.code is ErrorCode.LAST_IDENTITY and last.value.status == 409
        with pytest.raises(AppError) as gone:
            await app.log_in(Credentials.passkey(device))
        assert gone.value.code is ErrorCode.PASSKEY_INVALID
        assert (await app.log_in(Credentials.passkey(phone))).id == user_id

    user_id = run(sign_up())
    run(come_back())


def test_a_password_login_with_totp_raises_a_challenge_that_finishes_it(
        live_server: Any) -> None:
    async def scenario() -> None:
        app = make_app(live_server.app_id, live_server.base_url)
        await app.email_password_auth.register_user("ada@example.com", "s3cret-pass")
        creds = Credentials.email_password("ada@example.com", "s3cret-pass")
        user = await app.log_in(creds)
        assert not (await user.mfa.status()).totp
        enrolment = await user.mfa.enrol_totp()
        assert enrolment.secret not in repr(enrolment) and enrolment.qr_svg.startswith("<svg")
        codes = await user.mfa.confirm_totp(code(enrolment.secret, -1))
        assert len(codes) == 10
        status = await user.mfa.status()
        assert status.totp and status.recovery_codes_left == 10
        device = SoftAuthenticator(ORIGIN)
        await user.passkeys.register(device)
        await user.log_out()

        with pytest.raises(SecondFactorRequired) as info:
            await app.log_in(creds)
        challenge = info.value
        assert isinstance(challenge, AppError) and challenge.status == 401
        assert challenge.code is ErrorCode.SECOND_FACTOR_REQUIRED
        assert challenge.factors == ("totp", "recovery_code", "passkey")
        assert not challenge.enrolment_required and app.current_user is None
        with pytest.raises(AppError) as wrong:
            await challenge.verify(code="000000")
        assert wrong.value.code is ErrorCode.SECOND_FACTOR_INVALID
        current = code(enrolment.secret)
        back = await challenge.verify(code=current)
        assert app.current_user is back and back.profile.email == "ada@example.com"

        with pytest.raises(SecondFactorRequired) as again:
            await app.log_in(creds)
        with pytest.raises(AppError):
            await again.value.verify(code=current)  # Replayed.
        assert (await again.value.verify(recovery_code=codes[0])).id == back.id
        with pytest.raises(SecondFactorRequired) as third:
            await app.log_in(creds)
        assert (await third.value.verify(authenticator=device)).id == back.id
        await back.mfa.disable_totp(recovery_code=codes[1])
        assert (await app.log_in(creds)).id == back.id

    run(scenario())


def test_an_app_that_requires_a_factor_enrols_during_login(server_factory: Any) -> None:
    live = server_factory({"mfa": {"required": True}})

    async def scenario() -> None:
        app = make_app(live.app_id, live.base_url)
        await app.email_password_auth.register_user("bob@example.com", "s3cret-pass")
        with pytest.raises(SecondFactorRequired) as info:
            await app.log_in(Credentials.email_password("bob@example.com", "s3cret-pass"))
        assert info.value.enrolment_required and info.value.factors == ()
        enrolment = await info.value.enrol_totp()
        user, codes = await info.value.confirm_totp(code(enrolment.secret))
        assert app.current_user is user and len(codes) == 10
        assert (await user.mfa.status()).required

    run(scenario())
