"""The Admin API's operations (``/api/admin/v3.0``), appended to ``operations.OPERATIONS``.

Paths come from ``server.admin_api.paths``. Summaries of Latchkey's additions to the App
Services Admin API start with "Latchkey's addition".
"""

from __future__ import annotations

from typing import Any

from ..admin_api import paths
from .admin_schemas import ADMIN_ACCESS, ADMIN_REFRESH
from .operations import _BODY_ERRORS, NO_CONTENT, Operation, _query, json_content
from .schemas import ref

ADDITION = "Latchkey's addition (not in App Services' Admin API): "

ADMIN_TAGS: list[dict[str, str]] = [
    {"name": "admin auth", "description": "Admin API: logging in with an admin key."},
    {"name": "admin users", "description": "Admin API: the app, its users, pending "
     "registrations and API keys, as the `appservices` CLI calls them."},
]

_ADMIN_401 = ("No bearer token (`MissingAuthReq`), or not the access token of a live admin "
              "session (`InvalidSession`; a client token too).")
_APP_404 = ("The group is not this server's (`GroupNotFound`) or the app is not "
            "(`AppNotFound`)")
_USER_404 = _APP_404 + ", or no such user (`UserNotFound`)."
_LIMIT = _query("limit", "At most this many (1 to 1000; 50 by default).",
                {"type": "integer", "minimum": 1, "maximum": 1000})
_AFTER = _query("after", "The `_id` of the last one of the previous page: the next page "
                "starts after it.")


def _admin(method: str, path: str, op_id: str, summary: str, description: str = "", *,
           ok: dict[str, Any], errors: dict[int, str] | None = None,
           query: tuple[dict[str, Any], ...] = (), body: str | None = None,
           examples: dict[str, Any] | None = None, tag: str = "admin users") -> Operation:
    found = {401: _ADMIN_401, 404: _APP_404 + ".", **(errors or {})}
    if body is not None:
        found = {**_BODY_ERRORS, **found}
    return Operation(method, path, op_id, tag, summary, description, security=ADMIN_ACCESS,
                     query=query, body=body, examples=examples or {}, ok=ok, errors=found)


def _list(name: str, text: str) -> dict[str, Any]:
    return {"200": json_content({"type": "array", "items": ref(name)}, text)}


AUTH_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", paths.LOGIN, "adminLogIn", "admin auth", "Log in with an admin key",
        "The key pair comes from `python serve.py admin-keys create NAME` on the server. "
        "Rate limited per client address and per key and address, like email/password "
        "logins.",
        body="AdminLoginBody",
        examples={"example": {"username": "abcdefgh",
                              "apiKey": "(the 64-character private key)"}},
        ok={"200": json_content(ref("AdminLoginResponse"), "An admin session.")},
        errors={**_BODY_ERRORS,
                401: "Unknown or wrong key pair, or a disabled key (`AuthError`).",
                429: "Too many login attempts from this address (`TooManyRequests`)."},
    ),
    Operation(
        "post", paths.SESSION, "adminRefresh", "admin auth", "A new admin access token",
        security=ADMIN_REFRESH,
        ok={"201": json_content(ref("AdminAccessToken"), "A fresh access token.")},
        errors={401: "No bearer token (`MissingAuthReq`), or not the refresh token of a live "
                     "admin session (`InvalidSession`)."},
    ),
    Operation(
        "delete", paths.SESSION, "adminLogOut", "admin auth", "Log out: end the admin session",
        security=ADMIN_REFRESH, ok={"204": NO_CONTENT},
        errors={401: "No bearer token (`MissingAuthReq`), or no such admin session "
                     "(`InvalidSession`)."},
    ),
    Operation(
        "get", paths.PROFILE, "adminProfile", "admin auth", "The admin's profile and role",
        "`roles[].group_id` is the group (project) id to use in every other path.",
        security=ADMIN_ACCESS,
        ok={"200": json_content(ref("AdminProfile"), "The admin.")},
        errors={401: _ADMIN_401},
    ),
)

_NONE = {"204": NO_CONTENT}
_KEY_404 = _APP_404 + ", or no such key of the app (`APIKeyNotFound`)."
_USER_KEY_404 = _USER_404[:-1] + ", or no such key of the user's (`APIKeyNotFound`)."
_PENDING_404 = (_APP_404 + ", or no registration with this address (`UserNotFound`), or the "
                "email/password provider is off (`AuthProviderNotFound`).")
