"""The error documentation every error body links to: ``GET /docs/errors``, one entry per code.

Every error answer's ``link`` is ``<base>/docs/errors#<ErrorCode>`` (see ``server.errors``), the
way App Services links each error to a page on its own server. ``CODES`` holds one entry per
``ErrorCode``, a test checks that none is missing, and the page is rendered from it once.

The ``origin`` of a code says who else knows it: ``App Services`` codes are in realm-core's list
(``src/realm/error_codes.cpp``), so native SDKs map them to their own error types; ``Latchkey``
codes are ours, for situations App Services has no code for (native SDKs see an unknown error
with the message and status); ``client`` codes are made by our SDK and never sent.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk.errors import ErrorCode

DOCS_PATH = "/docs/errors"

APP_SERVICES, LATCHKEY, CLIENT = "App Services", "Latchkey", "client"


@dataclass(frozen=True, slots=True)
class CodeDoc:
    """What one error code means: the HTTP status it comes with, and when."""

    status: str
    meaning: str
    origin: str = APP_SERVICES


C = ErrorCode
CODES: dict[ErrorCode, CodeDoc] = {
    C.MISSING_AUTH_REQ: CodeDoc("401", "The request needs a token and carried none."),
    C.INVALID_SESSION: CodeDoc(
        "401", "The token is malformed, expired, revoked, of the wrong type, or its user is "
        "gone. Clients refresh the access token once and retry; a refresh token refused this "
        "way means logging in again."),
    C.USER_APP_DOMAIN_MISMATCH: CodeDoc("401", "The token belongs to another app."),
    C.DOMAIN_NOT_ALLOWED: CodeDoc(
        "403", "The page's origin is not in the app's allowed origins ([cors] allowed_origins)."),
    C.INVALID_PARAMETER: CodeDoc(
        "400", "The body or a parameter is malformed: not JSON, not an object, invalid Extended "
        "JSON, a field of the wrong type, text that is not Unicode, or objects and arrays "
        "nested deeper than 100 levels."),
    C.MISSING_PARAMETER: CodeDoc("400", "A required field, or the whole body, is missing."),
    C.ARGUMENTS_NOT_ALLOWED: CodeDoc("400", "The function does not take these arguments."),
    C.FUNCTION_EXECUTION_ERROR: CodeDoc(
        "400", "The function raised an error, or returned a value Extended JSON cannot hold."),
    C.NO_MATCHING_RULE: CodeDoc("403", "The app's rules do not allow this."),
    C.INTERNAL_SERVER_ERROR: CodeDoc(
        "500", "The server failed unexpectedly; its log has one line about it."),
    C.AUTH_PROVIDER_NOT_FOUND: CodeDoc("404", "The login provider is unknown or disabled."),
    C.SERVICE_NOT_FOUND: CodeDoc("404", "A function call named a service; there are none."),
    C.FUNCTION_NOT_FOUND: CodeDoc("404", "No public function has this name."),
    C.API_KEY_NOT_FOUND: CodeDoc("404", "The caller has no API key with this id."),
    C.API_KEY_ALREADY_EXISTS: CodeDoc("409", "The caller already has an API key of this name."),
    C.USER_ALREADY_CONFIRMED: CodeDoc("400", "The email address is confirmed already."),
    C.USER_NOT_FOUND: CodeDoc("404", "No user has this email address."),
    C.USER_DISABLED: CodeDoc("401", "The app's administrator disabled this user."),
    C.AUTH_ERROR: CodeDoc(
        "401", "The login was refused: a bad API key, custom token or custom function "
        "result, an unconfirmed email, or a social login that failed."),
    C.BAD_REQUEST: CodeDoc(
        "400, 403", "The request cannot be done as asked, e.g. linking an API key or confirming "
        "with an unknown email; with 403, deleting the API key that opened the calling "
        "session."),
    C.ACCOUNT_NAME_IN_USE: CodeDoc("409", "An account with this email address exists already."),
    C.INVALID_PASSWORD: CodeDoc("401", "The email or the password is wrong."),
    C.MAINTENANCE_IN_PROGRESS: CodeDoc("503", "The server is under maintenance."),
    C.USERPASS_TOKEN_INVALID: CodeDoc(
        "400", "The confirmation or reset link is invalid, expired or used already."),
    C.FUNCTION_TIME_LIMIT: CodeDoc("400", "The function ran longer than the time limit."),
    C.APP_NOT_FOUND: CodeDoc(
        "404", "The app id in the path is not the one this server runs. App Services answers "
        "this with a message and no code at all.", LATCHKEY),
    C.IDENTITY_ALREADY_LINKED: CodeDoc(
        "409", "The identity to link belongs to a user already. App Services answers 401 "
        "InvalidSession here, which makes realm-web refresh and retry without end, so Latchkey "
        "keeps a code of its own.", LATCHKEY),
    C.TOO_MANY_REQUESTS: CodeDoc(
        "429", "Too many attempts from this address or for this account; wait and try "
        "again.", LATCHKEY),
    C.REQUEST_TOO_LARGE: CodeDoc(
        "413", "The body is larger than the server accepts, or custom user data is larger than "
        "[custom_user_data] max_bytes (every access token carries it).", LATCHKEY),
    C.UNSUPPORTED_MEDIA_TYPE: CodeDoc(
        "415", "The body is not declared as application/json. Browsers send other types from "
        "any web page without asking the server first, so the server reads none of them.",
        LATCHKEY),
    C.NOT_FOUND: CodeDoc("404", "No such route.", LATCHKEY),
    C.METHOD_NOT_ALLOWED: CodeDoc(
        "405", "The route exists but not for this method; the Allow header lists the methods.",
        LATCHKEY),
    C.GROUP_NOT_FOUND: CodeDoc(
        "404", "The Admin API's group (project) id in the path is not the one this server "
        "answers for (GET /api/admin/v3.0/auth/profile names it).", LATCHKEY),
    C.PASSKEY_INVALID: CodeDoc(
        "401", "The passkey ceremony was refused: its challenge is unknown, used or expired, "
        "it came from an origin or for a relying party the app does not allow, the user was "
        "not verified where the app requires it, the signature is wrong, the passkey is "
        "unknown, or its counter went back (a cloned authenticator).", LATCHKEY),
    C.PASSKEY_NOT_FOUND: CodeDoc("404", "The caller has no passkey with this id.", LATCHKEY),
    C.LAST_IDENTITY: CodeDoc(
        "409", "This is the user's last way to log in; add another first.", LATCHKEY),
    C.SECOND_FACTOR_REQUIRED: CodeDoc(
        "401", "The password was right and the user has a second factor: the body carries "
        "mfa_token and factors; finish the login at .../auth/mfa/verify.", LATCHKEY),
    C.SECOND_FACTOR_ENROLMENT_REQUIRED: CodeDoc(
        "401", "The password was right, the app requires a second factor and the user has "
        "none: enrol one with the body's mfa_token, which finishes the login.", LATCHKEY),
    C.SECOND_FACTOR_INVALID: CodeDoc(
        "401", "The code is wrong or was used already, or the login waiting for it expired.",
        LATCHKEY),
    C.SECOND_FACTOR_EXISTS: CodeDoc(
        "409", "The user has a confirmed authenticator already; disable it first.", LATCHKEY),
    C.SECOND_FACTOR_NOT_FOUND: CodeDoc(
        "404", "The user has no authenticator (or none waiting for confirmation).", LATCHKEY),
    C.RANGE_NOT_SATISFIABLE: CodeDoc(
        "416", "The Range header of a request for a file asks for bytes the file does not "
        "have; Content-Range names the file's size.", LATCHKEY),
    C.SERVICE_UNAVAILABLE: CodeDoc(
        "503", "The server's database cannot be reached right now (PostgreSQL down, restarting "
        "or out of connections, or SQLite locked too long); retry after the Retry-After "
        "header's seconds.", LATCHKEY),
    C.NETWORK_ERROR: CodeDoc("0", "No answer arrived: the server could not be reached.", CLIENT),
    C.WINDOW_CLOSED: CodeDoc(
        "0", "The window of a redirect login closed before it finished.", CLIENT),
    C.UNKNOWN: CodeDoc("any", "The server sent a code this SDK does not know.", CLIENT),
}

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
          "line-height:1.5}table{border-collapse:collapse;width:100%}th,td{text-align:left;"
          "vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid #ddd}"
          "tr:target{background:#fff3c4}code{font-size:1.05em}")
_POLICY = ("default-src 'none'; style-src 'sha256-"
           + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
           + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _row(code: ErrorCode, doc: CodeDoc) -> str:
    name = escape(code.value)
    return (f'<tr id="{name}"><td><a href="#{name}"><code>{name}</code></a></td>'
            f"<td>{escape(doc.status)}</td><td>{escape(doc.meaning)}</td>"
            f"<td>{escape(doc.origin)}</td></tr>")


def render() -> str:
    """The page: every code with its status, meaning and origin."""
    rows = "\n".join(_row(code, CODES[code]) for code in ErrorCode)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Latchkey error codes</title><style>{_STYLE}</style></head>
<body><h1>Error codes</h1>
<p>Every error answer is JSON <code>{{"error", "error_code", "link"}}</code>: a message, one of
the codes below, and a link to its entry on this page. Codes marked App Services are the ones
MongoDB Atlas App Services sends, which native Realm SDKs know; Latchkey codes are this
server's own; client codes come from the Python SDK and are never sent.</p>
<table><thead><tr><th>Code</th><th>Status</th><th>Meaning</th><th>Origin</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


_PAGE = render().encode()


async def errors_page(request: Request) -> Response:
    """``GET /docs/errors``."""
    return Response(_PAGE, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": _POLICY, "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    })


def error_link(base: str, code: ErrorCode) -> str:
    """The ``link`` of an error body: the code's entry on this page."""
    return f"{base.rstrip('/')}{DOCS_PATH}#{code.value}"


ROUTES = [Route(DOCS_PATH, errors_page, methods=["GET", "HEAD"])]
