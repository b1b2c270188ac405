"""The Admin API's JSON shapes and its two bearer token schemes, merged into ``schemas``.

Data only: no Starlette, no services, and nothing of ``schemas`` (which imports this module).
"""

from __future__ import annotations

from typing import Any

ADMIN_ACCESS = "adminAccessToken"
ADMIN_REFRESH = "adminRefreshToken"

_ID = {"type": "string", "pattern": "^[0-9a-f]{24}$",
       "description": "An ObjectId as 24 lowercase hex digits."}
_SECONDS = {"type": "integer", "description": "Seconds since the epoch."}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (),
            description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(required)}
    if description:
        schema["description"] = description
    return schema


ADMIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "AdminLoginBody": _object(
        {"username": {"type": "string", "description": "The admin key's public key."},
         "apiKey": {"type": "string", "description": "The admin key's private key."}},
        ("username", "apiKey"),
        "An admin key made with `python serve.py admin-keys create NAME`.",
    ),
    "AdminLoginResponse": _object(
        {"access_token": {"type": "string"}, "refresh_token": {"type": "string"},
         "user_id": {**_ID, "description": "The admin key's id."}, "device_id": _ID},
        ("access_token", "refresh_token", "user_id", "device_id"),
    ),
    "AdminAccessToken": _object({"access_token": {"type": "string"}}, ("access_token",)),
    "AdminProfile": _object(
        {"user_id": _ID, "domain_id": _ID, "type": {"type": "string"},
         "identities": {"type": "array", "items": {"type": "object"}},
         "data": {"type": "object"},
         "roles": {"type": "array", "items": _object(
             {"role_name": {"type": "string"}, "group_id": _ID}, ("role_name", "group_id"))}},
        ("user_id", "roles"),
        "The admin key; `roles` names the one group (project) this server answers for.",
    ),
    "AdminApp": _object(
        {"_id": _ID, "client_app_id": {"type": "string"}, "name": {"type": "string"},
         "group_id": _ID, "domain_id": _ID, "location": {"type": "string"},
         "deployment_model": {"type": "string"}, "product": {"type": "string"}},
        ("_id", "client_app_id", "name", "group_id", "location", "deployment_model"),
    ),
    "AdminIdentity": _object(
        {"id": {"type": "string"}, "provider_type": {"type": "string"},
         "provider_id": {"type": "string"},
         "provider_data": {"type": "object", "description": "What the provider gave (email, "
                           "name ...); `{}` when nothing."}},
        ("id", "provider_type", "provider_id", "provider_data"),
    ),
    "AdminUser": _object(
        {"_id": _ID,
         "identities": {"type": "array", "items": _ref("AdminIdentity")},
         "type": {"type": "string", "enum": ["normal", "server"]},
         "disabled": {"type": "boolean"},
         "data": {"type": "object", "description": "Metadata merged from the identities "
                  "(`email` for email/password users, `name` for API keys)."},
         "creation_date": _SECONDS,
         "last_authentication_date": {**_SECONDS, "description": "Seconds since the epoch; 0 "
                                      "when the user never logged in."}},
        ("_id", "identities", "type", "disabled", "data", "creation_date",
         "last_authentication_date"),
    ),
    "AdminCreateUser": _object(
        {"email": {"type": "string", "format": "email", "maxLength": 254},
         "password": {"type": "string", "minLength": 6, "maxLength": 128}},
        ("email", "password"),
    ),
    "AdminDevice": _object(
        {"_id": {"type": "string", "description": "The device id sessions were issued for."},
         "sessions": {"type": "integer", "description": "Its live sessions."},
         "first_session_date": _SECONDS, "last_session_date": _SECONDS},
        ("_id", "sessions", "first_session_date", "last_session_date"),
        "A device of the user, from its sessions (Latchkey keeps no platform details).",
    ),
    "AdminPendingUser": _object(
        {"_id": _ID, "user_id": {"type": "string", "description": "Always empty: the user is "
                                 "made at the first login after confirmation."},
         "domain_id": _ID,
         "login_ids": {"type": "array", "items": _object(
             {"id": {"type": "string"}, "id_type": {"type": "string", "const": "email"}},
             ("id", "id_type"))},
         "creation_date": _SECONDS},
        ("_id", "user_id", "domain_id", "login_ids"),
    ),
    "AdminApiKey": _object(
        {"_id": _ID, "name": {"type": "string"}, "disabled": {"type": "boolean"}},
        ("_id", "name", "disabled"),
    ),
    "AdminApiKeyCreated": _object(
        {"_id": _ID, "name": {"type": "string"}, "disabled": {"type": "boolean"},
         "key": {"type": "string", "description": "The secret; shown only here."}},
        ("_id", "name", "disabled", "key"),
    ),
    "AdminApiKeyName": _object(
        {"name": {"type": "string", "minLength": 1, "maxLength": 128}}, ("name",)),
    "CustomData": {"type": "object", "description": "A custom user data document (relaxed "
                   "Extended JSON); the user id field is set by the server."},
}

ADMIN_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    ADMIN_ACCESS: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "The `access_token` of an admin login (`POST /api/admin/v3.0/auth/"
        "providers/mongodb-cloud/login`). Client tokens are refused (401 `InvalidSession`), "
        "as admin tokens are on client routes.",
    },
    ADMIN_REFRESH: {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "The `refresh_token` of an admin login.",
    },
}
