"""The operations and schemas of passkeys and second factors (issue 14): Latchkey's additions to
the App Services client API, which has neither. ``operations.py`` appends them to its table.
"""

from __future__ import annotations

from app.sdk import routes as paths

from .operations import (
    _APP,
    _APP_404,
    _BODY_ERRORS,
    _LOGIN_429,
    ACCESS,
    NO_CONTENT,
    OPTIONAL_ACCESS,
    Operation,
    json_content,
)
from .schemas import ref

ADDITION = "Latchkey's addition (App Services has no passkeys or second factors). "
PASSKEYS, MFA = "passkeys", "second factor"
FACTOR_TAGS: list[dict[str, str]] = [
    {"name": PASSKEYS, "description": ADDITION + "WebAuthn registration, login with a "
     "discoverable credential (`.../auth/providers/passkey/login`), and the caller's list."},
    {"name": MFA, "description": ADDITION + "TOTP authenticators, recovery codes, and the "
     "second step of a login that answered `SecondFactorRequired`."},
]
_CRED = "{credential_id}"
_ACCESS_401 = ("No bearer token (`MissingAuthReq`), an unusable one (`InvalidSession`), or "
               "its user is disabled (`UserDisabled`).")
_OFF = "the passkey provider is off (`AuthProviderNotFound`)"
_MFA_OFF = "second factors are off for the app (`NotFound`)"
_CODE_401 = ("The code is wrong or used (`SecondFactorInvalid`), a passkey answer is refused "
             "(`PasskeyInvalid`), or the token is unusable (`MissingAuthReq`, `InvalidSession`).")