_PAGE_400 = {400: "A malformed query parameter (`InvalidParameter`)."}
_CUSTOM_400 = "Custom user data is not enabled in `[custom_user_data]` (`BadRequest`)."

USER_OPERATIONS: tuple[Operation, ...] = (
    _admin("get", paths.APPS, "adminListApps", "The group's apps: this server's app",
           description="The CLI asks for each product; only `standard` (or none) lists the "
           "app.", query=(_query("product", "`standard` (the default) lists the app; other "
                                  "products list nothing."),),
           ok=_list("AdminApp", "The app."),
           errors={404: "The group is not this server's (`GroupNotFound`)."}),
    _admin("get", paths.APP, "adminGetApp", "The app",
           ok={"200": json_content(ref("AdminApp"), "The app.")}),
    _admin("get", paths.USERS, "adminListUsers", "A page of the app's users",
           "In `_id` order, 50 by default; the next page starts `after` the last `_id`.",
           query=(_query("status", "Only `enabled` or only `disabled` users.",
                         {"type": "string", "enum": ["enabled", "disabled"]}),
                  _query("provider_types", "Only users with an identity of one of these "
                         "provider types (comma-separated)."),
                  _AFTER, _LIMIT),
           ok=_list("AdminUser", "The users."), errors=_PAGE_400),
    _admin("post", paths.USERS, "adminCreateUser", "Create a confirmed email/password user",
           body="AdminCreateUser",
           examples={"example": {"email": "ada@example.com", "password": "correct horse"}},
           ok={"201": json_content(ref("AdminUser"), "The new user.")},
           errors={404: _APP_404 + ", or the email/password provider is off "
                   "(`AuthProviderNotFound`).",
                   409: "The address has an account (`AccountNameInUse`)."}),
    _admin("get", paths.USER_SEARCH, "adminSearchUsers",
           ADDITION + "find users by id or email prefix",
           "`q` is a user id (24 hex digits), or the start of an address: of an "
           "email/password account (compared in any case or Unicode form), or the one a "
           "login provider gave an identity (compared as given with `q` in lower case).",
           query=(_query("q", "A user id, or the start of an address.", required=True),
                  _LIMIT),
           ok=_list("AdminUser", "The users found, by address."),
           errors={400: "No `q`, or a malformed parameter (`InvalidParameter`)."}),
    _admin("get", paths.USER, "adminGetUser", "One user",
           ok={"200": json_content(ref("AdminUser"), "The user.")}, errors={404: _USER_404}),
    _admin("delete", paths.USER, "adminDeleteUser", "Delete a user",
           "With its identities, sessions, API keys and email/password account, as the "
           "client API's `DELETE /auth/delete` does.", ok=_NONE, errors={404: _USER_404}),
    _admin("put", paths.USER_ENABLE, "adminEnableUser", "Enable a user", ok=_NONE,
           errors={404: _USER_404}),
    _admin("put", paths.USER_DISABLE, "adminDisableUser", "Disable a user",
           "Its sessions end in the same transaction; logins answer `UserDisabled`.",
           ok=_NONE, errors={404: _USER_404}),
    _admin("put", paths.USER_LOGOUT, "adminLogOutUser", "End every session of a user",
           "Its refresh and access tokens stop working at once; it may log in again.",
           ok=_NONE, errors={404: _USER_404}),
    _admin("get", paths.USER_DEVICES, "adminUserDevices", "A user's devices",
           "From its live sessions.", ok=_list("AdminDevice", "The devices."),
           errors={404: _USER_404}),
    _admin("delete", paths.USER_FACTORS, "adminResetUserFactors",
           ADDITION + "reset a user's second factors",
           "Removes its TOTP authenticator and recovery codes, as `python serve.py users "
           "reset-factors ID` does: its password logins no longer ask for a code (unless "
           "`[mfa] required` asks it to set one up again). Its passkeys stay. 204 also when "
           "it had no authenticator.", ok=_NONE, errors={404: _USER_404}),
    _admin("get", paths.USER_CUSTOM_DATA, "adminGetCustomData",
           ADDITION + "a user's custom user data",
           ok={"200": json_content(ref("CustomData"), "The document (`{}` for none).")},
           errors={400: _CUSTOM_400, 404: _USER_404}),
    _admin("put", paths.USER_CUSTOM_DATA, "adminSetCustomData",
           ADDITION + "replace a user's custom user data",
           "The user sees it in its next access token.", body="CustomData",
           examples={"example": {"plan": "pro", "seats": 5}}, ok=_NONE,
           errors={400: _CUSTOM_400 + " Or a body that is not a JSON object.",
                   404: _USER_404}),
    _admin("get", paths.USER_API_KEYS, "adminListUserApiKeys",
           ADDITION + "a user's API keys", ok=_list("AdminApiKey", "Oldest first."),
           errors={404: _USER_404}),
    _admin("get", paths.USER_API_KEY, "adminGetUserApiKey", ADDITION + "one of a user's keys",
           ok={"200": json_content(ref("AdminApiKey"), "The key, without secret.")},
           errors={404: _USER_KEY_404}),
    _admin("delete", paths.USER_API_KEY, "adminDeleteUserApiKey",
           ADDITION + "delete one of a user's keys", "Its sessions end with it.", ok=_NONE,
           errors={404: _USER_KEY_404}),
    *(
        _admin("put", template, f"admin{verb.title()}UserApiKey",
               ADDITION + f"{verb} one of a user's keys", "Disabling ends its sessions.",
               ok=_NONE, errors={404: _USER_KEY_404})
        for verb, template in (("enable", paths.USER_API_KEY_ENABLE),
                               ("disable", paths.USER_API_KEY_DISABLE))
    ),
    _admin("get", paths.PENDING_USERS, "adminListPendingUsers",
           "Unconfirmed email/password registrations",
           "In `_id` order, 50 by default.", query=(_AFTER, _LIMIT),
           ok=_list("AdminPendingUser", "The registrations."), errors=_PAGE_400),
    _admin("post", paths.BY_EMAIL_CONFIRM, "adminConfirmPendingUser", "Confirm a registration",
           ok=_NONE, errors={400: "Confirmed already (`UserAlreadyConfirmed`).",
                             404: _PENDING_404}),
    _admin("post", paths.BY_EMAIL_RUN_CONFIRM, "adminRerunConfirmation",
           "Run the confirmation again",
           "Mails the link again (`confirmation = \"email\"`) or calls the app's "
           "confirmation function (`\"function\"`).",
           ok={"202": {"description": "Done; no body."}},
           errors={400: "Confirmed already (`UserAlreadyConfirmed`), automatic confirmation "
                   "(`BadRequest`), or the function refused (`BadRequest`).",
                   404: _PENDING_404[:-1] + ", or the confirmation function is missing "
                   "(`FunctionNotFound`).",
                   429: "Too many mails to this address (`TooManyRequests`)."}),
    _admin("delete", paths.BY_EMAIL, "adminDeletePendingUser", "Delete a registration",
           "Only one no user logged in with yet; its links go with it.", ok=_NONE,
           errors={404: _PENDING_404}),
    _admin("get", paths.API_KEYS, "adminListAppApiKeys", "The app's API keys",
           "Server API keys: each logs in as its own user of type `server`.",
           ok=_list("AdminApiKey", "Oldest first.")),
    _admin("post", paths.API_KEYS, "adminCreateAppApiKey", "Create an app API key",
           body="AdminApiKeyName", examples={"example": {"name": "nightly export"}},
           ok={"201": json_content(ref("AdminApiKeyCreated"), "The key, with its secret "
                                   "(only now).")},
           errors={409: "The app has a key of that name (`APIKeyAlreadyExists`)."}),
    _admin("get", paths.API_KEY, "adminGetAppApiKey", "One of the app's API keys",
           ok={"200": json_content(ref("AdminApiKey"), "The key, without secret.")},
           errors={404: _KEY_404}),
    _admin("delete", paths.API_KEY, "adminDeleteAppApiKey", "Delete an app API key",
           "With its user and that user's sessions.", ok=_NONE, errors={404: _KEY_404}),
    *(
        _admin("put", template, f"admin{verb.title()}AppApiKey", f"{verb.title()} an app API "
               "key", "Disabling ends its sessions.", ok=_NONE, errors={404: _KEY_404})
        for verb, template in (("enable", paths.API_KEY_ENABLE),
                               ("disable", paths.API_KEY_DISABLE))
    ),
)

ADMIN_OPERATIONS: tuple[Operation, ...] = (*AUTH_OPERATIONS, *USER_OPERATIONS)
