"""The table of every HTTP operation Latchkey serves outside the front end, one ``Operation``
per route and method, from which ``server.openapi.document`` builds the OpenAPI paths.

Rule 1: paths come from ``app.sdk.routes``, the wire contract the routes are built from, so a
path cannot be spelt differently here and there.
Rule 2: an operation lists the error statuses its code raises (each with what it means there);
every one of them is the shared error response. Statuses nobody planned (a provider's server
failing: 502) fall under ``default``, the same error response.
Rule 3: every operation that reads a JSON body documents 413 (too large) and 415 (not
``application/json``).

``tests/server/test_openapi.py`` checks this table against the Starlette route table both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.sdk import routes as paths

from ..error_docs import DOCS_PATH as ERRORS_PATH
from .schemas import ref

ACCESS = "accessToken"
REFRESH = "refreshToken"
#: The login route: no token, or the access token of the user to link to (``link=true``).
OPTIONAL_ACCESS = "optionalAccessToken"

#: This document and its page (``server.openapi.routes``).
OPENAPI_PATH = "/openapi.json"
DOCS_PATH = "/docs"

_APP = "{app_id}"
_KEY = "{key_id}"
_PROVIDER = "{provider}"

TAGS = [
    {"name": "discovery", "description": "Where the API lives and what it offers."},
    {"name": "login", "description": "Logging in and linking identities, every provider."},
    {"name": "email/password", "description": "Registration, confirmation and password "
     "reset of the `local-userpass` provider. Mail-sending operations are rate limited per "
     "address."},
    {"name": "social", "description": "The browser redirect flow of social login."},
    {"name": "session", "description": "The logged-in user: profile, refresh, logout, "
     "deletion."},
    {"name": "api keys", "description": "A user's own API keys (with the refresh token)."},
    {"name": "functions", "description": "Calling the app's server functions."},
    {"name": "reference", "description": "This document and its page."},
]

NO_CONTENT = {"description": "Done; no body and no `Content-Type`."}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it takes, what it answers and how it fails."""

    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    description: str = ""
    security: str | None = None
    query: tuple[dict[str, Any], ...] = ()
    #: The name of the JSON body's schema in ``components.schemas``.
    body: str | None = None
    #: Example JSON bodies by name (the fuzz sends each of them too).
    examples: dict[str, Any] = field(default_factory=dict)
    #: A non-JSON body: media type to schema.
    other_body: dict[str, dict[str, Any]] = field(default_factory=dict)
    ok: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)


