"""The OpenAPI document's shared parts: the wire's JSON shapes (``components.schemas``), the one
error response every failure refers to, and the two bearer token schemes.

Rule: every error answer of every operation is ``#/components/responses/Error`` (whose schema is
``#/components/schemas/Error``, the wire's ``{error, error_code, link}``); nothing else describes
an error. ``tests/server/test_openapi.py`` enforces it.

Data only: no Starlette, no services.
"""

from __future__ import annotations

from typing import Any

from app.sdk.errors import ErrorCode

ERROR_REF = "#/components/responses/Error"
ERROR_SCHEMA_REF = "#/components/schemas/Error"

#: Codes that only the SDK makes, never the server.
CLIENT_ONLY_CODES = frozenset({ErrorCode.NETWORK_ERROR, ErrorCode.WINDOW_CLOSED,
                               ErrorCode.UNKNOWN})

_EMAIL = {"type": "string", "format": "email", "maxLength": 254,
          "description": "An address with an `@`, printable, without spaces."}
_ID = {"type": "string", "pattern": "^[0-9a-f]{24}$",
       "description": "An ObjectId as 24 lowercase hex digits."}
_JWT = {"type": "string", "description": "A signed JWT (HS256)."}


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of ``components.schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (),
            description: str = "", *, closed: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _error_codes() -> list[str]:
    return [code.value for code in ErrorCode if code not in CLIENT_ONLY_CODES]


