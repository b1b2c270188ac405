"""Second factors in the SDK, issue 14: the challenge a password login may answer with, and a
user's TOTP authenticator and recovery codes.

A login of a user with an authenticator raises ``SecondFactorRequired``, an ``AppError`` (so
code that catches ``AppError`` keeps working) that can finish the login:

```python
try:
    user = await app.log_in(Credentials.email_password(email, password))
except SecondFactorRequired as challenge:
    user = await challenge.verify(code="123456")       # or recovery_code=..., authenticator=...
```

With ``enrolment_required`` (the app requires a factor and the user has none) the same object
enrols instead: ``enrolment = await challenge.enrol_totp()``, then
``user, codes = await challenge.confirm_totp(code)``. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import routes
from .errors import AppError, ErrorCode
from .fetcher import Fetcher
from .http import Request, Response
from .passkeys import Authenticator, _ceremony
from .tokens import AuthResponse

if TYPE_CHECKING:
    from .user import User

T = TypeVar("T")
_CHALLENGES = (ErrorCode.SECOND_FACTOR_REQUIRED, ErrorCode.SECOND_FACTOR_ENROLMENT_REQUIRED)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new authenticator key, shown once: the ``secret`` to type, the ``otpauth_uri`` and
    the same as a QR code (``qr_svg``, inline SVG)."""

    secret: str
    otpauth_uri: str
    qr_svg: str

    def __repr__(self) -> str:
        return "TotpEnrolment(secret=…)"

    @classmethod
    def from_json(cls, body: Any) -> TotpEnrolment:
        """From the server's answer; ``ValueError`` when it is not one."""
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                 for k in ("secret", "otpauth_uri", "qr_svg")):
            raise ValueError("Expected {secret, otpauth_uri, qr_svg}.")
        return cls(body["secret"], body["otpauth_uri"], body["qr_svg"])


@dataclass(frozen=True, slots=True)
class SecondFactorStatus:
    """What a user has: an authenticator, how many recovery codes are left, passkeys, and
    whether the app requires a second factor."""

    totp: bool
    recovery_codes_left: int
    passkeys: int
    required: bool

    @classmethod
    def from_json(cls, body: Any) -> SecondFactorStatus:
        """From the server's answer; ``ValueError`` when it is not one."""
        if not isinstance(body, dict):
            raise ValueError("Expected a second factor status.")
        return cls(bool(body.get("totp")), int(body.get("recovery_codes_left", 0)),
                   int(body.get("passkeys", 0)), bool(body.get("required")))


def _codes(body: Any) -> list[str]:
    codes = body.get("recovery_codes") if isinstance(body, dict) else None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValueError("Expected recovery_codes.")
    return list(codes)


Finish = Callable[[AuthResponse], Awaitable["User"]]


class SecondFactorRequired(AppError):
    """The password was right and the login needs a second factor (``factors`` says which:
    ``"totp"``, ``"recovery_code"``, ``"passkey"``), or, with ``enrolment_required``, the user
    must set one up first. Its methods finish the login."""

    mfa_token: str
    factors: tuple[str, ...]
    expires_in: int

    @property
    def enrolment_required(self) -> bool:
        """The app requires a second factor and the user has none yet."""
        return self.code is ErrorCode.SECOND_FACTOR_ENROLMENT_REQUIRED

    def _bind(self, fetcher: Fetcher, app_id: str, body: dict[str, Any],
              finish: Finish) -> SecondFactorRequired:
        self.mfa_token = str(body.get("mfa_token", ""))
        self.factors = tuple(str(f) for f in body.get("factors", ()))
        self.expires_in = int(body.get("expires_in", 0))
        self._fetcher, self._app_id, self._finish = fetcher, app_id, finish
        return self

    async def verify(self, *, code: str | None = None, recovery_code: str | None = None,
                     authenticator: Authenticator | None = None) -> User:
        """Finish the login with a TOTP ``code``, a ``recovery_code`` or a passkey; the user,
        logged in and current. A wrong code raises ``AppError`` (``SECOND_FACTOR_INVALID``)
        and this challenge stays usable until it expires."""
        body: dict[str, Any] = {"mfa_token": self.mfa_token}
        if code is not None:
            body["code"] = code
        elif recovery_code is not None:
            body["recovery_code"] = recovery_code
        elif authenticator is not None:
            challenge_id, options = await self._fetcher.fetch(
                "POST", routes.mfa(self._app_id, routes.MFA_PASSKEY_OPTIONS),
                body={"mfa_token": self.mfa_token}, parse=_ceremony)
            body["passkey"] = {"challenge_id": challenge_id,
                               "credential": await authenticator.get(options)}
        else:
            raise ValueError("verify needs a code, a recovery_code or an authenticator.")
        auth = await self._fetcher.fetch("POST", routes.mfa(self._app_id, routes.MFA_VERIFY),
                                         body=body, parse=AuthResponse.from_json)
        return await self._finish(auth)

    async def enrol_totp(self) -> TotpEnrolment:
        """Start setting up an authenticator for this login (``enrolment_required``)."""
        return await self._fetcher.fetch("POST", routes.mfa(self._app_id, routes.MFA_TOTP),
                                         body={"mfa_token": self.mfa_token},
                                         parse=TotpEnrolment.from_json)

    async def confirm_totp(self, code: str) -> tuple[User, list[str]]:
        """Confirm it with one code: the logged-in user and ten recovery codes (shown once)."""
        body: Any = await self._fetcher.fetch(
            "POST", routes.mfa(self._app_id, routes.MFA_TOTP_CONFIRM),
            body={"mfa_token": self.mfa_token, "code": code})
        codes = _codes(body)
        return await self._finish(AuthResponse.from_json(body)), codes