def _query(name: str, description: str, schema: dict[str, Any] | None = None, *,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": schema or {"type": "string"}, "description": description}


_BODY_ERRORS = {
    400: "The body is not a JSON object, or a field is missing or invalid "
         "(`MissingParameter`, `InvalidParameter`, `BadRequest`).",
    413: "The body is larger than `[security] max_body_bytes` (`RequestTooLarge`).",
    415: "The body is not `application/json` (`UnsupportedMediaType`).",
}
_APP_404 = "The app id is not this server's (`AppNotFound`)"
_ACCESS_401 = ("No bearer token (`MissingAuthReq`), an unusable one (`InvalidSession`), or "
               "its user is disabled (`UserDisabled`).")
_REFRESH_401 = ("No bearer token (`MissingAuthReq`), or not the refresh token of a live "
                "session (`InvalidSession`), or its user is disabled (`UserDisabled`).")
_BINDING = {"schema": {"type": "string"},
            "description": "The cookie that binds the flow to this browser (HttpOnly, sent "
            "back only to the callback path)."}
_LOGIN_429 = ("Too many login attempts from this address or on this account "
              "(`TooManyRequests`).")
_MAIL_429 = "Too many requests from this address or mails to this email (`TooManyRequests`)."


_ADA = "ada@example.com"
_PAIR = {"token": "(the 64 hex digits of the link)", "tokenId": "65a0c0ffee0000000000aaaa"}


def _userpass(action: str, op_id: str, summary: str, body: str, errors: dict[int, str],
              example: dict[str, Any], status: str = "204",
              description: str = "") -> Operation:
    ok = {status: {"description": "Done; no body and no `Content-Type`."}}
    return Operation("post", paths.userpass(_APP, action), op_id, "email/password", summary,
                     description, body=body, examples={"example": example}, ok=ok,
                     errors={**_BODY_ERRORS,
                             404: _APP_404 + ", or the provider is off (`AuthProviderNotFound`).",
                             **errors})


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get", paths.location(_APP), "location", "discovery", "Where the app's API lives",
        "`hostname` is this server (its `public_url`, else the address the request came to).",
        ok={"200": json_content(ref("Location"), "The location.")},
        errors={404: _APP_404 + "."},
    ),
    Operation(
        "get", paths.providers(_APP), "listProviders", "discovery",
        "The enabled login providers",
        "Latchkey's own (App Services has no such client route): what a login page can offer.",
        ok={"200": json_content({"type": "array", "items": ref("Provider")}, "The providers.")},
        errors={404: _APP_404 + "."},
    ),
    Operation(
        "post", paths.login(_APP, _PROVIDER), "logIn", "login", "Log in, or link an identity",
        "Logs in with the credentials of the provider in the path and opens a session. With "
        "`link=true` and the access token of a user, adds the proven identity to that user "
        "instead and answers a new access token without a refresh token.",
        security=OPTIONAL_ACCESS, body="LoginBody",
        examples={
            "anonymous": {"options": {"device": {"platform": "chrome",
                                                 "platformVersion": "130.0.0",
                                                 "sdkVersion": "2.0.1"}}},
            "emailPassword": {"username": _ADA, "password": "correct horse"},
            "apiKey": {"key": "(the 64-character secret)"},
            "customToken": {"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln"},
            "googleIdToken": {"id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln"},
        },
        query=(_query("link", "`true` links the identity to the caller's user.",
                      {"type": "boolean"}),),
        ok={"200": json_content(ref("LoginResponse"), "Logged in (or linked).")},
        errors={**_BODY_ERRORS,
                401: "The credentials are refused (`InvalidPassword` with the text "
                     "`unauthorized`, `AuthError`), the user is disabled (`UserDisabled`), or "
                     "the link's access token is unusable (`MissingAuthReq`, `InvalidSession`). "
                     "Latchkey's addition: a user with a second factor gets "
                     "`SecondFactorRequired` (or `SecondFactorEnrolmentRequired`) with an "
                     "`mfa_token` instead of tokens; a refused passkey, `PasskeyInvalid`.",
                404: _APP_404 + ", or no such enabled provider (`AuthProviderNotFound`), or "
                     "the custom-function provider's function is missing (`FunctionNotFound`).",
                409: "Linking an identity that another user has (`IdentityAlreadyLinked`).",
                429: _LOGIN_429},
    ),
    Operation(
        "get", paths.login(_APP, _PROVIDER), "startRedirectLogin", "social",
        "Start a social login in the browser",
        "Sends the browser to the social provider; the provider comes back to "
        "`/api/client/v2.0/auth/callback`. realm-web's link request asks with "
        "`providerRedirectHeader=true` and gets the provider's URL in `X-BAAS-Location` "
        "instead of a redirect. Providers other than social ones answer 405 (they log in "
        "with POST).",
        security=OPTIONAL_ACCESS,
        query=(
            _query("state", "The client's state; returned in `_baas_state`.",
                   {"type": "string", "pattern": "^[A-Za-z0-9._~-]{1,128}$"}, required=True),
            _query("redirect", "The app page to return to; must be on `[oauth] "
                   "redirect_uris`.", required=True),
            _query("device", "Base64 of the device JSON (`deviceId` as hex)."),
            _query("link", "`true` links the social identity to the caller's user (needs the "
                   "access token).", {"type": "boolean"}),
            _query("providerRedirectHeader", "`true`: answer 200 with `X-BAAS-Location` "
                   "instead of 302.", {"type": "boolean"}),
        ),
        ok={
            "200": {"description": "With `providerRedirectHeader=true`: the provider's "
                    "authorization URL in a header.",
                    "headers": {"X-BAAS-Location": {"schema": {"type": "string"},
                                                    "description": "The provider's URL."},
                                "Set-Cookie": _BINDING}},
            "302": {"description": "To the provider's authorization page.",
                    "headers": {"Location": {"schema": {"type": "string"}},
                                "Set-Cookie": _BINDING}},
        },
        errors={400: "A missing or bad `state`, or a `redirect` not on the allowlist "
                     "(`InvalidParameter`).",
                401: "Linking without a usable access token (`MissingAuthReq`, "
                     "`InvalidSession`).",
                404: _APP_404 + ", or no such enabled provider (`AuthProviderNotFound`).",
                405: "Not a social provider: it logs in with POST (`MethodNotAllowed`, "
                     "`Allow: POST`).",
                429: _LOGIN_429},
    ),
    *(
        Operation(
            method, paths.oauth_callback(), f"oauthCallback{method.title()}", "social",
            "Where social providers send the browser back",
            "Finishes the flow that `GET .../login` started and sends the browser to the "
            "app's `redirect` page with the `_baas_*` fragment (`_baas_ua` on success, "
            "`_baas_error` on failure). Register this URL at the provider. Apple posts the "
            "answer as a form (`response_mode=form_post`).",
            query=(_query("state", "Latchkey's state for the flow (single use, 10 minutes)."),
                   _query("code", "The provider's authorization code."),
                   _query("error", "The provider's error, if the person refused.")),
            other_body=({"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {"state": {"type": "string"},
                                                 "code": {"type": "string"}}}}}
                        if method == "post" else {}),
            ok={"303": {"description": "To the app's page, with the result in the fragment.",
                        "headers": {"Location": {"schema": {"type": "string"}},
                                    "Set-Cookie": {"schema": {"type": "string"},
                                                   "description": "Clears the flow's binding "
                                                   "cookie."}}}},
            errors={400: "An unknown, used or expired `state` (`InvalidParameter`): without "
                         "it there is no safe page to return to.",
                    429: _LOGIN_429,
                    **({413: _BODY_ERRORS[413]} if method == "post" else {})},
        )
        for method in ("get", "post")
    ),
    _userpass(paths.USERPASS_REGISTER, "registerUser", "Register an email/password account",
              "RegisterBody", {409: "The email has an account (`AccountNameInUse`).",
                               429: "Too many registrations from this address "
                                    "(`TooManyRequests`)."},
              {"email": _ADA, "password": "correct horse"}, "201",
              "Confirmed at once, by email or by the app's function, as the config "
              "says."),
    _userpass(paths.USERPASS_CONFIRM, "confirmUser", "Confirm an account with a mailed pair",
              "TokenBody", {}, _PAIR),
    _userpass(paths.USERPASS_CONFIRM_SEND, "resendConfirmationEmail",
              "Mail the confirmation link again", "EmailBody",
              {429: _MAIL_429}, {"email": _ADA}),
    _userpass(paths.USERPASS_CONFIRM_CALL, "retryCustomConfirmation",
              "Run the app's confirmation function again", "EmailBody",
              {429: _MAIL_429}, {"email": _ADA}),
    _userpass(paths.USERPASS_RESET, "resetPassword", "Set a new password with a mailed pair",
              "ResetBody", {}, {**_PAIR, "password": "a new passphrase"}),
    _userpass(paths.USERPASS_RESET_SEND, "sendResetPasswordEmail", "Mail a reset link",
              "EmailBody", {429: _MAIL_429}, {"email": _ADA}),
    _userpass(paths.USERPASS_RESET_CALL, "callResetPasswordFunction",
              "Reset the password through the app's reset function", "ResetCallBody",
              {429: _MAIL_429},
              {"email": _ADA, "password": "a new passphrase", "arguments": ["let me in"]}),
    Operation(
        "get", paths.profile(), "getProfile", "session", "The caller's profile",
        security=ACCESS, ok={"200": json_content(ref("Profile"), "The profile.")},
        errors={401: _ACCESS_401},
    ),
    Operation(
        "post", paths.session(), "refreshAccessToken", "session", "A new access token",
        "The refresh token is not rotated.", security=REFRESH,
        ok={"201": json_content(ref("AccessToken"), "A fresh access token.")},
        errors={401: _REFRESH_401},
    ),
    Operation(
        "delete", paths.session(), "logOut", "session", "Log out: end the session",
        "An expired refresh token still ends its session.", security=REFRESH,
        ok={"204": NO_CONTENT},
        errors={401: "No bearer token (`MissingAuthReq`), or no such session: the text "
                     "contains `failed to find refresh token` (`InvalidSession`)."},
    ),
    Operation(
        "delete", paths.delete_user(), "deleteUser", "session", "Delete the caller's user",
        "The user goes with its identities, sessions and API keys.", security=ACCESS,
        ok={"204": NO_CONTENT},
        errors={401: _ACCESS_401},
    ),
    Operation(
        "post", paths.api_keys(), "createApiKey", "api keys", "Create an API key",
        "Anonymous users cannot have keys; at most 20 per user.", security=REFRESH,
        body="ApiKeyName", examples={"example": {"name": "nightly backup"}},
        ok={"201": json_content(ref("ApiKeyCreated"), "The key, with its secret (only now).")},
        errors={**_BODY_ERRORS, 401: _REFRESH_401,
                409: "The user has a key of that name (`APIKeyAlreadyExists`)."},
    ),
    Operation(
        "get", paths.api_keys(), "listApiKeys", "api keys", "The caller's API keys",
        security=REFRESH,
        ok={"200": json_content({"type": "array", "items": ref("ApiKey")}, "Oldest first.")},
        errors={401: _REFRESH_401},
    ),
    Operation(
        "get", paths.api_key(_KEY), "getApiKey", "api keys", "One of the caller's API keys",
        security=REFRESH, ok={"200": json_content(ref("ApiKey"), "The key, without secret.")},
        errors={401: _REFRESH_401,
                404: "Not one of the caller's keys (`APIKeyNotFound`)."},
    ),
    Operation(
        "delete", paths.api_key(_KEY), "deleteApiKey", "api keys", "Delete an API key",
        security=REFRESH, ok={"204": NO_CONTENT},
        errors={401: _REFRESH_401,
                403: "The calling session was opened with this key.",
                404: "Not one of the caller's keys (`APIKeyNotFound`)."},
    ),
    *(
        Operation(
            "put", builder(_KEY), f"{verb}ApiKey", "api keys", f"{verb.title()} an API key",
            "Idempotent.", security=REFRESH, ok={"204": NO_CONTENT},
            errors={401: _REFRESH_401, 404: "Not one of the caller's keys (`APIKeyNotFound`)."},
        )
        for verb, builder in (("enable", paths.api_key_enable),
                              ("disable", paths.api_key_disable))
    ),
    Operation(
        "post", paths.functions_call(_APP), "callFunction", "functions",
        "Call a server function",
        "Runs a public function of the app as the caller and answers its result as "
        "canonical EJSON with `Content-Type: application/json`.",
        security=ACCESS, body="FunctionCall",
        examples={"translate": {"name": "translate", "arguments": ["hello", "en_fr"]},
                  "noArguments": {"name": "whoami", "arguments": []}},
        ok={"200": json_content(ref("EJSON"), "The function's result.")},
        errors={**_BODY_ERRORS,
                400: "Not a call (`InvalidParameter`: `invalid function call request`), or "
                     "the function failed (`FunctionExecutionError`) or ran out of time "
                     "(`ExecutionTimeLimitExceeded`).",
                401: _ACCESS_401,
                404: _APP_404 + ", or no such public function (`FunctionNotFound`), or a "
                     "`service` (`ServiceNotFound`)."},
    ),
    Operation(
        "get", paths.functions_call(_APP), "callFunctionStreaming", "functions",
        "Call a server function, streaming (realm-web's callFunctionStreaming)",
        "The call body `{name, arguments}` as base64 JSON in `baas_request`; the result is one "
        "Server-Sent Event, `data: <canonical EJSON>`. The token is read from the "
        "Authorization header only (not realm-core's `baas_at` query parameter, which would "
        "put it in URLs and logs).",
        security=ACCESS,
        query=(_query("baas_request", "base64 of the call's JSON body.", required=True),),
        ok={"200": {"description": "One event with the function's result.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
        errors={400: "No or bad `baas_request` (`MissingParameter`, `InvalidParameter`), or the "
                     "function failed (`FunctionExecutionError`, `ExecutionTimeLimitExceeded`).",
                401: _ACCESS_401,
                404: _APP_404 + ", or no such public function (`FunctionNotFound`).",
                413: "`baas_request` is larger than `[security] max_body_bytes`."},
    ),
    Operation(
        "get", OPENAPI_PATH, "openapi", "reference", "This document",
        "OpenAPI 3.1, with this server's address in `servers`.",
        ok={"200": json_content({"type": "object"}, "The OpenAPI document.")},
    ),
    Operation(
        "get", ERRORS_PATH, "errorCodes", "reference", "The error codes",
        "Every `error_code` with its status and when it comes; each error's `link` points at "
        "its entry here.",
        ok={"200": {"description": "The page.",
                    "content": {"text/html": {"schema": {"type": "string"}}}}},
    ),
    Operation(
        "get", DOCS_PATH, "docs", "reference", "This document as a page",
        "Plain HTML made by the server, with no script and nothing from another site.",
        ok={"200": {"description": "The page.",
                    "content": {"text/html": {"schema": {"type": "string"}}}}},
    ),
)

# The Admin API's operations live in their own module, which uses the helpers above.
from .admin import ADMIN_OPERATIONS, ADMIN_TAGS  # noqa: E402

# Latchkey's additions for running in production and users' own sessions, kept in their own
# module; it imports this one, so it comes last.
from .ops_operations import OPS_OPERATIONS, OPS_TAGS  # noqa: E402

OPERATIONS = (*OPERATIONS, *ADMIN_OPERATIONS, *OPS_OPERATIONS)
TAGS += ADMIN_TAGS
# Passkeys and second factors (issue 14), in a module of their own.
from .factor_operations import FACTOR_OPERATIONS, FACTOR_TAGS  # noqa: E402

TAGS += FACTOR_TAGS
OPERATIONS += FACTOR_OPERATIONS
TAGS += OPS_TAGS