_EJSON_NOTE = (
    "Bodies are Extended JSON, canonical or relaxed: a string may also arrive as itself, and a "
    "number as `{\"$numberInt\": \"5\"}`. Unknown members are ignored."
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _object(
        {
            "error": {"type": "string", "description": "What went wrong, for people; never "
                      "holds a password, token or key."},
            "error_code": {"type": "string", "description": "The CamelCase wire code "
                           "(`app.sdk.errors.ErrorCode`).", "examples": _error_codes()},
            "link": {"type": "string", "description": "Where the error is explained."},
        },
        ("error", "error_code", "link"),
        "Every failure, always sent with `Content-Type: application/json` exactly.",
    ),
    "Location": _object(
        {
            "hostname": {"type": "string", "description": "Base URL of every further request "
                         "(no trailing slash)."},
            "ws_hostname": {"type": "string", "description": "The same host as `ws://` or "
                            "`wss://`."},
            "deployment_model": {"type": "string", "const": "LOCAL"},
            "location": {"type": "string", "examples": ["self-hosted"]},
        },
        ("hostname", "ws_hostname", "deployment_model", "location"),
    ),
    "Provider": _object(
        {
            "name": {"type": "string", "description": "The provider's name in login paths."},
            "type": {"type": "string", "description": "Its type (`oidc` for every `oidc-*`)."},
            "display_name": {"type": "string", "description": "Social providers only."},
        },
        ("name", "type"),
    ),
    "Device": _object(
        {
            "deviceId": {"description": "A device id this client got before, as "
                         "`{\"$oid\": ...}` or plain hex; kept when valid and non-zero."},
            "platform": {"type": "string"},
            "platformVersion": {"type": "string"},
            "sdkVersion": {"type": "string"},
        },
        description="What realm-web and realm-core send about the client; any subset and "
        "unknown members are accepted.",
    ),
    "LoginOptions": _object({"device": ref("Device")}),
    "LoginBody": {
        "description": "The credentials of the provider in the path, plus `options`. "
        "`anon-user`: nothing. `local-userpass`: `username` (the email) and `password`. "
        "`api-key`: `key`. `custom-token`: `token`. `custom-function`: whatever the app's "
        "function reads. Social providers: `id_token`, `authCode` or `accessToken`. " + _EJSON_NOTE,
        "type": "object",
        "properties": {
            "options": ref("LoginOptions"),
            "username": {"type": "string"},
            "password": {"type": "string"},
            "key": {"type": "string"},
            "token": {"type": "string"},
            "id_token": {"type": "string"},
            "authCode": {"type": "string"},
            "accessToken": {"type": "string"},
        },
    },
    "LoginResponse": _object(
        {
            "access_token": _JWT,
            "refresh_token": {**_JWT, "description": "A signed JWT (HS256); not sent when "
                              "linking (`link=true`), where clients keep theirs."},
            "user_id": _ID,
            "device_id": _ID,
        },
        ("access_token", "user_id", "device_id"),
    ),
    "AccessToken": _object({"access_token": _JWT}, ("access_token",)),
    "Identity": _object(
        {
            "id": {"type": "string", "description": "Unique within its provider."},
            "provider_type": {"type": "string"},
            "provider_id": {"type": "string"},
            "provider_data": {"type": "object", "description": "Metadata this provider gave "
                              "(email, name, picture ...), when it gave any."},
        },
        ("id", "provider_type", "provider_id"),
    ),
    "Profile": _object(
        {
            "user_id": _ID,
            "domain_id": {"type": "string"},
            "type": {"type": "string", "enum": ["normal", "server"]},
            "identities": {"type": "array", "items": ref("Identity")},
            "data": {"type": "object", "description": "Metadata merged from the identities."},
        },
        ("user_id", "domain_id", "type", "identities", "data"),
    ),
    "EmailBody": _object({"email": _EMAIL}, ("email",),
                         "An email/password account's address. " + _EJSON_NOTE),
    "RegisterBody": _object(
        {"email": _EMAIL,
         "password": {"type": "string", "minLength": 6, "maxLength": 128}},
        ("email", "password"), _EJSON_NOTE,
    ),
    "TokenBody": _object(
        {"token": {"type": "string"}, "tokenId": {"type": "string"}},
        ("token", "tokenId"), "The pair from a confirmation link. " + _EJSON_NOTE,
    ),
    "ResetBody": _object(
        {"token": {"type": "string"}, "tokenId": {"type": "string"},
         "password": {"type": "string", "minLength": 6, "maxLength": 128}},
        ("token", "tokenId", "password"), "The pair from a reset link and the new password.",
    ),
    "ResetCallBody": _object(
        {"email": _EMAIL,
         "password": {"type": "string", "minLength": 6, "maxLength": 128},
         "arguments": {"type": "array", "description": "More arguments for the app's reset "
                       "function, as EJSON."}},
        ("email", "password"),
        "The app's reset function gets `{token, tokenId, username, password}` and the "
        "`arguments`; its `status` decides (`success`, `pending`, `fail`).",
    ),
    "ApiKeyName": _object(
        {"name": {"type": "string", "minLength": 1, "maxLength": 128,
                  "description": "Printable, unique among the user's keys."}},
        ("name",),
    ),
    "ApiKey": _object(
        {"_id": _ID, "name": {"type": "string"}, "disabled": {"type": "boolean"}},
        ("_id", "name", "disabled"), closed=True,
    ),
    "ApiKeyCreated": _object(
        {"_id": _ID, "key": {"type": "string", "description": "The secret; shown only here."},
         "name": {"type": "string"}, "disabled": {"type": "boolean"}},
        ("_id", "key", "name", "disabled"), closed=True,
    ),
    "FunctionCall": _object(
        {
            "name": {"type": "string", "minLength": 1, "description": "A public function of "
                     "the app; a private one answers as an unknown one (404)."},
            "arguments": {"type": "array", "description": "The arguments, as EJSON."},
            "service": {"type": "string", "description": "Service calls (MongoDB rules) are "
                        "not served: any value answers 404 `ServiceNotFound`."},
        },
        ("name",),
    ),
    "EJSON": {"description": "Any value as canonical Extended JSON (`{\"$numberInt\": \"5\"}`, "
              "`{\"$oid\": ...}`, `{\"$date\": ...}` ...)."},
}

ERROR_RESPONSE: dict[str, Any] = {
    "description": "The request failed; `error_code` says why.",
    "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "accessToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "The `access_token` of a login or refresh (30 minutes by default). "
        "Without a header: 401 `MissingAuthReq`; an unusable token: 401 `InvalidSession`.",
    },
    "refreshToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "The `refresh_token` of a login; it lives as long as its session.",
    },
}

# The Admin API's shapes and token schemes (kept in their own module).
from .admin_schemas import ADMIN_SCHEMAS, ADMIN_SECURITY_SCHEMES  # noqa: E402

SCHEMAS.update(ADMIN_SCHEMAS)
SECURITY_SCHEMES.update(ADMIN_SECURITY_SCHEMES)
