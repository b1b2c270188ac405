"""The wire contract's errors: ``ErrorCode`` (shared with the server) and the SDK's ``AppError``.

An error on the wire is ``{"error": <message>, "error_code": <code>, "link": <url>}`` sent with
``Content-Type: application/json``. ``AppError`` is built in exactly one place,
``AppError.from_response``, so every failed request reads the same way. A request that got no
response at all becomes ``ErrorCode.NETWORK_ERROR`` with ``status=0``, never a guessed server code.

Standard library only; the server imports ``ErrorCode`` from here.
"""

from __future__ import annotations

import json
from enum import Enum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .http import Request, Response


class ErrorCode(str, Enum):  # noqa: UP042 (str(), format() of members stay as before)
    """Error codes of the wire protocol, in the CamelCase the server sends."""

    MISSING_AUTH_REQ = "MissingAuthReq"
    INVALID_SESSION = "InvalidSession"
    USER_APP_DOMAIN_MISMATCH = "UserAppDomainMismatch"
    DOMAIN_NOT_ALLOWED = "DomainNotAllowed"
    INVALID_PARAMETER = "InvalidParameter"
    MISSING_PARAMETER = "MissingParameter"
    ARGUMENTS_NOT_ALLOWED = "ArgumentsNotAllowed"
    FUNCTION_EXECUTION_ERROR = "FunctionExecutionError"
    NO_MATCHING_RULE = "NoMatchingRule"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    AUTH_PROVIDER_NOT_FOUND = "AuthProviderNotFound"
    SERVICE_NOT_FOUND = "ServiceNotFound"
    FUNCTION_NOT_FOUND = "FunctionNotFound"
    API_KEY_NOT_FOUND = "APIKeyNotFound"
    API_KEY_ALREADY_EXISTS = "APIKeyAlreadyExists"
    USER_ALREADY_CONFIRMED = "UserAlreadyConfirmed"
    USER_NOT_FOUND = "UserNotFound"
    USER_DISABLED = "UserDisabled"
    AUTH_ERROR = "AuthError"
    BAD_REQUEST = "BadRequest"
    ACCOUNT_NAME_IN_USE = "AccountNameInUse"
    INVALID_PASSWORD = "InvalidPassword"
    MAINTENANCE_IN_PROGRESS = "MaintenanceInProgress"
    USERPASS_TOKEN_INVALID = "UserpassTokenInvalid"
    # Ours, not App Services': the protocol has no code for these situations.
    APP_NOT_FOUND = "AppNotFound"
    IDENTITY_ALREADY_LINKED = "IdentityAlreadyLinked"
    TOO_MANY_REQUESTS = "TooManyRequests"
    REQUEST_TOO_LARGE = "RequestTooLarge"
    NOT_FOUND = "NotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    FUNCTION_TIME_LIMIT = "ExecutionTimeLimitExceeded"
    UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
    # Ours: the Admin API's group (project) id in the path is not this server's.
    GROUP_NOT_FOUND = "GroupNotFound"
    # Ours: passkeys and second factors (issue 14).
    PASSKEY_INVALID = "PasskeyInvalid"
    PASSKEY_NOT_FOUND = "PasskeyNotFound"
    LAST_IDENTITY = "LastIdentity"
    SECOND_FACTOR_REQUIRED = "SecondFactorRequired"
    SECOND_FACTOR_ENROLMENT_REQUIRED = "SecondFactorEnrolmentRequired"
    SECOND_FACTOR_INVALID = "SecondFactorInvalid"
    SECOND_FACTOR_EXISTS = "SecondFactorExists"
    SECOND_FACTOR_NOT_FOUND = "SecondFactorNotFound"
    # Ours: a file route's Range header asks for bytes the file does not have.
    RANGE_NOT_SATISFIABLE = "RangeNotSatisfiable"
    # Ours: the server's database cannot be reached right now (503 with Retry-After).
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    # Client-only: the request never got a response.
    NETWORK_ERROR = "NetworkError"
    # Client-only: the window of a redirect login closed (or never opened) before a result.
    WINDOW_CLOSED = "WindowClosed"
    # Client-only: the server answered with a code this SDK does not know.
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, value: object) -> ErrorCode:
        """The member for a wire value, or ``ErrorCode.UNKNOWN``."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class AppError(Exception):
    """A request to the server failed: the server said no, or no answer arrived.

    ```python
    try:
        await app.log_in(Credentials.email_password("a@example.com", "wrong"))
    except AppError as err:
        assert err.code is ErrorCode.INVALID_PASSWORD and err.status == 401
    ```
    """

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode,
        status: int = 0,
        method: str = "",
        url: str = "",
        link: str | None = None,
        error: str = "",
        wire_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.method = method
        self.url = url
        self.link = link
        #: The server's own ``error`` text, without the request prefix.
        self.error = error
        #: The ``error_code`` string as sent, also when ``code`` is ``UNKNOWN``.
        self.wire_code = wire_code if wire_code is not None else code.value

    @classmethod
    def from_response(cls, request: Request, response: Response) -> AppError:
        """The error for a non-2xx response, in realm-web's message format."""
        body: Any = None
        if response.content_type.startswith("application/json") and response.body:
            try:
                body = json.loads(response.body)
            except ValueError:
                body = None
        error = ""
        wire_code: str | None = None
        link: str | None = None
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            raw_code = body.get("error_code")
            wire_code = str(raw_code) if raw_code is not None else None
            raw_link = body.get("link")
            link = str(raw_link) if raw_link else None
        code = ErrorCode.parse(wire_code) if wire_code else ErrorCode.UNKNOWN
        url = _redact(request.url)
        text = _status_text(response.status)
        status = f"{response.status} {text}".strip()
        message = f"Request failed ({request.method} {url}): {error} (status {status})"
        return cls(
            message,
            code=code,
            status=response.status,
            method=request.method,
            url=url,
            link=link,
            error=error,
            wire_code=wire_code or "",
        )

    @classmethod
    def bad_response(cls, request: Request, response: Response, reason: str) -> AppError:
        """The error for a 2xx response the SDK cannot use (wrong content type, missing fields)."""
        url = _redact(request.url)
        status = f"{response.status} {_status_text(response.status)}".strip()
        message = f"Request failed ({request.method} {url}): {reason} (status {status})"
        return cls(
            message,
            code=ErrorCode.UNKNOWN,
            status=response.status,
            method=request.method,
            url=url,
            error=reason,
            wire_code="",
        )

    @classmethod
    def network(cls, request: Request, reason: str) -> AppError:
        """The error for a request that got no response at all."""
        url = _redact(request.url)
        message = f"Request failed ({request.method} {url}): {reason} (network error)"
        return cls(
            message,
            code=ErrorCode.NETWORK_ERROR,
            method=request.method,
            url=url,
            error=reason,
        )


    @classmethod
    def redirect(cls, error: str, wire_code: str | None = None) -> AppError:
        """The error of a redirect login: the server's ``_baas_error`` (with its code, when it
        sent one), or what went wrong on the client, such as a closed window."""
        code = ErrorCode.parse(wire_code) if wire_code else ErrorCode.AUTH_ERROR
        return cls(f"Redirect login failed: {error}", code=code, error=error,
                   wire_code=wire_code or code.value)


def _redact(url: str) -> str:
    # Our URLs never carry secrets, but a caller-built URL might; keep errors free of query values.
    head, sep, _query = url.partition("?")
    return f"{head}?…" if sep else head
