"""Function calls from clients: ``{name, arguments, service?}`` in, canonical EJSON out.

The body is EJSON (canonical or relaxed); arguments reach the function as Python and BSON values
with their types kept (``int``, ``bson.Int64`` for ``$numberLong``, ``float``, ``str``, ``bool``,
``None``, ``list``, ``dict``, ``datetime`` in UTC, ``ObjectId``, ``Decimal128``, ``bytes`` for
binary subtype 0 and ``bson.Binary`` for the others, UUIDs included). The first argument is the
context with the calling user (``server.runtime`` runs the function in a worker process).

Rule: a private function answers exactly like an unknown one (404 ``FunctionNotFound``), so
clients cannot learn which private functions exist. Every failure of the function itself (it
raised, ran out of time or memory, ended its process, or returned something EJSON cannot hold
or too big) is a 400 error of the call; the server goes on serving.

HTTP-free: ``server.routes.functions`` reads the body and sends what ``call`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson.errors import BSONError

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError, bad_request
from ..observability import metrics
from ..runtime import FunctionError, FunctionNotFound, FunctionTimeout
from ..store.base import UserRecord
from . import users
from .context import FunctionContext, FunctionUser, Services

MAX_NAME_SHOWN = 128
_DECODE_ERRORS = (ValueError, TypeError, BSONError, RecursionError)


@dataclass(frozen=True, slots=True)
class Call:
    """A decoded call: the function's name and its arguments as Python values."""

    name: str
    arguments: list[Any]


def _invalid() -> ApiError:
    return bad_request("invalid function call request", ErrorCode.INVALID_PARAMETER)


def parse_call(raw: bytes) -> Call:
    """The call in a request body; 400 ``invalid function call request`` when it is not one."""
    try:
        body = ejson.loads(raw) if raw.strip() else None
    except _DECODE_ERRORS as exc:
        raise _invalid() from exc
    if not isinstance(body, dict):
        raise _invalid()
    name, arguments = body.get("name"), body.get("arguments", [])
    if not isinstance(name, str) or not name or not isinstance(arguments, list):
        raise _invalid()
    service = body.get("service")
    if service is not None:
        shown = str(service)[:MAX_NAME_SHOWN]
        raise ApiError(ErrorCode.SERVICE_NOT_FOUND, 404, f"service not found: '{shown}'")
    return Call(name, ejson.to_python(arguments))


def function_user(services: Services, user: UserRecord) -> FunctionUser:
    """The calling user as functions see it: ids, identities and profile data."""
    return FunctionUser(
        id=user.id,
        type=user.type,
        identities=users.profile(services, user)["identities"],
        data=users.profile_data(user),
    )


def call_error(exc: FunctionError) -> ApiError:
    """The API error for a failed call: time limit, unknown function, or the function's error."""
    if isinstance(exc, FunctionTimeout):
        return ApiError(ErrorCode.FUNCTION_TIME_LIMIT, 400, str(exc))
    if isinstance(exc, FunctionNotFound):
        return ApiError(ErrorCode.FUNCTION_NOT_FOUND, 404, str(exc))
    return ApiError(ErrorCode.FUNCTION_EXECUTION_ERROR, 400, str(exc))


async def call(services: Services, user: UserRecord, raw_body: bytes,
               request_fields: dict[str, Any] | None = None) -> str:
    """Run a client's call as ``user``; the result as canonical EJSON text.

    ```python
    text = await call(services, user, b'{"name": "translate", "arguments": ["hello", "en_fr"]}')
    assert text == '"bonjour"'
    ```
    """
    request = parse_call(raw_body)
    context = FunctionContext(services.settings.app_id, function_user(services, user), services,
                              request_fields)
    try:
        result = await services.functions.call(request.name, request.arguments, context)
    except FunctionError as exc:
        metrics.function_call("timeout" if isinstance(exc, FunctionTimeout) else
                              "not_found" if isinstance(exc, FunctionNotFound) else "error")
        raise call_error(exc) from exc
    metrics.function_call("ok")
    return result
