"""The embed's passkeys and second factors (issue 14): the named calls ``static/embed.js``
adds to its JS API, on top of ``app.embed.Bridge``.

A password ``logIn`` that needs a second factor fails with code ``SecondFactorRequired``
(``SecondFactorEnrolmentRequired`` when the user must set one up); the bridge keeps that
challenge, and ``verifySecondFactor`` / ``verifySecondFactorWithPasskey`` (or ``enrolTotp`` then
``confirmTotp``) finish it. The authenticator is ``bridge.authenticator`` (the browser's, set by
``app.embed.browser_bridge``). Like ``app.embed``, this module never imports ``js``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from app.sdk import Credentials, SecondFactorRequired
from app.sdk.passkeys import PasskeyCeremonyError, PasskeyInfo

if TYPE_CHECKING:
    from app.embed import Bridge

Call = Callable[..., Awaitable[Any]]


def _passkey(info: PasskeyInfo) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "createdAt": info.created_at,
            "lastUsedAt": info.last_used_at, "backedUp": info.backed_up}


def factor_calls(bridge: Bridge) -> dict[str, Call]:
    """The calls to add to ``bridge``'s table (``logIn`` is wrapped to keep challenges)."""
    plain_log_in = bridge._calls["logIn"]
    pending: dict[str, SecondFactorRequired] = {}

    def authenticator() -> Any:
        found = getattr(bridge, "authenticator", None)
        if found is None:
            raise ValueError("Passkeys need a browser with WebAuthn.")
        return found

    async def ceremony(work: Awaitable[Any]) -> Any:
        try:
            return await work
        except PasskeyCeremonyError as err:
            raise ValueError(f"The passkey request did not finish ({err.name}).") from err

    async def log_in(kind: str, *args: Any) -> dict[str, Any]:
        try:
            value: dict[str, Any] = await plain_log_in(kind, *args)
        except SecondFactorRequired as challenge:
            pending["login"] = challenge
            raise
        return value

    def challenge() -> SecondFactorRequired:
        if "login" not in pending:
            raise LookupError("No sign-in is waiting for a second factor; log in first.")
        return pending["login"]

    async def verify(code: str) -> dict[str, Any]:
        text = code.strip()
        plain = text.replace(" ", "")
        kind = {"code": plain} if plain.isdigit() else {"recovery_code": text}
        user = await challenge().verify(**kind)
        pending.clear()
        return bridge._json(user)

    async def verify_with_passkey() -> dict[str, Any]:
        user = await ceremony(challenge().verify(authenticator=authenticator()))
        pending.clear()
        return bridge._json(user)

    async def log_in_with_passkey() -> dict[str, Any]:
        return bridge._json(await ceremony(bridge._app.log_in(
            Credentials.passkey(authenticator()))))

    async def sign_up_with_passkey(name: str | None = None) -> dict[str, Any]:
        return bridge._json(await ceremony(bridge._app.log_in(
            Credentials.new_passkey(authenticator(), name=name))))

    async def passkeys() -> list[dict[str, Any]]:
        return [_passkey(p) for p in await bridge._user(None).passkeys.fetch_all()]

    async def add_passkey(name: str | None = None) -> dict[str, Any]:
        user = bridge._user(None)
        return _passkey(await ceremony(user.passkeys.register(authenticator(), name=name)))

    async def rename_passkey(passkey_id: str, name: str) -> dict[str, Any]:
        return _passkey(await bridge._user(None).passkeys.rename(passkey_id, name))

    async def delete_passkey(passkey_id: str) -> None:
        await bridge._user(None).passkeys.delete(passkey_id)

    async def status() -> dict[str, Any]:
        found = await bridge._user(None).mfa.status()
        return {"totp": found.totp, "recoveryCodesLeft": found.recovery_codes_left,
                "passkeys": found.passkeys, "required": found.required}

    async def enrol_totp() -> dict[str, str]:
        waiting = pending.get("login")
        if waiting is not None and waiting.enrolment_required:
            enrolment = await waiting.enrol_totp()
        else:
            enrolment = await bridge._user(None).mfa.enrol_totp()
        values = asdict(enrolment)
        return {"secret": values["secret"], "otpauthUri": values["otpauth_uri"],
                "qrSvg": values["qr_svg"]}

    async def confirm_totp(code: str) -> dict[str, Any]:
        waiting = pending.get("login")
        if waiting is not None and waiting.enrolment_required:
            user, codes = await waiting.confirm_totp(code.strip())
            pending.clear()
            return {"recoveryCodes": codes, "user": bridge._json(user)}
        return {"recoveryCodes": await bridge._user(None).mfa.confirm_totp(code.strip())}

    async def disable_totp(code: str) -> None:
        text = code.strip()
        mfa = bridge._user(None).mfa
        if text.replace(" ", "").isdigit():
            await mfa.disable_totp(code=text.replace(" ", ""))
        else:
            await mfa.disable_totp(recovery_code=text)

    async def pending_challenge() -> dict[str, Any]:
        waiting = challenge()
        return {"factors": list(waiting.factors), "expiresIn": waiting.expires_in,
                "enrolmentRequired": waiting.enrolment_required}

    return {
        "logIn": log_in, "logInWithPasskey": log_in_with_passkey,
        "signUpWithPasskey": sign_up_with_passkey, "verifySecondFactor": verify,
        "verifySecondFactorWithPasskey": verify_with_passkey, "passkeys": passkeys,
        "addPasskey": add_passkey, "renamePasskey": rename_passkey,
        "deletePasskey": delete_passkey, "secondFactorStatus": status,
        "enrolTotp": enrol_totp, "confirmTotp": confirm_totp, "disableTotp": disable_totp,
        "secondFactorChallenge": pending_challenge,
    }

