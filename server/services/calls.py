"""Function calls from clients: ``{name, arguments, service?}`` in, canonical EJSON out.

The body is EJSON (canonical or relaxed); arguments reach the function as Python values (``int``,
``float``, ``str``, ``bool``, ``None``, ``list``, ``dict``, ``datetime`` in UTC, ``ObjectId``,
``bytes``). The first argument is a ``FunctionContext`` with the calling user and the services.

Rule: a private function answers exactly like an unknown one (404 ``FunctionNotFound``), so
clients cannot learn which private functions exist. Every failure of the function itself (it
raised, ran out of time, or returned something EJSON cannot hold) is a 400 error of the call; the
server goes on serving.

HTTP-free: ``server.routes.functions`` reads the body and sends what ``call`` returns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from bson import DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.binary import Binary
from bson.errors import BSONError

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError, bad_request
from ..functions import FunctionTimeout
from ..store.base import UserRecord
from . import users
from .context import FunctionContext, FunctionUser, Services

MAX_NAME_SHOWN = 128
MAX_DEPTH = 100
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Values with an exact EJSON form. ``json_util`` would also turn any iterable (a set, a range,
# a bytearray) into an array and write integers past 64 bits as invalid ``$numberLong`` values,
# so results are checked against this list first.
_LEAVES = (str, float, bytes, dt.datetime, ObjectId, Int64, Decimal128, Binary, Timestamp,
           Regex, re.Pattern, MinKey, MaxKey, DBRef)
_DECODE_ERRORS = (ValueError, TypeError, BSONError, RecursionError)
_ENCODE_ERRORS = (ValueError, TypeError, OverflowError, BSONError, RecursionError)


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


async def function_user(services: Services, user: UserRecord) -> FunctionUser:
    """The calling user as functions see it: ids, identities, profile data and custom data."""
    custom = await users.read_custom_data(services, user.id) or {}
    return FunctionUser(
        id=user.id,
        type=user.type,
        identities=users.profile(services, user)["identities"],
        data=users.profile_data(user),
        custom_data={k: v for k, v in custom.items() if k != "_id"},
    )


def _execution_error(message: str) -> ApiError:
    return ApiError(ErrorCode.FUNCTION_EXECUTION_ERROR, 400, message)


async def _run(services: Services, user: UserRecord, call: Call) -> Any:
    fn = services.functions.public(call.name)
    if fn is None:
        shown = call.name[:MAX_NAME_SHOWN]
        raise ApiError(ErrorCode.FUNCTION_NOT_FOUND, 404, f"function not found: '{shown}'")
    context = FunctionContext(services.settings.app_id, await function_user(services, user),
                              services)
    try:
        return await services.functions.run(fn, context, *call.arguments)
    except FunctionTimeout as exc:
        raise ApiError(ErrorCode.FUNCTION_TIME_LIMIT, 400, str(exc)) from exc
    except Exception as exc:
        raise _execution_error(str(exc) or type(exc).__name__) from exc


def check_encodable(value: Any, depth: int = 0) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` has an exact EJSON form."""
    if depth > MAX_DEPTH:
        raise ValueError("values nest too deeply")
    if value is None or isinstance(value, bool) or isinstance(value, _LEAVES):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("an integer is outside the 64-bit range")
        return
    if isinstance(value, list | tuple):
        for item in value:
            check_encodable(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("object keys must be strings")
            check_encodable(item, depth + 1)
        return
    raise TypeError(f"values of type {type(value).__name__} have no EJSON form")


async def call(services: Services, user: UserRecord, raw_body: bytes) -> str:
    """Run a client's call as ``user``; the result as canonical EJSON text.

    ```python
    text = await call(services, user, b'{"name": "translate", "arguments": ["hello", "en_fr"]}')
    assert text == '"bonjour"'
    ```
    """
    result = await _run(services, user, parse_call(raw_body))
    try:
        check_encodable(result)
    except (TypeError, ValueError) as exc:
        raise _execution_error(f"the function's result cannot be encoded as EJSON: {exc}") from exc
    try:
        return ejson.dumps_canonical(result)
    except _ENCODE_ERRORS as exc:
        raise _execution_error("the function's result cannot be encoded as EJSON") from exc