def challenge_of(request: Request, response: Response) -> SecondFactorRequired | None:
    """The challenge in a login's error answer, unbound; ``None`` for any other answer."""
    err = AppError.from_response(request, response)
    if err.code not in _CHALLENGES:
        return None
    challenge = SecondFactorRequired(err.message, code=err.code, status=err.status,
                                     method=err.method, url=err.url, link=err.link,
                                     error=err.error, wire_code=err.wire_code)
    return challenge


async def log_in(fetcher: Fetcher, app_id: str, path: str, body: dict[str, Any],
                 finish: Finish) -> AuthResponse:
    """``POST`` a login; its answer, or ``SecondFactorRequired`` bound to ``finish``."""
    request, response = await fetcher._exchange("POST", path, body, "none", None)
    if response.status == 401:
        challenge = challenge_of(request, response)
        if challenge is not None:
            raise challenge._bind(fetcher, app_id, json.loads(response.body), finish)
    return fetcher._interpret(request, response, AuthResponse.from_json)


class SecondFactorAuth:
    """The second factors of one user: ``user.mfa``. Every call uses its access token."""

    def __init__(self, user: User) -> None:
        self._user = user

    async def _call(self, action: str, body: Any, parse: Callable[[Any], T],
                    method: str = "POST") -> T:
        return await self._user._fetcher.fetch(
            method, routes.mfa(self._user._fetcher.app_id, action), body=body,
            token_type="access", user=self._user, parse=parse)

    async def status(self) -> SecondFactorStatus:
        """Whether the user has an authenticator, recovery codes left, and passkeys."""
        return await self._call(routes.MFA_STATUS, None, SecondFactorStatus.from_json, "GET")

    async def enrol_totp(self) -> TotpEnrolment:
        """A new authenticator key (shown once); nothing changes until ``confirm_totp``."""
        return await self._call(routes.MFA_TOTP, {}, TotpEnrolment.from_json)

    async def confirm_totp(self, code: str) -> list[str]:
        """Turn the authenticator on with one of its codes: ten recovery codes, shown once."""
        return await self._call(routes.MFA_TOTP_CONFIRM, {"code": code}, _codes)

    async def disable_totp(self, *, code: str | None = None,
                           recovery_code: str | None = None) -> None:
        """Turn the authenticator off, with a current code or a recovery code."""
        await self._call(routes.MFA_TOTP_DISABLE, _proof(code, recovery_code), _keep)

    async def new_recovery_codes(self, *, code: str | None = None,
                                 recovery_code: str | None = None) -> list[str]:
        """Ten new recovery codes (the old ones stop working), with a current code."""
        return await self._call(routes.MFA_RECOVERY_CODES, _proof(code, recovery_code), _codes)


def _keep(body: Any) -> Any:
    return body


def _proof(code: str | None, recovery_code: str | None) -> dict[str, str]:
    if code is not None:
        return {"code": code}
    if recovery_code is not None:
        return {"recovery_code": recovery_code}
    raise ValueError("Give a code or a recovery_code.")
