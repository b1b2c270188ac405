"""The JSON schemas of passkeys and second factors (issue 14); ``schemas.py`` adds them to its
``SCHEMAS``, and ``factor_operations`` names them.
"""

from __future__ import annotations

from typing import Any

from .schemas import ref

_CEREMONY = {"type": "object", "description": "WebAuthn options as JSON "
             "(`PublicKeyCredentialCreationOptionsJSON` or `...RequestOptionsJSON`)."}
_CREDENTIAL = {"type": "object", "description": "The browser's `PublicKeyCredential` as JSON "
               "(`toJSON()`: `id`, `rawId`, `type`, `response` with base64url members)."}

_OBJ = "object"


def _object(properties: dict[str, Any], required: tuple[str, ...] = (),
            description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _OBJ, "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


_CODES = {"type": "array", "items": {"type": "string"}, "minItems": 10, "maxItems": 10,
          "description": "Single-use recovery codes, shown only now."}
_LOGIN = {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
          "user_id": {"type": "string"}, "device_id": {"type": "string"}}
FACTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "PasskeyOptionsBody": _object({"user_name": {"type": "string", "maxLength": 64}},
                                  description="The name the authenticator shows."),
    "PasskeyCeremony": _object({"challenge_id": {"type": "string"}, "options": _CEREMONY},
                               ("challenge_id", "options"),
                               "A ceremony's handle (single use) and its WebAuthn options."),
    "PasskeyRegistration": _object(
        {"challenge_id": {"type": "string"}, "credential": _CREDENTIAL,
         "name": {"type": "string", "minLength": 1, "maxLength": 64},
         "options": ref("LoginOptions")},
        ("challenge_id", "credential")),
    "Passkey": _object(
        {"id": {"type": "string"}, "name": {"type": "string"},
         "created_at": {"type": "number"}, "last_used_at": {"type": ["number", "null"]},
         "backed_up": {"type": "boolean"},
         "transports": {"type": "array", "items": {"type": "string"}}},
        ("id", "name", "created_at", "last_used_at", "backed_up", "transports")),
    "PasskeyRegistered": _object(
        {**_LOGIN, "passkey": ref("Passkey")}, ("user_id", "passkey"),
        "A new account: the login answer and the passkey; a linked passkey: `user_id` and "
        "`passkey`."),
    "PasskeyName": _object({"name": {"type": "string", "minLength": 1, "maxLength": 64}},
                           ("name",)),
    "MfaStatus": _object(
        {"totp": {"type": "boolean"}, "recovery_codes_left": {"type": "integer"},
         "passkeys": {"type": "integer"}, "required": {"type": "boolean"}},
        ("totp", "recovery_codes_left", "passkeys", "required")),
    "MfaToken": _object({"mfa_token": {"type": "string"}},
                        description="With no access token: the `mfa_token` of a login that "
                        "must enrol (`SecondFactorEnrolmentRequired`)."),
    "TotpEnrolment": _object(
        {"secret": {"type": "string"}, "otpauth_uri": {"type": "string"},
         "qr_svg": {"type": "string", "description": "The URI as a QR code, inline SVG."}},
        ("secret", "otpauth_uri", "qr_svg"), "Shown once; nothing is active before confirm."),
    "TotpCode": _object({"code": {"type": "string", "maxLength": 64},
                         "mfa_token": {"type": "string"}}, ("code",)),
    "RecoveryCodes": _object({"recovery_codes": _CODES, **_LOGIN}, ("recovery_codes",),
                             "With an `mfa_token`, the login answer too."),
    "SecondFactor": _object(
        {"code": {"type": "string", "maxLength": 64},
         "recovery_code": {"type": "string", "maxLength": 64},
         "passkey": _object({"challenge_id": {"type": "string"}, "credential": _CREDENTIAL})},
        description="One of: a TOTP `code`, a `recovery_code`, or a `passkey` answer to "
        "`.../auth/mfa/passkey/options`."),
    "SecondFactorLogin": _object(
        {"mfa_token": {"type": "string"}, "code": {"type": "string", "maxLength": 64},
         "recovery_code": {"type": "string", "maxLength": 64},
         "passkey": _object({"challenge_id": {"type": "string"}, "credential": _CREDENTIAL})},
        ("mfa_token",)),
    "MfaTokenRequired": _object({"mfa_token": {"type": "string"}}, ("mfa_token",)),
}