FACTOR_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", paths.passkey(_APP, paths.PASSKEY_REGISTER_OPTIONS), "passkeyRegisterOptions",
        PASSKEYS, "Start a passkey registration",
        ADDITION + "Without a token: for a new account (a new user with only this passkey). "
        "With the access token: one more passkey for the caller. The `challenge_id` is good "
        "once, for `[providers.passkey] challenge_seconds`.",
        security=OPTIONAL_ACCESS, body="PasskeyOptionsBody",
        examples={"newAccount": {"user_name": "ada"}},
        ok={"200": json_content(ref("PasskeyCeremony"), "For `navigator.credentials.create`.")},
        errors={**_BODY_ERRORS, 401: _ACCESS_401, 404: _APP_404 + ", or " + _OFF + ".",
                429: _LOGIN_429}),
    Operation(
        "post", paths.passkey(_APP, paths.PASSKEY_REGISTER), "passkeyRegister", PASSKEYS,
        "Finish a passkey registration",
        ADDITION + "Checks the challenge (once), the origin, the RP id and user verification. "
        "A new account answers like a login, plus the passkey.",
        security=OPTIONAL_ACCESS, body="PasskeyRegistration",
        ok={"201": json_content(ref("PasskeyRegistered"), "Registered.")},
        errors={**_BODY_ERRORS,
                401: "The ceremony is refused (`PasskeyInvalid`) or the token is unusable.",
                404: _APP_404 + ", or " + _OFF + ".",
                409: "The passkey is registered already (`IdentityAlreadyLinked`)."}),
    Operation(
        "post", paths.passkey(_APP, paths.PASSKEY_LOGIN_OPTIONS), "passkeyLoginOptions",
        PASSKEYS, "Start a passkey login",
        ADDITION + "No user name: the browser offers the discoverable passkeys it has for the "
        "RP id (conditional UI). Finish with `.../auth/providers/passkey/login` and "
        "`{challenge_id, credential}`.",
        ok={"200": json_content(ref("PasskeyCeremony"), "For `navigator.credentials.get`.")},
        errors={404: _APP_404 + ", or " + _OFF + ".", 429: _LOGIN_429}),
    Operation(
        "get", paths.passkey(_APP, paths.PASSKEY_CREDENTIALS), "listPasskeys", PASSKEYS,
        "The caller's passkeys", ADDITION + "Oldest first, without key material.",
        security=ACCESS,
        ok={"200": json_content({"type": "array", "items": ref("Passkey")}, "The passkeys.")},
        errors={401: _ACCESS_401, 404: _APP_404 + "."}),
    Operation(
        "patch", paths.passkey_credential(_APP, _CRED), "renamePasskey", PASSKEYS,
        "Rename one of the caller's passkeys", ADDITION, security=ACCESS, body="PasskeyName",
        examples={"example": {"name": "Work laptop"}},
        ok={"200": json_content(ref("Passkey"), "The renamed passkey.")},
        errors={**_BODY_ERRORS, 401: _ACCESS_401,
                404: _APP_404 + ", or not the caller's passkey (`PasskeyNotFound`)."}),
    Operation(
        "delete", paths.passkey_credential(_APP, _CRED), "deletePasskey", PASSKEYS,
        "Delete one of the caller's passkeys", ADDITION + "Its identity goes with it.",
        security=ACCESS, ok={"204": NO_CONTENT},
        errors={401: _ACCESS_401,
                404: _APP_404 + ", or not the caller's passkey (`PasskeyNotFound`).",
                409: "It is the account's only way to log in (`LastIdentity`)."}),
    Operation(
        "get", paths.mfa(_APP), "secondFactorStatus", MFA, "The caller's second factors",
        ADDITION, security=ACCESS, ok={"200": json_content(ref("MfaStatus"), "The status.")},
        errors={401: _ACCESS_401, 404: _APP_404 + "."}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_TOTP), "enrolTotp", MFA,
        "Start a TOTP enrolment",
        ADDITION + "A new secret, its `otpauth://` URI and QR code, shown once. Nothing changes "
        "for logins until it is confirmed. Takes the access token, or the `mfa_token` of a "
        "login that must enrol.",
        security=OPTIONAL_ACCESS, body="MfaToken",
        ok={"200": json_content(ref("TotpEnrolment"), "The secret, once.")},
        errors={**_BODY_ERRORS,
                401: _ACCESS_401 + " Or the `mfa_token` expired (`SecondFactorInvalid`).",
                404: _APP_404 + ", or " + _MFA_OFF + ".",
                409: "An authenticator is confirmed already (`SecondFactorExists`)."}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_TOTP_CONFIRM), "confirmTotp", MFA,
        "Confirm a TOTP enrolment with one code",
        ADDITION + "Answers ten recovery codes, shown once; with an `mfa_token`, finishes "
        "that login too.",
        security=OPTIONAL_ACCESS, body="TotpCode", examples={"example": {"code": "123456"}},
        ok={"200": json_content(ref("RecoveryCodes"), "Confirmed.")},
        errors={**_BODY_ERRORS, 401: _CODE_401,
                404: _APP_404 + ", or " + _MFA_OFF + ", or nothing waits for confirmation "
                     "(`SecondFactorNotFound`).", 429: _LOGIN_429}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_TOTP_DISABLE), "disableTotp", MFA,
        "Turn TOTP off", ADDITION + "Needs a current code, a recovery code or a passkey.",
        security=ACCESS, body="SecondFactor", examples={"example": {"code": "123456"}},
        ok={"204": NO_CONTENT},
        errors={**_BODY_ERRORS, 401: _CODE_401,
                404: _APP_404 + ", or " + _MFA_OFF + ", or no authenticator "
                     "(`SecondFactorNotFound`), or " + _OFF + ".", 429: _LOGIN_429}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_RECOVERY_CODES), "newRecoveryCodes", MFA,
        "Replace the recovery codes", ADDITION + "Needs a current code; the old codes stop "
        "working.", security=ACCESS, body="SecondFactor",
        examples={"example": {"code": "123456"}},
        ok={"200": json_content(ref("RecoveryCodes"), "Ten new codes, once.")},
        errors={**_BODY_ERRORS, 401: _CODE_401,
                404: _APP_404 + ", or " + _MFA_OFF + ", or no authenticator "
                     "(`SecondFactorNotFound`), or " + _OFF + ".", 429: _LOGIN_429}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_VERIFY), "verifySecondFactor", MFA,
        "Finish a login with its second factor",
        ADDITION + "After a login answered 401 `SecondFactorRequired` with an `mfa_token`: "
        "a TOTP `code`, a `recovery_code` or a `passkey` answer opens the session. A wrong "
        "code leaves the token usable until it expires; each code works once.",
        body="SecondFactorLogin",
        examples={"totp": {"mfa_token": "(from the login answer)", "code": "123456"}},
        ok={"200": json_content(ref("LoginResponse"), "Logged in.")},
        errors={**_BODY_ERRORS,
                401: "The code is wrong or used, or the login expired (`SecondFactorInvalid`), "
                     "a passkey answer is refused (`PasskeyInvalid`), or the user is disabled "
                     "(`UserDisabled`).",
                404: _APP_404 + ", or the user has no authenticator (`SecondFactorNotFound`), "
                     "or " + _OFF + ".", 429: _LOGIN_429}),
    Operation(
        "post", paths.mfa(_APP, paths.MFA_PASSKEY_OPTIONS), "secondFactorPasskeyOptions", MFA,
        "Start a passkey answer to a login's second step",
        ADDITION + "Options that allow only the waiting login's user's passkeys.",
        body="MfaTokenRequired",
        ok={"200": json_content(ref("PasskeyCeremony"), "For `navigator.credentials.get`.")},
        errors={**_BODY_ERRORS, 401: "The login expired (`SecondFactorInvalid`).",
                404: _APP_404 + ", or " + _OFF + "."}),
)
